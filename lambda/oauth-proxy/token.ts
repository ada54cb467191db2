/**
 * `POST /token`. Every code the request presents is taken first (atomically: single use), so
 * a refused request burns its code too; then public clients only, `resource`, and the grant:
 *
 * - `authorization_code` (here): the client, the redirect URI, the PKCE verifier (constant
 *   time) and the code's issuer are checked, the upstream code is redeemed with the proxy's
 *   verifier, and the client gets the upstream's access token and a refresh token of this
 *   server's own, the first of a family that keeps the upstream's refresh token sealed;
 * - `refresh_token`: `refresh-grant.ts`.
 */
import { codeKey } from './callback';
import { clientDigest } from './clients';
import type { ProxyContext, Refuse } from './context';
import { jsonResponse, type ProxyRequest } from './http';
import { constantTimeEqual, VERIFIER, verifierMatches } from './pkce';
import {
  type CodeRecord,
  openRecordOr,
  RECORDS,
  type RefreshFamilyState,
  sealRecord,
} from './records';
import { familyDigest, newRefreshToken } from './refresh-families';
import { refresh } from './refresh-grant';
import { type ClientFacts, type ProxyOutcome, StepError } from './step';
import { issuedTokens, upstreamFailure } from './token-answers';
import { accessTokenClaims } from './upstream';

/** The most codes one token request can take (a repeated `code` is refused, all taken). */
const MAX_PRESENTED_CODES = 4;

export async function token(
  ctx: ProxyContext,
  request: ProxyRequest,
  facts: ClientFacts,
): Promise<ProxyOutcome> {
  const refuse: Refuse = (error, description, status = 400) =>
    jsonResponse(status, { error, error_description: description });
  // Before anything else is checked: a code is gone after its first presentation, whatever
  // is wrong with the request that carries it, so a replay (or a guess) never finds it again.
  const taken = await takePresentedCodes(ctx, request.body);
  const form = ctx.form(request, refuse);
  const grant = form.get('grant_type');
  const clientId = form.get('client_id') ?? '';
  if (clientId !== '') {
    facts.kind = ctx.clients.classify(clientId);
    facts.digest = clientDigest(clientId);
    if (facts.kind === 'cimd') facts.host = safeHost(clientId);
  }
  if (form.has('client_secret') || request.header('authorization') !== undefined) {
    // Public clients only: a secret would be one nobody issued.
    throw new StepError(
      'invalid_request',
      refuse('invalid_client', 'Only public clients (PKCE, no secret) are supported', 401),
    );
  }
  const resource = form.get('resource');
  if (resource !== undefined && resource !== ctx.config.resource) {
    throw new StepError(
      'resource_mismatch',
      refuse('invalid_target', 'resource is not this MCP server'),
    );
  }
  if (grant === 'authorization_code') return redeem(ctx, form, taken, clientId, facts, refuse);
  if (grant === 'refresh_token') return refresh(ctx, form, clientId, facts, refuse);
  throw new StepError(
    'unsupported_grant_type',
    refuse('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token'),
  );
}

/**
 * Take every code the body presents (at most {@link MAX_PRESENTED_CODES}), read as a form
 * whatever its type or shape: the sealed records by code, `undefined` for one not held.
 */
async function takePresentedCodes(
  ctx: ProxyContext,
  body: string,
): Promise<ReadonlyMap<string, string | undefined>> {
  const codes = [...new Set(new URLSearchParams(body).getAll('code'))]
    .filter(isCodeShaped)
    .slice(0, MAX_PRESENTED_CODES);
  const records = await Promise.all(codes.map((code) => ctx.codes.take(codeKey(code))));
  return new Map(codes.map((code, i) => [code, records[i]]));
}

