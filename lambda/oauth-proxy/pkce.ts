/** PKCE (RFC 7636), S256 only: plain is a downgrade this server refuses. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A code_verifier: 43 to 128 unreserved characters. */
export const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** An S256 code_challenge: BASE64URL(SHA256(verifier)), 43 characters. */
export const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** RFC 7636: BASE64URL(SHA256(verifier)). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** A fresh verifier: 256 random bits. */
export function newVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/** Equal strings, in time that does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a, 'utf8').digest();
  const right = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(left, right);
}

/** Does `verifier` answer `challenge`? */
export function verifierMatches(verifier: string, challenge: string): boolean {
  return VERIFIER.test(verifier) && constantTimeEqual(s256(verifier), challenge);
}
