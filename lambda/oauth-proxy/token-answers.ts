/**
 * What the token endpoint answers after the upstream's: the client's tokens, or the
 * upstream's refusal or silence. Shared by the code grant (`token.ts`) and the refresh grant
 * (`refresh-grant.ts`).
 */
import type { AuthorizationStep } from '../shared/audit';
import { jsonResponse } from './http';
import { type ClientFacts, type ProxyOutcome, stepAudit } from './step';
import type { UpstreamAnswer, UpstreamTokens } from './upstream';

/**
 * The tokens for the client: the upstream's access token (so the authorizer's Cognito
 * verification is unchanged), and this server's own refresh token, never the upstream's. Not
 * the upstream's id_token either: that one is an identity assertion for the proxy's own
 * upstream client (its `aud`), which this client must not be able to replay to anything that
 * trusts that client id.
 */
export function issuedTokens(
  step: AuthorizationStep,
  tokens: UpstreamTokens,
  facts: ClientFacts,
  scopes: readonly string[],
  refreshToken: string | undefined,
): ProxyOutcome {
  const scope = tokens.scope ?? scopes.join(' ');
  return {
    response: jsonResponse(200, {
      access_token: tokens.access_token,
      token_type: 'Bearer',
      ...(tokens.expires_in === undefined ? {} : { expires_in: tokens.expires_in }),
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
      scope,
    }),
    audit: stepAudit(step, facts, 'ok', 'ok', 200),
  };
}

/** The upstream refused the grant (400) or did not answer with tokens (502). */
export function upstreamFailure(
  step: AuthorizationStep,
  answer: Exclude<UpstreamAnswer, { kind: 'tokens' }>,
  facts: ClientFacts,
): ProxyOutcome {
  if (answer.kind === 'refused') {
    return {
      response: jsonResponse(400, {
        error: 'invalid_grant',
        error_description: 'The sign-in could not be redeemed; start again',
      }),
      audit: stepAudit(step, facts, 'refused', 'upstream_error', 400, 'invalid_grant'),
    };
  }
  return {
    response: jsonResponse(502, {
      error: 'server_error',
      error_description: 'The sign-in service did not answer; try again',
    }),
    audit: stepAudit(step, facts, 'error', 'upstream_unavailable', 502, 'server_error'),
  };
}
