/**
 * The compact wire form of the sealed records (`records.ts`): what each record is written as
 * inside its seal, and read back from, field by field. Nothing else knows these names.
 *
 * Frozen: deployed stacks hold values sealed in this form (DCR client ids for as long as their
 * clients live; tickets, transactions, codes, cookies and refresh-token families for minutes to
 * days), so a name here never changes and a field is only ever added as optional.
 * `test/unit/oauth-proxy/sealed-before-fixture.ts` holds values sealed before the records had
 * readable names; the tests open them and seal the same JSON, key order included.
 *
 * | record | wire |
 * | --- | --- |
 * | authorization request | `c` client digest, `k` client kind, `h` client host, `r` redirect URI, `s` client state, `ch` code challenge, `sc` scopes |
 * | consent ticket | `b` browser digest, `n` nonce, `q` the request |
 * | transaction | the request's fields, then `b` browser digest, `iss` issuer, `v` upstream verifier |
 * | code record | `u` upstream code, `v` upstream verifier, `c`, `k`, `r`, `ch`, `sc`, `iss`, `res` resource |
 * | refresh family | `f` family key, `u` upstream refresh token, `c`, `k`, `sc`, `iss`, `res`, `sub` subject, `at` auth time |
 * | remembered approvals | `b` browser digest, `g` grants |
 * | DCR registration | `r` redirect URIs, `n` client name, `s` scope, `g` grant types, `i` issued at |
 * | approval sign-in | `b` browser digest, `v` upstream verifier, `t` ticket |
 * | approver | `b` browser digest, `sub` subject, `groups`, `at` auth time |
 * | approval form token | `b` browser digest, `approvalId`, `n` nonce |
 */
import type {
  ApprovalFormToken,
  ApprovalSignIn,
  Approver,
  AuthorizationRequest,
  CodeRecord,
  ConsentTicket,
  DcrMetadata,
  KnownClientKind,
  RefreshFamilyState,
  RememberedApprovals,
  Transaction,
} from './records';

/** A record's mapping to and from its wire form; `decode` refuses (undefined) a wrong shape. */
export interface WireForm<T> {
  encode(record: T): unknown;
  decode(wire: unknown): T | undefined;
}

type Wire = Record<string, unknown>;

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isKind = (v: unknown): v is KnownClientKind =>
  v === 'cimd' || v === 'dcr' || v === 'preregistered';
const optionalString = (v: unknown) => v === undefined || isString(v);
const asWire = (value: unknown): Wire | undefined =>
  typeof value === 'object' && value !== null ? (value as Wire) : undefined;

function encodeRequest(request: AuthorizationRequest): Wire {
  return {
    c: request.clientDigest,
    k: request.clientKind,
    ...(request.clientHost === undefined ? {} : { h: request.clientHost }),
    r: request.redirectUri,
    ...(request.clientState === undefined ? {} : { s: request.clientState }),
    ch: request.codeChallenge,
    sc: request.scopes,
  };
}

function decodeRequest(wire: unknown): AuthorizationRequest | undefined {
  const w = asWire(wire);
  if (w === undefined || !isString(w.c) || !isKind(w.k) || !isString(w.r) || !isString(w.ch)) {
    return undefined;
  }
  if (!isStringArray(w.sc) || !optionalString(w.s) || !optionalString(w.h)) return undefined;
  return {
    clientDigest: w.c,
    clientKind: w.k,
    ...(w.h === undefined ? {} : { clientHost: w.h as string }),
    redirectUri: w.r,
    ...(w.s === undefined ? {} : { clientState: w.s as string }),
    codeChallenge: w.ch,
    scopes: w.sc,
  };
}

export const CONSENT_TICKET_WIRE: WireForm<ConsentTicket> = {
  encode: (ticket) => ({
    b: ticket.browserDigest,
    n: ticket.nonce,
    q: encodeRequest(ticket.request),
  }),
  decode: (wire) => {
    const w = asWire(wire);
    const request = decodeRequest(w?.q);
    return w !== undefined && isString(w.b) && isString(w.n) && request !== undefined
      ? { browserDigest: w.b, nonce: w.n, request }
      : undefined;
  },
};

export const TRANSACTION_WIRE: WireForm<Transaction> = {
  encode: (transaction) => ({
    ...encodeRequest(transaction),
    b: transaction.browserDigest,
    iss: transaction.issuer,
    v: transaction.upstreamVerifier,
  }),
  decode: (wire) => {
    const w = asWire(wire);
    const request = decodeRequest(wire);
    return w !== undefined &&
      request !== undefined &&
      isString(w.b) &&
      isString(w.iss) &&
      isString(w.v)
      ? { ...request, browserDigest: w.b, issuer: w.iss, upstreamVerifier: w.v }
      : undefined;
  },
};

