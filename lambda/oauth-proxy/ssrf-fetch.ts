/**
 * One GET of a small document from a caller-named URL, made safe against server-side request
 * forgery. Used for Client ID Metadata Documents, whose URL any anonymous caller chooses.
 *
 * - The address checked is the address connected to: the name is resolved once, inside the
 *   socket's own `lookup`, every answer must be public (one private answer among public ones
 *   refuses the lot), and only those answers reach `connect`. There is no second resolution an
 *   attacker's DNS could answer differently (DNS rebinding). An IP literal, which Node connects
 *   to without calling `lookup`, is checked before the request is made.
 * - No redirects: Node's http client never follows them, and any 3xx is refused.
 * - The body is counted while it streams and the connection cut past `maxBytes`, whatever
 *   Content-Length says; no decompression (`Accept-Encoding: identity`), so no zip bombs.
 * - One timer covers everything (DNS, connect, TLS, headers, body): a body dripping a byte a
 *   second is cut at `timeoutMs` like a dead host.
 * - TLS certificates are always verified (the default); `ca` only replaces the trust anchors.
 * - A fresh connection per fetch (`agent: false`): no pooled socket to a host resolved earlier.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isAllowedAddress } from './ssrf-address.js';

/** Why a guarded fetch was refused or failed: a bounded set, safe as an audit field. */
export type SsrfRefusal =
  | 'blocked_address'
  | 'redirect'
  | 'too_large'
  | 'timeout'
  | 'fetch_failed'
  | 'bad_status';

/** A refused or failed fetch. The message names the rule, never the body or a header value. */
export class SsrfFetchError extends Error {
  override readonly name = 'SsrfFetchError';
  constructor(
    readonly reason: SsrfRefusal,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** One address a name resolves to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Resolves a host name to all its addresses (the seam tests inject). */
export type AddressLookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The system resolver (getaddrinfo), every address, in the order the resolver gave them. */
export const systemLookup: AddressLookup = (hostname) =>
  dnsLookup(hostname, { all: true, verbatim: true });

export interface GuardedFetchOptions {
  /** Resolves the host name; every answer is checked. */
  readonly lookup: AddressLookup;
  /** Admit loopback addresses (local mode only); private, link-local etc. stay refused. */
  readonly allowLoopback: boolean;
  /** The whole fetch, DNS to last byte, in milliseconds. */
  readonly timeoutMs: number;
  /** The largest body accepted, in bytes. */
  readonly maxBytes: number;
  /** The Accept header. */
  readonly accept: string;
  /** Trust anchors replacing the default ones (local mode and tests). */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
}

/** A 200 answer, read whole. */
export interface GuardedResponse {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Response headers past this size fail the fetch (Node's default is 16 KiB). */
const MAX_HEADER_BYTES = 8 * 1024;

/**
 * A `net` lookup that resolves with `lookup`, refuses the connection unless every answer is
 * allowed, and hands `connect` exactly the answers it checked.
 */
function guardedLookup(
  lookup: AddressLookup,
  allowLoopback: boolean,
  onRefused: (error: SsrfFetchError) => void,
): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname)
      .then((answers) => {
        if (answers.length === 0) {
          throw new SsrfFetchError('fetch_failed', 'The host name resolved to no address');
        }
        // All, not any: a client that tries the next address on failure (happy eyeballs)
        // must never reach a refused one, and a mixed answer is what a rebinding attack sends.
        if (answers.some((answer) => !isAllowedAddress(answer.address, allowLoopback))) {
          const refusal = new SsrfFetchError(
            'blocked_address',
            'The host name resolves to an address that is not public',
          );
          onRefused(refusal);
          throw refusal;
        }
        const family =
          options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const usable =
          family === 4 || family === 6
            ? answers.filter((answer) => answer.family === family)
            : answers;
        const [first] = usable;
        if (first === undefined) {
          throw new SsrfFetchError(
            'fetch_failed',
            'The host name has no address of the family asked',
          );
        }
        if (options.all) {
          callback(
            null,
            usable.map(({ address, family }) => ({ address, family })),
          );
        } else {
          callback(null, first.address, first.family);
        }
      })
      .catch((error: unknown) => {
        const failure =
          error instanceof SsrfFetchError
            ? error
            : new SsrfFetchError('fetch_failed', 'The host name could not be resolved', {
                cause: error,
              });
        callback(failure as NodeJS.ErrnoException, '', 0);
      });
  };
}

/** The URL's host as `connect` takes it: IPv6 literals without their brackets. */
function connectHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * GET `url` (http: or https:; the caller decides which schemes it allows) and return the body
 * of a 200 answer.
 * @throws SsrfFetchError with the reason; nothing is retried.
 */
export function guardedGet(url: URL, options: GuardedFetchOptions): Promise<GuardedResponse> {
  return new Promise<GuardedResponse>((resolve, reject) => {
    const host = connectHost(url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      reject(new SsrfFetchError('fetch_failed', 'Only http and https URLs can be fetched'));
      return;
    }
    // Node connects to an IP literal without calling `lookup`: check it here.
    if (isIP(host) !== 0 && !isAllowedAddress(host, options.allowLoopback)) {
      reject(new SsrfFetchError('blocked_address', 'The URL names an address that is not public'));
      return;
    }

    let settled = false;
    let refusal: SsrfFetchError | undefined;
    const request = (url.protocol === 'https:' ? https.request : http.request)({
      protocol: url.protocol,
      hostname: host,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: {
        accept: options.accept,
        'accept-encoding': 'identity',
        'user-agent': 'secure-mcp-oauth-proxy (client metadata fetch)',
      },
      agent: false,
      lookup: guardedLookup(options.lookup, options.allowLoopback, (error) => {
        refusal = error;
      }),
      maxHeaderSize: MAX_HEADER_BYTES,
      ...(options.ca === undefined
        ? {}
        : { ca: options.ca as string | Buffer | (string | Buffer)[] }),
    });

    const finish = (outcome: GuardedResponse | SsrfFetchError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome instanceof SsrfFetchError) {
        request.destroy();
        reject(outcome);
      } else {
        resolve(outcome);
      }
    };
    const timer = setTimeout(() => {
      finish(new SsrfFetchError('timeout', `The fetch took longer than ${options.timeoutMs} ms`));
    }, options.timeoutMs);

    request.on('error', (error) => {
      finish(
        refusal ??
          (error instanceof SsrfFetchError
            ? error
            : new SsrfFetchError('fetch_failed', 'The document could not be fetched', {
                cause: error,
              })),
      );
    });

    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        finish(new SsrfFetchError('redirect', `The URL answered a redirect (HTTP ${status})`));
        return;
      }
      if (status !== 200) {
        finish(new SsrfFetchError('bad_status', `The URL answered HTTP ${status}, not 200`));
        return;
      }
      const tooLarge = () =>
        new SsrfFetchError('too_large', `The document is larger than ${options.maxBytes} bytes`);
      // A declared length only lets us refuse early; the count below is what is enforced.
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        finish(tooLarge());
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          finish(tooLarge());
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        finish({ headers: response.headers, body: Buffer.concat(chunks) });
      });
      response.on('close', () => {
        if (!response.complete) {
          finish(
            new SsrfFetchError('fetch_failed', 'The connection closed before the document ended'),
          );
        }
      });
      response.on('error', (error) => {
        finish(
          new SsrfFetchError('fetch_failed', 'The document could not be read', { cause: error }),
        );
      });
    });

    request.end();
  });
}
