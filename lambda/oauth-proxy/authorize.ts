/**
 * `GET /authorize`: the client's authorization request, validated (the client, its redirect
 * URI, before which every error is a page and never a redirect; then `response_type=code`,
 * PKCE S256, `resource` per RFC 8707 and the scopes, refused back to the client), then the
 * consent page, with a ticket sealed for this browser (a random id in an HttpOnly, SameSite=Lax
 * cookie, set here) and this exact request. A remembered approval goes straight on upstream.
 */
import { randomBytes } from 'node:crypto';
import type { AuthorizationReason } from '../shared/audit';
import { isBrowserId, newBrowserId, sha256 } from './browser';
import { clientDigest, type ResolvedClient, UnknownClientError } from './clients';
import { isRemembered, startSignIn } from './consent';
import { consentPage } from './consent-page';
import type { ProxyContext } from './context';
import { errorPage, type ProxyRequest, parseCookies, redirect, uniqueParams } from './http';
import { CHALLENGE } from './pkce';
import { type AuthorizationRequest, RECORDS, sealRecord } from './records';
import { matchRedirectUri } from './redirect-uri';
import { type ClientFacts, type ProxyOutcome, StepError, stepAudit } from './step';

/** How long a consent page may wait for its answer. */
const CONSENT_TICKET_SECONDS = 10 * 60;
/** The longest `state` passed through: bounds the sealed transaction (and the upstream URL). */
const MAX_STATE_LENGTH = 512;
const SCOPE_TOKEN = /^[!#-[\]-~]+$/;

export async function authorize(
  ctx: ProxyContext,
  request: ProxyRequest,
  facts: ClientFacts,
): Promise<ProxyOutcome> {
  const params = uniqueParams(request.query);
  if (params === undefined) {
    throw new StepError(
      'duplicate_parameter',
      errorPage(400, 'invalid_request', 'A parameter is repeated'),
    );
  }
  const clientId = params.get('client_id') ?? '';
  const client = await resolveClient(ctx, clientId, facts);
  const redirectUri = params.get('redirect_uri');
  if (redirectUri === undefined) {
    throw new StepError(
      'invalid_redirect_uri',
      errorPage(400, 'invalid_request', 'redirect_uri is required'),
    );
  }
  if (!matchRedirectUri(client.redirectUris, redirectUri)) {
    throw new StepError(
      'redirect_uri_mismatch',
      errorPage(400, 'invalid_request', 'redirect_uri is not one this client registered'),
    );
  }
  facts.redirectHost = new URL(redirectUri).host;
  // From here on the redirect URI is the client's own: errors go back to it.
  const state = params.get('state');
  const back = (error: string, description: string, reason: AuthorizationReason) =>
    new StepError(
      reason,
      ctx.clientRedirect(redirectUri, { error, error_description: description }, state),
    );
  if (state !== undefined && state.length > MAX_STATE_LENGTH) {
    throw new StepError(
      'invalid_state',
      ctx.clientRedirect(
        redirectUri,
        {
          error: 'invalid_request',
          error_description: `state must be at most ${MAX_STATE_LENGTH} characters`,
        },
        undefined,
      ),
    );
  }
  if (params.get('response_type') !== 'code') {
    throw back(
      'unsupported_response_type',
      'response_type must be code',
      'unsupported_response_type',
    );
  }
  const challenge = params.get('code_challenge');
  const method = params.get('code_challenge_method');
  if (challenge === undefined) {
    throw back(
      'invalid_request',
      'PKCE is required: code_challenge with method S256',
      'pkce_missing',
    );
  }
  // A missing method means plain (RFC 7636 section 4.3): a downgrade, refused like plain.
  if (method !== 'S256') {
    throw back('invalid_request', 'code_challenge_method must be S256', 'pkce_method_not_s256');
  }
  if (!CHALLENGE.test(challenge)) {
    throw back(
      'invalid_request',
      'code_challenge must be 43 base64url characters',
      'invalid_code_challenge',
    );
  }
  const resource = params.get('resource');
  if (resource === undefined) {
    throw back(
      'invalid_request',
      'resource is required (RFC 8707): this MCP server’s URL',
      'resource_missing',
    );
  }
  if (resource !== ctx.config.resource) {
    throw back('invalid_target', 'resource is not this MCP server', 'resource_mismatch');
  }
  const scopes = grantedScopes(ctx, params.get('scope'), client);
  if (scopes === undefined) {
    throw back('invalid_scope', 'scope names a scope this client may not ask for', 'invalid_scope');
  }
  facts.scopes = scopes;

  const authorization: AuthorizationRequest = {
    clientDigest: clientDigest(clientId),
    clientKind: client.kind,
    ...(client.clientHost === undefined ? {} : { clientHost: client.clientHost }),
    redirectUri,
    ...(state === undefined ? {} : { clientState: state }),
    codeChallenge: challenge,
    scopes,
  };
  const cookies = parseCookies(request.header('cookie'));
  let browserId = cookies.get(ctx.cookieNames.browser);
  const setCookies: string[] = [];
  if (!isBrowserId(browserId)) {
    browserId = newBrowserId();
    setCookies.push(
      ctx.cookie(
        ctx.cookieNames.browser,
        browserId,
        Math.max(ctx.config.consentRememberSeconds, CONSENT_TICKET_SECONDS),
      ),
    );
  }
  const browser = sha256(browserId);

  if (await isRemembered(ctx, cookies.get(ctx.cookieNames.consent), browser, authorization)) {
    const upstream = await startSignIn(ctx, authorization, browser);
    return {
      response: redirect(upstream, 302, setCookies),
      audit: stepAudit('consent', facts, 'ok', 'consent_remembered', 302),
    };
  }
  const ticket = await sealRecord(
    ctx.sealer,
    RECORDS.consentTicket,
    {
      browserDigest: browser,
      nonce: randomBytes(16).toString('base64url'),
      request: authorization,
    },
    ctx.seconds() + CONSENT_TICKET_SECONDS,
  );
  return {
    response: consentPage(ctx.config, {
      client,
      redirectUri,
      scopes,
      ticket,
      upstreamOrigin: ctx.upstream.origin,
      cookies: setCookies,
    }),
    audit: stepAudit('authorize', facts, 'ok', 'consent_shown', 200),
  };
}

async function resolveClient(
  ctx: ProxyContext,
  clientId: string,
  facts: ClientFacts,
): Promise<ResolvedClient> {
  facts.kind = clientId === '' ? 'unknown' : ctx.clients.classify(clientId);
  if (clientId !== '') facts.digest = clientDigest(clientId);
  try {
    const client = await ctx.clients.resolve(clientId);
    if (client.clientHost !== undefined) facts.host = client.clientHost;
    return client;
  } catch (error) {
    if (!(error instanceof UnknownClientError)) throw error;
    if (facts.kind === 'cimd') {
      try {
        facts.host = new URL(clientId).host;
      } catch {
        // not a URL: no host to record
      }
    }
    throw new StepError(
      error.reason,
      errorPage(
        400,
        'invalid_client',
        error.reason.startsWith('cimd_')
          ? `The client’s metadata document could not be used (${error.reason})`
          : 'This client is not known to this server',
      ),
    );
  }
}

/** The scopes granted: as asked (or the defaults), all supported, none beyond the client's. */
function grantedScopes(
  ctx: ProxyContext,
  scope: string | undefined,
  client: ResolvedClient,
): string[] | undefined {
  const asked = (scope ?? '').split(' ').filter((s) => s !== '');
  const wanted = asked.length > 0 ? asked : [...(client.scopes ?? ctx.config.defaultScopes)];
  if (wanted.some((s) => !SCOPE_TOKEN.test(s) || !ctx.config.supportedScopes.includes(s))) {
    return undefined;
  }
  // A client's registered or declared scopes are its default, not a ceiling: anyone may
  // register or publish a document naming every scope, so a ceiling protects nothing, and it
  // would refuse the step-up a 403 insufficient_scope asks for. The person approves what is
  // asked on the consent page, and roles still bound what any token can do.
  return [...new Set(wanted)];
}
