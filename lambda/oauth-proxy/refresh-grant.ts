/**
 * `POST /token` with `grant_type=refresh_token`: the token's family found, its secret the
 * current one, the client the one it was issued to, the person's session not ended (the
 * not-before list); then the upstream refreshes and the family rotates: a new refresh token,
 * the old one dead. Whatever shows a token has leaked (an old one presented, another client)
 * ends the family (see `refresh-families.ts`).
 */
import { userPrincipal } from '../shared/revocations';
import { clientDigest } from './clients';
import type { ProxyContext, Refuse } from './context';
import { constantTimeEqual } from './pkce';
import { openRecordOr, RECORDS, type RefreshFamilyState, sealRecord } from './records';
import {
  familyDigest,
  parseRefreshToken,
  type RefreshFamilyEnd,
  rotatedRefreshToken,
} from './refresh-families';
import { type ClientFacts, type ProxyOutcome, StepError } from './step';
import { issuedTokens, upstreamFailure } from './token-answers';

export async function refresh(
  ctx: ProxyContext,
  form: Map<string, string>,
  clientId: string,
  facts: ClientFacts,
  refuse: Refuse,
): Promise<ProxyOutcome> {
  if (facts.kind === 'unknown') {
    throw new StepError('unknown_client', refuse('invalid_client', 'Unknown client_id', 401));
  }
  const token = form.get('refresh_token') ?? '';
  const parts = parseRefreshToken(token);
  const unknown = () =>
    new StepError(
      'invalid_refresh_token',
      refuse('invalid_grant', 'Unknown, expired or revoked refresh token'),
    );
  if (parts === undefined) throw unknown();
  const { familyKey } = parts;
  facts.familyDigest = familyDigest(familyKey);
  const ended = async (reason: RefreshFamilyEnd, description: string) => {
    await ctx.families.end(familyKey, reason);
    facts.familyEnded = true;
    return new StepError(
      reason === 'upstream_refused' ? 'upstream_error' : reason,
      refuse('invalid_grant', description),
    );
  };

  const family = await ctx.families.get(familyKey);
  if (family === undefined) throw unknown();
  if (family.ended !== undefined || family.sealed === undefined) {
    throw new StepError(
      'refresh_family_ended',
      refuse('invalid_grant', 'This sign-in has ended; sign in again'),
    );
  }
  if (!constantTimeEqual(parts.secretHash, family.secretHash)) {
    // A token of this family that is no longer the current one: someone used it (or a
    // copy of the one after it) first. Which of the two holders is the thief cannot be
    // told, so neither keeps the family (OAuth 2.1 section 4.3.1).
    throw await ended('refresh_token_reused', 'This refresh token was already used; sign in again');
  }
  const { value: state } = await openRecordOr(
    ctx.sealer,
    RECORDS.refreshFamily,
    family.sealed,
    ctx.seconds(),
    unknown,
  );
  if (state.familyKey !== familyKey) throw unknown();
  facts.scopes = state.scopes;
  if (state.issuer !== ctx.config.issuer || state.resource !== ctx.config.resource) {
    throw new StepError(
      'refresh_issuer_mismatch',
      refuse('invalid_grant', 'The refresh token was issued by another server'),
    );
  }
  if (!constantTimeEqual(clientDigest(clientId), state.clientDigest)) {
    // Only the client it was issued to holds it: in another's hands it has leaked.
    throw await ended('refresh_client_mismatch', 'The refresh token was issued to another client');
  }
  if (await sessionEnded(ctx, state)) {
    throw await ended('session_ended', 'The session was ended; sign in again');
  }

  const answer = await ctx.upstream.refresh(state.upstreamRefreshToken);
  if (answer.kind === 'refused') {
    // The upstream ended the session (expired, signed out, disabled): so does the family.
    throw await ended('upstream_refused', 'The sign-in could not be refreshed; sign in again');
  }
  if (answer.kind !== 'tokens') return upstreamFailure('refresh', answer, facts);
  // The upstream may rotate its own token too (Cognito's refresh-token rotation): keep the new.
  const upstreamRefresh = answer.tokens.refresh_token;
  const sealed =
    upstreamRefresh === undefined || upstreamRefresh === state.upstreamRefreshToken
      ? family.sealed
      : await sealRecord(
          ctx.sealer,
          RECORDS.refreshFamily,
          { ...state, upstreamRefreshToken: upstreamRefresh },
          family.expiresAt,
        );
  const next = rotatedRefreshToken(token);
  const rotated = await ctx.families.rotate(
    familyKey,
    { secretHash: family.secretHash, generation: family.generation },
    { secretHash: next.secretHash, sealed },
  );
  if (!rotated) {
    // Another refresh with the same token (or an end) got there between the read and the
    // write: this presentation is of a token no longer current, as above.
    throw await ended('refresh_token_reused', 'This refresh token was already used; sign in again');
  }
  return issuedTokens('refresh', answer.tokens, facts, state.scopes, next.token);
}

/**
 * Did a sign-out or disable end this family's session? Only the session bound counts: a
 * group change must not end the family (a refreshed token carries the new groups), so the
 * token about to be issued counts as issued after any other not-before.
 */
async function sessionEnded(ctx: ProxyContext, state: RefreshFamilyState): Promise<boolean> {
  if (ctx.sessions === undefined) return false;
  // A person the list cannot name cannot be cleared by it: fail closed.
  if (state.subject === undefined) return true;
  return ctx.sessions.isRevoked(userPrincipal(state.subject), {
    issuedAt: Number.POSITIVE_INFINITY,
    authTime: state.authTime,
  });
}
