/**
 * Which addresses a CIMD fetch may connect to. Each row is a target an SSRF attacker would
 * pick (or a public address that must keep working); a wrong row is a hole or an outage.
 */
import { describe, expect, it } from 'vitest';
import { classifyAddress, isAllowedAddress } from '../../../lambda/oauth-proxy/ssrf-address';

describe('classifyAddress refuses', () => {
  it.each([
    ['10.0.0.1', 'private 10/8'],
    ['172.16.0.1', 'private 172.16/12, low end'],
    ['172.31.255.254', 'private 172.16/12, high end'],
    ['192.168.1.1', 'private 192.168/16'],
    ['169.254.169.254', 'the instance metadata service (link-local)'],
    ['169.254.170.2', 'the ECS task metadata endpoint (link-local)'],
    ['0.0.0.0', 'unspecified, which reaches the local host on Linux'],
    ['0.1.2.3', '"this network" 0/8'],
    ['100.64.0.1', 'CGNAT 100.64/10'],
    ['100.127.255.254', 'CGNAT, high end'],
    ['192.0.0.170', 'IETF protocol assignments (NAT64 discovery)'],
    ['192.0.2.1', 'TEST-NET-1'],
    ['198.18.0.1', 'benchmarking 198.18/15'],
    ['198.51.100.1', 'TEST-NET-2'],
    ['203.0.113.1', 'TEST-NET-3'],
    ['192.88.99.1', '6to4 relay anycast'],
    ['224.0.0.251', 'multicast (mDNS)'],
    ['239.255.255.250', 'multicast (SSDP)'],
    ['240.0.0.1', 'reserved 240/4'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'IPv6 unspecified'],
    ['fe80::1', 'IPv6 link-local'],
    ['fe80::1%eth0', 'IPv6 link-local with a zone'],
    ['fec0::1', 'IPv6 site-local (deprecated)'],
    ['fc00::1', 'IPv6 unique-local fc00::/7'],
    ['fd00:ec2::254', 'the IPv6 instance metadata service (unique-local)'],
    ['ff02::1', 'IPv6 multicast'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped metadata service, hex spelling'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata service, dotted spelling'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of the metadata service'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['64:ff9b:1::a00:1', 'local-use NAT64 prefix'],
    ['2002:a00:1::1', '6to4 of a private address'],
    ['2002:7f00:1::1', '6to4 of loopback'],
    ['::10.0.0.1', 'IPv4-compatible (deprecated) form'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['100::1', 'IPv6 discard-only'],
    ['2001::1', 'Teredo'],
    ['2001:db8::1', 'IPv6 documentation'],
    ['3fff::1', 'IPv6 documentation (RFC 9637)'],
    ['5f00::1', 'SRv6 SIDs, outside global unicast'],
  ])('%s (%s)', (address) => {
    // Act + Assess
    expect(classifyAddress(address)).toBe('non-public');
    expect(isAllowedAddress(address)).toBe(false);
    expect(isAllowedAddress(address, true)).toBe(false);
  });
});

describe('classifyAddress keeps loopback apart', () => {
  it.each([['127.0.0.1'], ['127.255.255.254'], ['::1'], ['::ffff:127.0.0.1'], ['::ffff:7f00:1']])(
    '%s is loopback: refused in AWS, admitted only in local mode',
    (address) => {
      // Act + Assess
      expect(classifyAddress(address)).toBe('loopback');
      expect(isAllowedAddress(address)).toBe(false);
      expect(isAllowedAddress(address, true)).toBe(true);
    },
  );
});

describe('classifyAddress admits', () => {
  it.each([
    ['8.8.8.8'],
    ['1.1.1.1'],
    ['172.32.0.1'],
    ['100.128.0.1'],
    ['11.0.0.1'],
    ['2606:4700:4700::1111'],
    ['2001:4860:4860::8888'],
    ['::ffff:8.8.8.8'],
    ['64:ff9b::808:808'],
    ['2002:808:808::1'],
  ])('public address %s', (address) => {
    // Act + Assess
    expect(classifyAddress(address)).toBe('public');
    expect(isAllowedAddress(address)).toBe(true);
  });
});

describe('classifyAddress calls', () => {
  it.each([['1.2.3'], ['example.com'], [''], ['1.2.3.4.5'], ['gggg::1']])(
    '%j invalid, which is never allowed',
    (address) => {
      // Act + Assess
      expect(classifyAddress(address)).toBe('invalid');
      expect(isAllowedAddress(address, true)).toBe(false);
    },
  );
});
