/**
 * Who may talk to the local server: the `Host` names it answers to and the browser origins it
 * lets call `/mcp`. A server on loopback is reachable from any web page the developer opens,
 * and DNS rebinding turns `evil.example` into 127.0.0.1: so every request must name this server
 * in its `Host` (the page's own host name travels there), and a browser origin is allowed only
 * if it is this server's or one the developer listed. Pure functions.
 */
import { allowedOriginProblem } from '../../lambda/shared/cors';
import { UsageError } from '../cli/common';

/** The loopback names a browser may use for this machine. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'] as const;
/** Addresses that mean "every interface": never a name a client uses. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/** The names and origins of a server listening on `bindHost:port`. */
export interface LocalNames {
  /** `Host` header values (lower case) this server answers: `127.0.0.1:3000`, … */
  readonly hosts: ReadonlySet<string>;
  /** This server's own origins: `http://127.0.0.1:3000`, `http://localhost:3000`, … */
  readonly origins: readonly string[];
}

/** A host as a URL writes it: an IPv6 address in brackets, lower case. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host.toLowerCase();
}

export function localNames(bindHost: string, port: number): LocalNames {
  const names = new Set<string>(LOOPBACK_NAMES);
  // Bound to a named interface (e.g. a LAN address): its own name is one too.
  if (!WILDCARD_HOSTS.has(bindHost)) names.add(urlHost(bindHost));
  const hosts = [...names].map((name) => `${name}:${port}`);
  return { hosts: new Set(hosts), origins: hosts.map((host) => `http://${host}`) };
}

/** Is this `Host` header one of this server's names? A missing one is not. */
export function isOwnHost(host: string | undefined, names: LocalNames): boolean {
  return host !== undefined && names.hosts.has(host.toLowerCase());
}

/**
 * Origins listed by the developer (`--allow-origin`, `MCP_ALLOWED_ORIGINS`), comma-separated,
 * each held to the rule the stack's `allowedOrigins` follows.
 */
export function parseAllowedOrigins(values: readonly string[], source: string): string[] {
  const origins = values
    .flatMap((value) => value.split(','))
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of origins) {
    const problem = allowedOriginProblem(origin);
    if (problem !== undefined) throw new UsageError(`${source}: ${origin} ${problem}`);
  }
  return [...new Set(origins)];
}
