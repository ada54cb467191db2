/**
 * Loopback document servers for the CIMD resolver's tests: plain http (the resolver in local
 * mode) or https with a certificate made in the test, and a scripted DNS resolver.
 */

import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import selfsigned from 'selfsigned';
import type { AddressLookup, ResolvedAddress } from '../../../lambda/oauth-proxy/ssrf-fetch';

export type DocumentHandler = (
  request: http.IncomingMessage,
  response: http.ServerResponse,
) => void;

export interface DocumentServer {
  /** `http://127.0.0.1:<port>` or `https://…`. */
  readonly origin: string;
  readonly port: number;
  /** TCP connections accepted so far: 0 proves a refusal happened before any connect. */
  readonly connections: () => number;
  /** Requests received so far. */
  readonly requests: () => http.IncomingMessage[];
  /** Replace what the server answers. */
  handle(handler: DocumentHandler): void;
  close(): Promise<void>;
}

/** A self-signed certificate for `names` (DNS names) and 127.0.0.1. */
export async function selfSignedCertificate(
  names: readonly string[],
): Promise<{ cert: string; key: string }> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...names.map((value) => ({ type: 2 as const, value })),
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** Start a server on 127.0.0.1 (https when `tls` is given). */
export async function startDocumentServer(
  handler: DocumentHandler,
  tls?: { cert: string; key: string },
): Promise<DocumentServer> {
  let current = handler;
  const received: http.IncomingMessage[] = [];
  let connections = 0;
  const listener: http.RequestListener = (request, response) => {
    received.push(request);
    current(request, response);
  };
  const server =
    tls === undefined ? http.createServer(listener) : https.createServer(tls, listener);
  // TCP connections, TLS handshake or not: a refusal must come before any of them.
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    connections: () => connections,
    requests: () => received,
    handle(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answer `body` as JSON with optional extra headers. */
export function json(body: unknown, headers: http.OutgoingHttpHeaders = {}): DocumentHandler {
  return (_request, response) => {
    const text = JSON.stringify(body);
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    response.end(text);
  };
}

/**
 * A resolver that answers from `table` (host -> addresses) and counts its calls; an unknown
 * name fails like NXDOMAIN. Tests never reach the system resolver.
 */
export function scriptedLookup(
  table: Record<string, readonly string[] | (() => readonly string[])>,
): AddressLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string): Promise<readonly ResolvedAddress[]> => {
    calls.push(hostname);
    const entry = table[hostname];
    if (entry === undefined) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    }
    const addresses = typeof entry === 'function' ? entry() : entry;
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}