export const CODE_RECORD_WIRE: WireForm<CodeRecord> = {
  encode: (record) => ({
    u: record.upstreamCode,
    v: record.upstreamVerifier,
    c: record.clientDigest,
    k: record.clientKind,
    r: record.redirectUri,
    ch: record.codeChallenge,
    sc: record.scopes,
    iss: record.issuer,
    res: record.resource,
  }),
  decode: (wire) => {
    const w = asWire(wire);
    if (w === undefined) return undefined;
    const { u, v, c, k, r, ch, sc, iss, res } = w;
    if (!isString(u) || !isString(v) || !isString(c) || !isKind(k) || !isString(r)) {
      return undefined;
    }
    if (!isString(ch) || !isStringArray(sc) || !isString(iss) || !isString(res)) return undefined;
    return {
      upstreamCode: u,
      upstreamVerifier: v,
      clientDigest: c,
      clientKind: k,
      redirectUri: r,
      codeChallenge: ch,
      scopes: sc,
      issuer: iss,
      resource: res,
    };
  },
};

export const REFRESH_FAMILY_WIRE: WireForm<RefreshFamilyState> = {
  encode: (state) => ({
    f: state.familyKey,
    u: state.upstreamRefreshToken,
    c: state.clientDigest,
    k: state.clientKind,
    sc: state.scopes,
    iss: state.issuer,
    res: state.resource,
    ...(state.subject === undefined ? {} : { sub: state.subject }),
    ...(state.authTime === undefined ? {} : { at: state.authTime }),
  }),
  decode: (wire) => {
    const w = asWire(wire);
    if (w === undefined) return undefined;
    const { f, u, c, k, sc, iss, res, sub, at } = w;
    if (!isString(f) || !isString(u) || !isString(c) || !isKind(k)) return undefined;
    if (!isStringArray(sc) || !isString(iss) || !isString(res)) return undefined;
    if (!optionalString(sub) || (at !== undefined && typeof at !== 'number')) return undefined;
    return {
      familyKey: f,
      upstreamRefreshToken: u,
      clientDigest: c,
      clientKind: k,
      scopes: sc,
      issuer: iss,
      resource: res,
      ...(sub === undefined ? {} : { subject: sub as string }),
      ...(at === undefined ? {} : { authTime: at as number }),
    };
  },
};

export const REMEMBERED_APPROVALS_WIRE: WireForm<RememberedApprovals> = {
  encode: (remembered) => ({ b: remembered.browserDigest, g: remembered.grants }),
  decode: (wire) => {
    const w = asWire(wire);
    const grants = asWire(w?.g);
    if (w === undefined || !isString(w.b) || grants === undefined) return undefined;
    if (!Object.values(grants).every((until) => typeof until === 'number')) return undefined;
    return { browserDigest: w.b, grants: grants as Record<string, number> };
  },
};

export const REGISTRATION_WIRE: WireForm<DcrMetadata> = {
  encode: (metadata) => ({
    r: metadata.redirectUris,
    ...(metadata.clientName === undefined ? {} : { n: metadata.clientName }),
    s: metadata.scope,
    g: metadata.grantTypes,
    i: metadata.issuedAt,
  }),
  decode: (wire) => {
    const w = asWire(wire);
    if (w === undefined || !isStringArray(w.r) || w.r.length === 0) return undefined;
    if (!isString(w.s) || typeof w.i !== 'number' || !optionalString(w.n)) return undefined;
    if (!isStringArray(w.g)) return undefined;
    return {
      redirectUris: w.r,
      ...(w.n === undefined ? {} : { clientName: w.n as string }),
      scope: w.s,
      grantTypes: w.g,
      issuedAt: w.i,
    };
  },
};

export const APPROVAL_SIGN_IN_WIRE: WireForm<ApprovalSignIn> = {
  encode: (signIn) => ({ b: signIn.browserDigest, v: signIn.upstreamVerifier, t: signIn.ticket }),
  decode: (wire) => {
    const w = asWire(wire);
    return w !== undefined && isString(w.b) && isString(w.v) && isString(w.t)
      ? { browserDigest: w.b, upstreamVerifier: w.v, ticket: w.t }
      : undefined;
  },
};

export const APPROVER_WIRE: WireForm<Approver> = {
  encode: (approver) => ({
    b: approver.browserDigest,
    sub: approver.subject,
    groups: approver.groups,
    at: approver.authTime,
  }),
  decode: (wire) => {
    const w = asWire(wire);
    if (w === undefined || !isString(w.b) || !isString(w.sub) || typeof w.at !== 'number') {
      return undefined;
    }
    if (!isStringArray(w.groups)) return undefined;
    return { browserDigest: w.b, subject: w.sub, groups: w.groups, authTime: w.at };
  },
};

export const APPROVAL_FORM_WIRE: WireForm<ApprovalFormToken> = {
  encode: (token) => ({ b: token.browserDigest, approvalId: token.approvalId, n: token.nonce }),
  decode: (wire) => {
    const w = asWire(wire);
    return w !== undefined && isString(w.b) && isString(w.approvalId) && isString(w.n)
      ? { browserDigest: w.b, approvalId: w.approvalId, nonce: w.n }
      : undefined;
  },
};
