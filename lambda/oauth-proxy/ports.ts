/**
 * What the OAuth proxy needs from the world, as small interfaces: AWS implementations
 * (`kms-sealer.ts`, `dynamodb-code-store.ts`) stand behind them (in local mode too, against the
 * emulator's KMS and DynamoDB), and tests inject their own (`aes-sealer.ts`,
 * `test/support/in-process-oauth.ts`).
 */

/** The purposes a sealed value is made for: one never opens as another. */
export const SEAL_PURPOSES = {
  /** The upstream `state`: one authorization in flight, before the person signs in. */
  transaction: 'transaction',
  /** A stored authorization code's record. */
  code: 'code',
  /** The consent form's ticket. */
  consent: 'consent',
  /** The cookie remembering a person's approvals. */
  remember: 'consent-remember',
  /** A dynamically registered client's metadata: its client id. */
  dcrClient: 'dcr-client',
  /** A refresh-token family's state: the upstream refresh token and the client it is bound to. */
  refreshFamily: 'refresh-family',
  /**
   * An approval request's ticket, in the approval URL: the call to show the person (the tool,
   * its arguments, who asked). Sealed by the MCP function, opened by the approval page.
   */
  approvalTicket: 'approval-ticket',
  /** The upstream `state` of the sign-in the approval page sends a person to. */
  approvalSignIn: 'approval-sign-in',
  /** The cookie saying who signed in on the approval page, in this browser, and when. */
  approver: 'approver',
  /** The approval form's one-time token, bound to the browser and the approval. */
  approvalForm: 'approval-form',
} as const;
export type SealPurpose = (typeof SEAL_PURPOSES)[keyof typeof SEAL_PURPOSES];

/**
 * Authenticated encryption bound to a purpose: `open(p, seal(p, x))` is `x`; anything else
 * (another purpose, a changed byte, another key) rejects. Expiry is the caller's, inside the
 * plaintext. Output is base64url, safe in URLs, cookies and form fields.
 */
export interface Sealer {
  seal(purpose: SealPurpose, plaintext: string): Promise<string>;
  open(purpose: SealPurpose, sealed: string): Promise<string>;
}

/**
 * A value that does not open (altered, forged, another purpose or key): a refusal. Any other
 * error from a {@link Sealer} is an outage, answered as a server error.
 */
export class SealError extends Error {
  override readonly name = 'SealError';
}

/** Thrown by {@link CodeStore.put} when the key is already taken. */
export class CodeStoreConflictError extends Error {
  override readonly name = 'CodeStoreConflictError';
}

/**
 * Single-use values with a deadline: authorization codes (and used consent tickets). Keys are
 * digests, never the code itself.
 */
export interface CodeStore {
  /** Store once; rejects with {@link CodeStoreConflictError} if `key` is held. */
  put(key: string, value: string, expiresAtEpochSeconds: number): Promise<void>;
  /** The value, removed atomically: a second `take` gets `undefined`, as does an expired one. */
  take(key: string): Promise<string | undefined>;
}

/** A client described by its Client ID Metadata Document (as `cimd.ts` resolves it). */
export interface CimdClient {
  readonly clientId: string;
  readonly clientName: string;
  readonly redirectUris: readonly string[];
  readonly clientUri?: string;
  readonly logoUri?: string;
  readonly scope?: string;
}

/** Resolves a CIMD client id (an https URL) to its document, or rejects (`reason: cimd_…`). */
export interface CimdClientResolver {
  resolve(clientId: string): Promise<CimdClient>;
}

/** The `fetch` the proxy calls the upstream token endpoint with. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;
