/**
 * Which IP addresses a server-side fetch of a caller-named URL may connect to: public unicast
 * only. The fetch of a Client ID Metadata Document is made on behalf of whoever sent
 * `client_id=<url>`, so every address here is a target an anonymous caller chose.
 *
 * Refused: private (RFC 1918), loopback (in Lambda the Runtime API listens on 127.0.0.1:9001),
 * link-local (169.254.169.254 is the instance metadata service on EC2 and in some VPC setups),
 * unspecified (0.0.0.0 reaches the local host on Linux), CGNAT (100.64.0.0/10, used inside
 * AWS for internal endpoints), multicast, documentation, benchmarking and reserved ranges,
 * IPv6 unique-local, link-local and site-local, and every IPv6 form that embeds an IPv4
 * address (IPv4-mapped, NAT64, 6to4) unless the embedded address is itself public.
 *
 * IPv6 is judged by allow-list: only global unicast (2000::/3) can pass, minus the special
 * ranges inside it. A range unknown to this list is therefore refused, not admitted.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Why an address was judged: `public`, or the class that refuses it. */
export type AddressClass = 'public' | 'loopback' | 'non-public' | 'invalid';

/** IPv4 ranges that are not public unicast (IANA special-purpose registry, RFC 6890). */
const NON_PUBLIC_V4: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network", incl. 0.0.0.0
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (CGNAT)
  ['169.254.0.0', 16], // link-local, incl. 169.254.169.254 (instance metadata)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. 255.255.255.255
];
const LOOPBACK_V4: readonly [string, number] = ['127.0.0.0', 8];

/** Special-purpose ranges inside 2000::/3 (IANA IPv6 special-purpose registry). */
const NON_PUBLIC_V6_IN_GLOBAL: readonly [string, number][] = [
  ['2001::', 23], // IETF protocol assignments, incl. Teredo 2001::/32 and ORCHID
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
];

function blockList(ranges: readonly (readonly [string, number])[], type: 'ipv4' | 'ipv6') {
  const list = new BlockList();
  for (const [network, prefix] of ranges) list.addSubnet(network, prefix, type);
  return list;
}

const nonPublicV4 = blockList(NON_PUBLIC_V4, 'ipv4');
const loopbackV4 = blockList([LOOPBACK_V4], 'ipv4');
const globalUnicastV6 = blockList([['2000::', 3]], 'ipv6');
const nonPublicV6 = blockList(NON_PUBLIC_V6_IN_GLOBAL, 'ipv6');

function classifyV4(address: string): AddressClass {
  if (loopbackV4.check(address, 'ipv4')) return 'loopback';
  return nonPublicV4.check(address, 'ipv4') ? 'non-public' : 'public';
}

/**
 * The 8 groups of an IPv6 address as numbers, or undefined if it is not one. The URL parser
 * writes the address in its one canonical form (hex groups, at most one `::`, no dotted quad),
 * which leaves only the `::` to expand.
 */
function ipv6Groups(address: string): number[] | undefined {
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const parse = (part: string | undefined): number[] =>
    part === undefined || part === ''
      ? []
      : part.split(':').map((group) => Number.parseInt(group, 16));
  const [head, tail] = canonical.split('::');
  const high = parse(head);
  const low = parse(tail);
  return [...high, ...new Array<number>(8 - high.length - low.length).fill(0), ...low];
}

function v4FromGroups(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

function classifyV6(address: string): AddressClass {
  // A zone index (fe80::1%eth0) only ever names a link-local or otherwise local address.
  if (address.includes('%')) return 'non-public';
  const groups = ipv6Groups(address);
  if (groups === undefined) return 'invalid';
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (upperZero && g5 === 0 && g6 === 0 && g7 === 1) return 'loopback'; // ::1
  // Forms that carry an IPv4 address: judged by the address they carry.
  if (upperZero && g5 === 0xffff) return classifyV4(v4FromGroups(g6, g7)); // ::ffff:0:0/96
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return classifyV4(v4FromGroups(g6, g7)) === 'public' ? 'public' : 'non-public'; // NAT64
  }
  if (g0 === 0x2002) {
    return classifyV4(v4FromGroups(g1, g2)) === 'public' ? 'public' : 'non-public'; // 6to4
  }
  if (!globalUnicastV6.check(address, 'ipv6')) return 'non-public';
  return nonPublicV6.check(address, 'ipv6') ? 'non-public' : 'public';
}

/**
 * Classify an IP address (no brackets) for an outbound fetch.
 * `loopback` is separate so that local mode can admit it and nothing else.
 */
export function classifyAddress(address: string): AddressClass {
  if (isIPv4(address)) return classifyV4(address);
  if (isIPv6(address) || address.includes('%')) return classifyV6(address);
  return 'invalid';
}

/**
 * Whether a fetch may connect to `address`: public unicast, or loopback when `allowLoopback`
 * (local mode only: the document is served by a test or the developer's own machine).
 */
export function isAllowedAddress(address: string, allowLoopback = false): boolean {
  const kind = classifyAddress(address);
  return kind === 'public' || (allowLoopback && kind === 'loopback');
}
