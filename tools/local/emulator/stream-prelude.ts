/**
 * API Gateway's side of a streamed Lambda response ("Set up a Lambda proxy integration with
 * payload response streaming"): the function writes its metadata as JSON, then a delimiter of
 * eight NUL bytes, then the payload. "The delimiter must be 8 null bytes and it must appear
 * within the first 16KB of stream data"; "The metadata must be valid JSON. Only `headers`,
 * `multiValueHeaders`, `cookies` and the `statusCode` keys are supported"; output in another
 * format is answered with a 500.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html
 */

export const PRELUDE_WINDOW_BYTES = 16 * 1024;
const DELIMITER = Buffer.alloc(8);

export interface StreamMetadata {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly multiValueHeaders: Readonly<Record<string, readonly string[]>>;
  readonly cookies: readonly string[];
}

export type PreludeState =
  | { readonly kind: 'more' }
  | { readonly kind: 'invalid'; readonly why: string }
  | { readonly kind: 'ready'; readonly metadata: StreamMetadata; readonly rest: Buffer };

/** Look for the prelude in what has arrived so far. */
export function readPrelude(received: Buffer): PreludeState {
  const end = received.indexOf(DELIMITER);
  if (end < 0) {
    return received.length >= PRELUDE_WINDOW_BYTES
      ? { kind: 'invalid', why: 'no delimiter within the first 16 KB' }
      : { kind: 'more' };
  }
  if (end + DELIMITER.length > PRELUDE_WINDOW_BYTES) {
    return { kind: 'invalid', why: 'no delimiter within the first 16 KB' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(received.subarray(0, end).toString('utf8'));
  } catch {
    return { kind: 'invalid', why: 'the metadata is not JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { kind: 'invalid', why: 'the metadata is not a JSON object' };
  }
  const record = parsed as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!['headers', 'multiValueHeaders', 'cookies', 'statusCode'].includes(key)) {
      return { kind: 'invalid', why: `the metadata has the unsupported key ${key}` };
    }
  }
  const status = record.statusCode === undefined ? 200 : Number(record.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    return { kind: 'invalid', why: 'statusCode is not an HTTP status' };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(
    (record.headers as Record<string, unknown> | undefined) ?? {},
  )) {
    if (value !== null && typeof value === 'object') {
      return { kind: 'invalid', why: '`headers` can only contain single-value headers' };
    }
    headers[name] = String(value);
  }
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(
    (record.multiValueHeaders as Record<string, unknown> | undefined) ?? {},
  )) {
    if (!Array.isArray(values))
      return { kind: 'invalid', why: 'a multiValueHeaders value is not a list' };
    multiValueHeaders[name] = values.map(String);
  }
  const cookies = Array.isArray(record.cookies) ? record.cookies.map(String) : [];
  return {
    kind: 'ready',
    metadata: { statusCode: status, headers, multiValueHeaders, cookies },
    rest: received.subarray(end + DELIMITER.length),
  };
}
