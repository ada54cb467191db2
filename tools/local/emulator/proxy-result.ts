/**
 * A buffered Lambda proxy integration's result as API Gateway reads it ("Output format of a
 * Lambda function for proxy integration"): `statusCode`, `headers`, `multiValueHeaders`,
 * `body`, `isBase64Encoded`, each optional, and nothing else. "If the function output is of a
 * different format, API Gateway returns a 502 Bad Gateway error response."
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
 *
 * Where AWS's page is silent, AWS-recorded responses (LocalStack's snapshot
 * `test_aws_proxy_response_payload_format_validation`, non-AWS evidence) decide: an unknown key,
 * `{}`, a `statusCode` that is not a number, a `multiValueHeaders` value that is not a list are
 * all 502; a missing `statusCode` is 200; `"201"` is 201.
 *
 * Pure.
 */
import { type HeaderList, mergeProxyHeaders } from './header-rules';

const KEYS = ['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded'];

export type ProxyResult =
  | {
      readonly kind: 'ok';
      readonly statusCode: number;
      /** `headers` and `multiValueHeaders` merged, before API Gateway's remapping. */
      readonly headers: HeaderList;
      readonly body: string;
      readonly isBase64Encoded: boolean;
    }
  | { readonly kind: 'malformed'; readonly why: string };

export function parseProxyResult(payload: string): ProxyResult {
  const malformed = (why: string): ProxyResult => ({ kind: 'malformed', why });
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return malformed('not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return malformed('not a JSON object');
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 0) return malformed('an empty object');
  const unknown = keys.find((key) => !KEYS.includes(key));
  if (unknown !== undefined) return malformed(`the unknown key ${unknown}`);
  const statusCode = record.statusCode === undefined ? 200 : Number(record.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    return malformed(`statusCode ${JSON.stringify(record.statusCode)}`);
  }
  if (record.body !== undefined && record.body !== null && typeof record.body !== 'string') {
    return malformed('a body that is not a string');
  }
  const headers = record.headers;
  if (
    headers !== undefined &&
    headers !== null &&
    (typeof headers !== 'object' || Array.isArray(headers))
  ) {
    return malformed('headers that are not an object');
  }
  const multi = record.multiValueHeaders;
  if (multi !== undefined && multi !== null) {
    if (typeof multi !== 'object' || Array.isArray(multi)) {
      return malformed('multiValueHeaders that are not an object');
    }
    if (Object.values(multi).some((values) => !Array.isArray(values))) {
      return malformed('a multiValueHeaders value that is not a list');
    }
  }
  return {
    kind: 'ok',
    statusCode,
    headers: mergeProxyHeaders(
      headers as Record<string, unknown> | null | undefined,
      multi as Record<string, unknown[]> | null | undefined,
    ),
    body: (record.body as string | null | undefined) ?? '',
    isBase64Encoded: record.isBase64Encoded === true,
  };
}
