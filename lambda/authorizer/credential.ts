/**
 * Reads the bearer credential from a request and tells its kind by shape. Pure.
 */

import { looksLikeApiKey, type ParsedApiKey, parseApiKey } from '../shared/api-key';
import { headerValues } from '../shared/headers';

/** Longest accepted credential; Cognito access tokens with many groups stay well below. */
export const MAX_CREDENTIAL_LENGTH = 16 * 1024;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const BEARER = /^Bearer +([^\s]+) *$/i;

export type Credential =
  | { readonly kind: 'jwt'; readonly token: string }
  | { readonly kind: 'api_key'; readonly apiKey: ParsedApiKey }
  | {
      readonly kind: 'invalid';
      readonly reason: 'missing_credential' | 'wrong_scheme' | 'malformed_credential';
    };

type Headers = Record<string, string | undefined> | null | undefined;
type MultiValueHeaders = Record<string, string[] | undefined> | null | undefined;

/** Extract and classify the `Authorization: Bearer <credential>` of a request. */
export function readCredential(
  headers: Headers,
  multiValueHeaders?: MultiValueHeaders,
): Credential {
  const values = headerValues({ headers, multiValueHeaders }, 'authorization');
  if (values.length === 0) return { kind: 'invalid', reason: 'missing_credential' };
  // Two different Authorization headers: refuse rather than guess which one counts.
  if (values.length > 1) return { kind: 'invalid', reason: 'malformed_credential' };
  const header = values[0] ?? '';
  if (header.trim() === '') return { kind: 'invalid', reason: 'missing_credential' };
  // A cheap guard before any regex runs; the credential itself is measured below.
  if (header.length > MAX_CREDENTIAL_LENGTH + 64) {
    return { kind: 'invalid', reason: 'malformed_credential' };
  }
  const match = BEARER.exec(header);
  if (match === null) {
    return /^Bearer\b/i.test(header)
      ? { kind: 'invalid', reason: 'malformed_credential' }
      : { kind: 'invalid', reason: 'wrong_scheme' };
  }
  const credential = match[1] ?? '';
  if (credential.length > MAX_CREDENTIAL_LENGTH)
    return { kind: 'invalid', reason: 'malformed_credential' };
  if (looksLikeApiKey(credential)) {
    const apiKey = parseApiKey(credential);
    return apiKey === undefined
      ? { kind: 'invalid', reason: 'malformed_credential' }
      : { kind: 'api_key', apiKey };
  }
  if (JWT_SHAPE.test(credential)) return { kind: 'jwt', token: credential };
  return { kind: 'invalid', reason: 'malformed_credential' };
}
