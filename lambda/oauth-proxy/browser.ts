/**
 * The browser that consent, a sign-in and an approval are bound to: a random id in an HttpOnly
 * cookie (`cookieNames(...).browser`, one for the consent and approval pages), of which sealed
 * values carry only the SHA-256. Before anyone has signed in, "the person" is this browser.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type CodeStore, CodeStoreConflictError } from './ports';

/** A browser id as this server mints them: 256 random bits, base64url. */
const BROWSER_ID = /^[A-Za-z0-9_-]{43}$/;

/** SHA-256, base64url: what is kept of a browser id, a nonce or a grant in place of itself. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

/**
 * Mark a nonce used until `until` (seconds), under `<prefix>#<SHA-256 of the nonce>`: true the
 * first time, false if it was already spent.
 */
export async function spendOnce(
  codes: CodeStore,
  prefix: string,
  nonce: string,
  until: number,
): Promise<boolean> {
  try {
    await codes.put(`${prefix}#${sha256(nonce)}`, '1', until);
    return true;
  } catch (error) {
    if (!(error instanceof CodeStoreConflictError)) throw error;
    return false;
  }
}

/** Is this cookie value a browser id this server could have minted? */
export function isBrowserId(value: string | undefined): value is string {
  return value !== undefined && BROWSER_ID.test(value);
}

export function newBrowserId(): string {
  return randomBytes(32).toString('base64url');
}
