/**
 * What the proxy's sealed values hold, with the names the code reads: the consent ticket, the
 * transaction (the upstream `state`), the client code's record, the refresh-token family's
 * state, the remembered approvals, a DCR client id's registration, and the approval page's
 * sign-in, approver cookie and form token.
 *
 * A value is sealed for its kind's purpose (one never opens as another) with its expiry inside
 * ({@link sealRecord}, {@link openRecord}). What goes into the seal is the compact wire form of
 * `wire.ts`: one- and two-letter names keep cookies, URLs and KMS plaintexts small, and values
 * already issued (DCR client ids above all, which live as long as their clients) must keep
 * opening. That mapping is the only code that knows those names.
 */
import type { ClientKind } from '../shared/audit';
import { SEAL_PURPOSES, type Sealer, type SealPurpose } from './ports';
import { type OpenFailure, OpenSealedError, openJson, sealJson } from './sealed-json';
import {
  APPROVAL_FORM_WIRE,
  APPROVAL_SIGN_IN_WIRE,
  APPROVER_WIRE,
  CODE_RECORD_WIRE,
  CONSENT_TICKET_WIRE,
  REFRESH_FAMILY_WIRE,
  REMEMBERED_APPROVALS_WIRE,
  TRANSACTION_WIRE,
  type WireForm,
} from './wire';

/** The kind of a client this server knows. */
export type KnownClientKind = Exclude<ClientKind, 'unknown'>;

/** An authorization request, validated by `GET /authorize`: what consent and sign-in carry on. */
export interface AuthorizationRequest {
  /** SHA-256 of the client id: long ids (DCR, CIMD) stay out of the sealed values. */
  readonly clientDigest: string;
  readonly clientKind: KnownClientKind;
  /** A CIMD client's host, for the audit record. */
  readonly clientHost?: string;
  /** The client's redirect URI, matched against the ones it registered. */
  readonly redirectUri: string;
  /** The client's `state`, handed back as it came. */
  readonly clientState?: string;
  /** The client's PKCE challenge (S256). */
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
}

/** The consent form's ticket: this request, for this browser, answerable once. */
export interface ConsentTicket {
  /** SHA-256 of the browser id. */
  readonly browserDigest: string;
  /** Spent when the form is answered. */
  readonly nonce: string;
  readonly request: AuthorizationRequest;
}

/** An approved request while the person signs in upstream: the upstream `state`. */
export interface Transaction extends AuthorizationRequest {
  /** SHA-256 of the browser that approved it. */
  readonly browserDigest: string;
  /** The issuer that started it. */
  readonly issuer: string;
  /** The proxy's PKCE verifier at the upstream, random and its own: also the nonce. */
  readonly upstreamVerifier: string;
}

/** What redeeming a client code needs, stored sealed under the code's digest. */
export interface CodeRecord {
  /** The upstream's authorization code. */
  readonly upstreamCode: string;
  readonly upstreamVerifier: string;
  readonly clientDigest: string;
  readonly clientKind: KnownClientKind;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
  readonly issuer: string;
  readonly resource: string;
}

/** What a refresh-token family keeps, sealed: what refreshing needs, and whom it is bound to. */
export interface RefreshFamilyState {
  /** The family's store key: a sealed state moved to another family's item does not open. */
  readonly familyKey: string;
  readonly upstreamRefreshToken: string;
  /** SHA-256 of the client id the family was issued to. */
  readonly clientDigest: string;
  readonly clientKind: KnownClientKind;
  readonly scopes: readonly string[];
  readonly issuer: string;
  readonly resource: string;
  /** The person (the upstream access token's `sub`), for the not-before list. */
  readonly subject?: string;
  /** When they signed in (`auth_time`), which a sign-out's bound is compared with. */
  readonly authTime?: number;
}

/** The approvals a browser remembers (the consent cookie). */
export interface RememberedApprovals {
  readonly browserDigest: string;
  /** Grant key (client, redirect URI, scopes) → when the approval ends, in seconds. */
  readonly grants: Readonly<Record<string, number>>;
}