/** The `authorization_code` grant. */
async function redeem(
  ctx: ProxyContext,
  form: Map<string, string>,
  taken: ReadonlyMap<string, string | undefined>,
  clientId: string,
  facts: ClientFacts,
  refuse: Refuse,
): Promise<ProxyOutcome> {
  const code = form.get('code') ?? '';
  if (!isCodeShaped(code)) {
    throw new StepError('invalid_code', refuse('invalid_request', 'code is required'));
  }
  const sealed = taken.get(code);
  if (sealed === undefined) {
    throw new StepError(
      'invalid_code',
      refuse('invalid_grant', 'Unknown, expired or already used code'),
    );
  }
  const { value: record } = await openRecordOr(
    ctx.sealer,
    RECORDS.code,
    sealed,
    ctx.seconds(),
    () =>
      new StepError(
        'invalid_code',
        refuse('invalid_grant', 'Unknown, expired or already used code'),
      ),
  );
  facts.kind = record.clientKind;
  facts.redirectHost = new URL(record.redirectUri).host;
  facts.scopes = record.scopes;
  if (record.issuer !== ctx.config.issuer || record.resource !== ctx.config.resource) {
    throw new StepError(
      'code_issuer_mismatch',
      refuse('invalid_grant', 'The code was issued by another server'),
    );
  }
  if (!constantTimeEqual(clientDigest(clientId), record.clientDigest)) {
    throw new StepError(
      'code_client_mismatch',
      refuse('invalid_grant', 'The code was issued to another client'),
    );
  }
  if (form.get('redirect_uri') !== record.redirectUri) {
    throw new StepError(
      'code_redirect_mismatch',
      refuse('invalid_grant', 'redirect_uri does not match the authorization request'),
    );
  }
  const verifier = form.get('code_verifier') ?? '';
  if (!VERIFIER.test(verifier) || !verifierMatches(verifier, record.codeChallenge)) {
    throw new StepError(
      'pkce_verifier_mismatch',
      refuse('invalid_grant', 'code_verifier does not match the code_challenge'),
    );
  }
  const answer = await ctx.upstream.redeemCode(record.upstreamCode, record.upstreamVerifier);
  if (answer.kind !== 'tokens') return upstreamFailure('token', answer, facts);
  const upstreamRefresh = answer.tokens.refresh_token;
  const refreshToken =
    upstreamRefresh === undefined
      ? undefined
      : await newFamily(ctx, record, answer.tokens.access_token, upstreamRefresh, facts);
  return issuedTokens('token', answer.tokens, facts, record.scopes, refreshToken);
}

/** A new refresh-token family for a redeemed code: the client's first refresh token. */
async function newFamily(
  ctx: ProxyContext,
  record: CodeRecord,
  accessToken: string,
  upstreamRefreshToken: string,
  facts: ClientFacts,
): Promise<string> {
  const issued = newRefreshToken();
  const expiresAt = ctx.seconds() + ctx.config.refreshTokenSeconds;
  const state: RefreshFamilyState = {
    familyKey: issued.familyKey,
    upstreamRefreshToken,
    clientDigest: record.clientDigest,
    clientKind: record.clientKind,
    scopes: record.scopes,
    issuer: ctx.config.issuer,
    resource: ctx.config.resource,
    ...sessionOf(accessToken),
  };
  await ctx.families.create(issued.familyKey, {
    secretHash: issued.secretHash,
    sealed: await sealRecord(ctx.sealer, RECORDS.refreshFamily, state, expiresAt),
    expiresAt,
  });
  facts.familyDigest = familyDigest(issued.familyKey);
  return issued.token;
}

/**
 * The person an upstream access token is for (`sub`) and when they signed in (`auth_time`),
 * to look up in the not-before list at each refresh.
 */
function sessionOf(accessToken: string): Pick<RefreshFamilyState, 'subject' | 'authTime'> {
  const claims = accessTokenClaims(accessToken) ?? {};
  const { sub, auth_time: authTime } = claims;
  return {
    ...(typeof sub === 'string' && sub !== '' ? { subject: sub } : {}),
    ...(typeof authTime === 'number' ? { authTime } : {}),
  };
}

/** A value that could be a code this server minted (256 bits, base64url), or close to one. */
function isCodeShaped(code: string): boolean {
  return code !== '' && code.length <= 128;
}

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}
