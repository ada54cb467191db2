/**
 * The OAuth authorization server in front of the upstream (Cognito's hosted login in AWS, the
 * local sign-in page in local mode): {@link OAuthProxy} routes `/authorize`, the consent form,
 * `/callback` and `/token` to their endpoints, over plain requests and ports, and answers and
 * audits each request once, a failure included. This file is the proxy's public surface.
 *
 * The flow, and what binds each step to the one before:
 *
 * 1. `GET /authorize` validates the client, its redirect URI (before which every error is a
 *    page, never a redirect), `response_type=code`, PKCE S256, `resource` (RFC 8707) and the
 *    scopes, then shows the consent page. Its form carries a ticket sealed for this browser
 *    (a random id in an HttpOnly, SameSite=Lax cookie, set here) and this exact request.
 * 2. `POST /authorize` (the person's answer) must come from this server's own page (Origin),
 *    from the browser the ticket was made for, once. Approve: 303 to the upstream with the
 *    proxy's own client id, fixed callback and fresh PKCE; the upstream `state` is the whole
 *    transaction, sealed, so nothing is stored before the person signs in. Deny: back to the
 *    client with `access_denied`. An approval can be remembered (a sealed cookie bound to the
 *    browser, the client, the redirect URI and the scopes), and then step 1 goes straight on.
 * 3. `GET /callback` opens the transaction, checks it was started in this browser (so a
 *    sign-in link started by someone else cannot deliver this person's code to their client),
 *    marks it used (one callback per transaction), mints the client's code (256 random bits)
 *    and stores what redeeming it needs, sealed, under its SHA-256 for 60 seconds; the client
 *    gets `code`, its `state` and `iss`.
 * 4. `POST /token` takes every code the request presents (atomically: single use) before it
 *    checks anything, so a refused request burns its code too; then it checks the client, the
 *    redirect URI, the PKCE verifier (constant time) and `resource`, redeems the upstream code
 *    with the proxy's verifier and hands the client the upstream's access token (so the
 *    authorizer's Cognito verification is unchanged) and a refresh token of this server's own,
 *    the first of a family that keeps the upstream's refresh token sealed.
 * 5. `POST /token` with a refresh token: the token's family, its current secret, the client it
 *    was issued to and the person's session (the not-before list) are checked, the upstream
 *    refreshes, and the family rotates: a new refresh token, the old one dead. Whatever shows
 *    a token has leaked (an old one presented, another client) ends the family
 *    (`refresh-families.ts`).
 *
 * "The person" before the upstream sign-in is the browser: consent, its ticket and a
 * remembered approval are bound to a browser cookie, not to an account, because nobody has
 * signed in yet. Whoever uses that browser profile shares its remembered approvals (for the
 * one client, redirect URI and scopes each names, until it expires); the upstream sign-in
 * that follows still decides who the tokens are for.
 *
 * Where each part lives: `authorize.ts` (step 1), `consent.ts` and `consent-page.ts` (step 2),
 * `callback.ts` (3), `token.ts` (4), `refresh-grant.ts` (5); what the sealed values hold in
 * `records.ts`; the upstream's URL and token endpoint in `upstream.ts` (README.md lists all).
 */
import { publicPreflightHeaders } from '../shared/cors';
import { OAUTH_PATHS } from '../shared/routes';
import { authorize } from './authorize';
import { callback } from './callback';
import { answerConsent } from './consent';
import { type OAuthProxyDeps, ProxyContext } from './context';
import { errorPage, jsonResponse, type ProxyRequest } from './http';
import {
  type ClientFacts,
  oauthErrorOf,
  type ProxyOutcome,
  StepError,
  stepAudit,
  stepOf,
} from './step';
import { token } from './token';

export type { OAuthProxyConfig, OAuthProxyDeps, SessionCheck } from './context';
export type { ProxyOutcome } from './step';

export class OAuthProxy {
  readonly #context: ProxyContext;

  constructor(deps: OAuthProxyDeps) {
    this.#context = new ProxyContext(deps);
  }

  /** The proxy's fixed callback at the upstream. */
  get callbackUrl(): string {
    return this.#context.callbackUrl;
  }

  /** Answer one request; never throws (a failure is answered and audited as an error). */
  async handle(request: ProxyRequest): Promise<ProxyOutcome> {
    const ctx = this.#context;
    const facts: ClientFacts = { kind: 'unknown' };
    const { method, path } = request;
    const step = stepOf(request);
    try {
      if (path === OAUTH_PATHS.authorize && method === 'GET') {
        return await authorize(ctx, request, facts);
      }
      if (path === OAUTH_PATHS.authorize && method === 'POST') {
        return await answerConsent(ctx, request, facts);
      }
      if (path === OAUTH_PATHS.callback && method === 'GET') {
        return await callback(ctx, request, facts);
      }
      if (path === OAUTH_PATHS.token && method === 'OPTIONS') {
        return {
          response: {
            status: 204,
            headers: publicPreflightHeaders(['POST']),
            cookies: [],
            body: '',
          },
          audit: stepAudit(step, facts, 'ok', 'ok', 204),
        };
      }
      if (path === OAUTH_PATHS.token && method === 'POST') {
        return await token(ctx, request, facts);
      }
      const allow =
        path === OAUTH_PATHS.authorize
          ? 'GET, POST'
          : path === OAUTH_PATHS.token
            ? 'POST, OPTIONS'
            : 'GET';
      const response =
        path === OAUTH_PATHS.token
          ? jsonResponse(405, { error: 'invalid_request', error_description: 'Use POST' })
          : errorPage(405, 'invalid_request', 'This method is not allowed here');
      return {
        response: { ...response, headers: { ...response.headers, Allow: allow } },
        audit: stepAudit(step, facts, 'refused', 'method_not_allowed', 405, 'invalid_request'),
      };
    } catch (error) {
      if (error instanceof StepError) {
        return {
          response: error.response,
          audit: stepAudit(
            step,
            facts,
            error.outcome,
            error.reason,
            error.response.status,
            oauthErrorOf(error.response),
          ),
        };
      }
      // Fail closed: an outage (KMS, the code table, a resolver bug) is a server error.
      const response =
        path === OAUTH_PATHS.token
          ? jsonResponse(500, {
              error: 'server_error',
              error_description: 'The request could not be processed',
            })
          : errorPage(
              500,
              'server_error',
              'The server could not process this request; try again later',
            );
      return {
        response,
        audit: stepAudit(step, facts, 'error', 'internal_error', 500, 'server_error'),
      };
    }
  }
}