/** What registration seals into a DCR client id (`dcr-client-id.ts`). */
export interface DcrMetadata {
  readonly redirectUris: readonly string[];
  readonly clientName?: string;
  /** The scopes registered (space-separated). */
  readonly scope: string;
  readonly grantTypes: readonly string[];
  /** Seconds since the epoch. */
  readonly issuedAt: number;
}

/** The approval page's upstream `state`: who to return to, in which browser. */
export interface ApprovalSignIn {
  readonly browserDigest: string;
  /** The page's PKCE verifier at the upstream (and the sign-in's nonce). */
  readonly upstreamVerifier: string;
  /** The approval ticket (sealed) to return to. */
  readonly ticket: string;
}

/** Who signed in on the approval page, in this browser, and when: the approver cookie. */
export interface Approver {
  readonly browserDigest: string;
  readonly subject: string;
  readonly groups: readonly string[];
  /** The upstream's `auth_time`: when the person last typed their credentials. */
  readonly authTime: number;
}

/** The approval form's token: bound to the browser and the approval, answerable once. */
export interface ApprovalFormToken {
  readonly browserDigest: string;
  readonly approvalId: string;
  readonly nonce: string;
}

/** A kind of sealed record: the purpose it is sealed for, and its wire form. */
export interface RecordKind<T> {
  readonly purpose: SealPurpose;
  readonly wire: WireForm<T>;
}

/** Every kind of record sealed with an expiry, by name. */
export const RECORDS = {
  consentTicket: { purpose: SEAL_PURPOSES.consent, wire: CONSENT_TICKET_WIRE },
  transaction: { purpose: SEAL_PURPOSES.transaction, wire: TRANSACTION_WIRE },
  code: { purpose: SEAL_PURPOSES.code, wire: CODE_RECORD_WIRE },
  refreshFamily: { purpose: SEAL_PURPOSES.refreshFamily, wire: REFRESH_FAMILY_WIRE },
  rememberedApprovals: { purpose: SEAL_PURPOSES.remember, wire: REMEMBERED_APPROVALS_WIRE },
  approvalSignIn: { purpose: SEAL_PURPOSES.approvalSignIn, wire: APPROVAL_SIGN_IN_WIRE },
  approver: { purpose: SEAL_PURPOSES.approver, wire: APPROVER_WIRE },
  approvalForm: { purpose: SEAL_PURPOSES.approvalForm, wire: APPROVAL_FORM_WIRE },
} as const;

/** Seal a record of a kind until `expiresAtSeconds`. */
export function sealRecord<T>(
  sealer: Sealer,
  kind: RecordKind<T>,
  record: T,
  expiresAtSeconds: number,
): Promise<string> {
  return sealJson(sealer, kind.purpose, kind.wire.encode(record), expiresAtSeconds);
}

/**
 * The record, if `sealed` opens for its kind, has not expired at `nowSeconds` and has the
 * kind's shape.
 * @throws OpenSealedError
 */
export function openRecord<T>(
  sealer: Sealer,
  kind: RecordKind<T>,
  sealed: string,
  nowSeconds: number,
): Promise<{ value: T; expiresAt: number }> {
  return openJson(sealer, kind.purpose, sealed, nowSeconds, kind.wire.decode);
}

/**
 * The record, as {@link openRecord} opens it; a value that does not open (or has expired) is
 * refused with the error `refusal` makes of the failure.
 */
export async function openRecordOr<T>(
  sealer: Sealer,
  kind: RecordKind<T>,
  sealed: string,
  nowSeconds: number,
  refusal: (failure: OpenFailure) => Error,
): Promise<{ value: T; expiresAt: number }> {
  try {
    return await openRecord(sealer, kind, sealed, nowSeconds);
  } catch (error) {
    if (!(error instanceof OpenSealedError)) throw error;
    throw refusal(error.failure);
  }
}
