/**
 * What API Gateway (REST) does to headers between a client and a Lambda integration, from
 * the table in "Amazon API Gateway important notes for REST APIs" (the `lambda` column):
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html
 *
 * "`Remapped` means that the header name is changed from `<string>` to
 * `X-Amzn-Remapped-<string>`. `Remapped Overwritten` means that the header name is changed
 * from `<string>` to `X-Amzn-Remapped-<string>` and the value is overwritten."
 *
 * Pure. Gateway responses and mock integrations are not integration responses: their headers
 * are what the template maps, untouched.
 */

/** Request headers the `lambda` column drops before the function sees the request. */
export const DROPPED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'content-md5',
  'expect',
  'max-forwards',
  'proxy-authenticate',
  'server',
  'te',
  'trailer',
  'upgrade',
  'www-authenticate',
  // "Transfer-Encoding … Exception" for lambda: the body arrives de-chunked, the header gone.
  'transfer-encoding',
  // Generated from the body (Passthrough "generated based on body"): not the client's own.
  'content-length',
]);

/** Response headers of a Lambda integration renamed to `X-Amzn-Remapped-<name>`. */
export const REMAPPED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'connection',
  'content-md5',
  'max-forwards',
  'user-agent',
  'www-authenticate',
]);

/** Remapped, and API Gateway sends its own value under the original name. */
export const REMAPPED_OVERWRITTEN_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'date',
  'server',
]);

/** Response headers of a Lambda integration the client never sees. */
export const DROPPED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'expect',
  'host',
  'proxy-authenticate',
  'te',
  'transfer-encoding',
  'trailer',
  'upgrade',
  'via',
]);

/** One response header as it will be sent: name (case kept) and value. */
export type HeaderList = [name: string, value: string][];

/**
 * A Lambda integration's response headers as API Gateway passes them on: reserved ones renamed
 * (`WWW-Authenticate` → `X-Amzn-Remapped-WWW-Authenticate`), hop-by-hop ones dropped.
 * `Content-Length` passes ("Passthrough"), but is recomputed by whoever frames the body.
 */
export function remapIntegrationResponseHeaders(headers: HeaderList): HeaderList {
  const out: HeaderList = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (DROPPED_RESPONSE_HEADERS.has(lower)) continue;
    if (REMAPPED_RESPONSE_HEADERS.has(lower) || REMAPPED_OVERWRITTEN_RESPONSE_HEADERS.has(lower)) {
      out.push([`X-Amzn-Remapped-${name}`, value]);
      continue;
    }
    out.push([name, value]);
  }
  return out;
}

/**
 * A Lambda proxy result's `headers` and `multiValueHeaders` merged as API Gateway merges them.
 * The docs say "only the values from `multiValueHeaders` will appear" for a name in both;
 * AWS-recorded responses (LocalStack's snapshot tests) show both values: the documented
 * behaviour is modelled, the stricter of the two for a client that relies on one value.
 */
export function mergeProxyHeaders(
  headers: Readonly<Record<string, unknown>> | null | undefined,
  multiValueHeaders: Readonly<Record<string, readonly unknown[]>> | null | undefined,
): HeaderList {
  const out: HeaderList = [];
  const multi = new Set(Object.keys(multiValueHeaders ?? {}).map((name) => name.toLowerCase()));
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (multi.has(name.toLowerCase())) continue;
    out.push([name, String(value)]);
  }
  for (const [name, values] of Object.entries(multiValueHeaders ?? {})) {
    for (const value of values) out.push([name, String(value)]);
  }
  return out;
}

/** A client's request headers, in order, as Node's `rawHeaders` lists them. */
export function headerPairs(rawHeaders: readonly string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    out.push([rawHeaders[i] as string, rawHeaders[i + 1] as string]);
  }
  return out;
}

/**
 * The request headers a Lambda proxy integration receives: the `lambda` column's drops
 * applied, and what a REGIONAL endpoint adds (the AWS tutorial's example event shows them:
 * `X-Amzn-Trace-Id`, `X-Forwarded-For`, `X-Forwarded-Port`, `X-Forwarded-Proto`). A client's
 * own `X-Forwarded-For` is kept and the client's address appended, as a proxy does.
 */
export function integrationRequestHeaders(
  client: HeaderList,
  added: {
    readonly sourceIp: string;
    readonly port: string;
    readonly proto: string;
    readonly traceId: string;
  },
): HeaderList {
  const out: HeaderList = [];
  let forwardedFor: string | undefined;
  for (const [name, value] of client) {
    const lower = name.toLowerCase();
    if (DROPPED_REQUEST_HEADERS.has(lower)) continue;
    if (lower === 'x-forwarded-for') {
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      continue;
    }
    if (
      lower === 'x-forwarded-port' ||
      lower === 'x-forwarded-proto' ||
      lower === 'x-amzn-trace-id'
    ) {
      continue;
    }
    out.push([name, value]);
  }
  out.push(['X-Amzn-Trace-Id', added.traceId]);
  out.push([
    'X-Forwarded-For',
    forwardedFor === undefined ? added.sourceIp : `${forwardedFor}, ${added.sourceIp}`,
  ]);
  out.push(['X-Forwarded-Port', added.port]);
  out.push(['X-Forwarded-Proto', added.proto]);
  return out;
}

/**
 * `headers` and `multiValueHeaders` of a proxy event: the last value of a repeated header in
 * the first, all of them in the second; each name as the client spelled it.
 */
export function eventHeaderMaps(headers: HeaderList): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of headers) {
    single[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  return { headers: single, multiValueHeaders: multi };
}
