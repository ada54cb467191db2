/**
 * Consent: the answer to the consent page (`POST /authorize`), the approvals a browser
 * remembers, and what an approval starts: the upstream sign-in, with the whole transaction
 * sealed in its `state`, so nothing is stored before the person signs in.
 *
 * The answer must come from this server's own page (Origin), from the browser the ticket was
 * made for, once. A remembered approval is a sealed cookie bound to the browser, the client,
 * the redirect URI and the scopes.
 */
import { isBrowserId, sha256, spendOnce } from './browser';
import type { ProxyContext } from './context';
import { errorPage, type ProxyRequest, parseCookies, redirect } from './http';
import { constantTimeEqual, newVerifier } from './pkce';
import {
  type AuthorizationRequest,
  openRecord,
  openRecordOr,
  RECORDS,
  type RememberedApprovals,
  sealRecord,
} from './records';
import { OpenSealedError } from './sealed-json';
import {
  type ClientFacts,
  noteAuthorization,
  type ProxyOutcome,
  StepError,
  stepAudit,
} from './step';

/** How long the person has to sign in upstream. */
export const TRANSACTION_SECONDS = 10 * 60;
/** Approvals a browser remembers at most (the cookie must stay small). */
const MAX_REMEMBERED = 16;

/** `POST /authorize`: the person's answer to the consent page. */
export async function answerConsent(
  ctx: ProxyContext,
  request: ProxyRequest,
  facts: ClientFacts,
): Promise<ProxyOutcome> {
  // Only this server's own page may answer it: another site's form (consent CSRF) is
  // refused before anything is read. Browsers send Origin on every form POST.
  if (request.header('origin') !== ctx.origin) {
    throw new StepError(
      'foreign_origin',
      errorPage(
        403,
        'access_denied',
        'The consent form is accepted only from this server’s own page',
      ),
    );
  }
  const form = ctx.form(request, (error, description) => errorPage(400, error, description));
  const browserId = parseCookies(request.header('cookie')).get(ctx.cookieNames.browser);
  if (!isBrowserId(browserId)) {
    throw new StepError(
      'missing_browser_cookie',
      errorPage(
        403,
        'access_denied',
        'This browser did not open the consent page (cookies must be on)',
      ),
    );
  }
  const browser = sha256(browserId);
  const { value: ticket, expiresAt: ticketExpiry } = await openRecordOr(
    ctx.sealer,
    RECORDS.consentTicket,
    form.get('ticket') ?? '',
    ctx.seconds(),
    (failure) =>
      new StepError(
        failure === 'expired' ? 'ticket_expired' : 'invalid_ticket',
        errorPage(400, 'invalid_request', 'The consent page expired or is not valid; start again'),
      ),
  );
  const authorization = ticket.request;
  noteAuthorization(facts, authorization);
  if (!constantTimeEqual(ticket.browserDigest, browser)) {
    throw new StepError(
      'ticket_browser_mismatch',
      errorPage(403, 'access_denied', 'This consent page was opened in another browser'),
    );
  }
  const decision = form.get('decision');
  if (decision !== 'approve' && decision !== 'deny') {
    throw new StepError('invalid_request', errorPage(400, 'invalid_request', 'Approve or deny'));
  }
  // Once: the ticket's nonce is marked used until the ticket would expire anyway.
  if (!(await spendOnce(ctx.codes, 'ticket', ticket.nonce, ticketExpiry))) {
    throw new StepError(
      'ticket_replayed',
      errorPage(400, 'invalid_request', 'This consent page was already answered; start again'),
    );
  }
  if (decision === 'deny') {
    return {
      response: ctx.clientRedirect(
        authorization.redirectUri,
        { error: 'access_denied', error_description: 'The person denied the request' },
        authorization.clientState,
        303,
      ),
      audit: stepAudit('consent', facts, 'refused', 'denied_by_user', 303, 'access_denied'),
    };
  }
  const cookies: string[] = [];
  if (form.get('remember') === 'yes' && ctx.config.consentRememberSeconds > 0) {
    cookies.push(
      await rememberCookie(
        ctx,
        parseCookies(request.header('cookie')).get(ctx.cookieNames.consent),
        browser,
        authorization,
      ),
    );
  }
  return {
    response: redirect(await startSignIn(ctx, authorization, browser), 303, cookies),
    audit: stepAudit('consent', facts, 'ok', 'approved', 303),
  };
}

/** The upstream sign-in URL for an approved request, its transaction sealed in `state`. */
export async function startSignIn(
  ctx: ProxyContext,
  authorization: AuthorizationRequest,
  browser: string,
): Promise<string> {
  const verifier = newVerifier();
  const state = await sealRecord(
    ctx.sealer,
    RECORDS.transaction,
    {
      ...authorization,
      browserDigest: browser,
      issuer: ctx.config.issuer,
      upstreamVerifier: verifier,
    },
    ctx.seconds() + TRANSACTION_SECONDS,
  );
  return ctx.upstream.signInUrl({ scopes: authorization.scopes, state, verifier });
}

/** Has this browser remembered approving this client, redirect URI and scopes? */
export async function isRemembered(
  ctx: ProxyContext,
  cookie: string | undefined,
  browser: string,
  authorization: AuthorizationRequest,
): Promise<boolean> {
  const remembered = await openRemembered(ctx, cookie, browser);
  const until = remembered?.grants[grantKey(authorization)];
  return until !== undefined && until > ctx.seconds();
}

/** What a remembered approval is keyed by: the client, its redirect URI and the scopes. */
function grantKey(authorization: AuthorizationRequest): string {
  return sha256(
    JSON.stringify([
      authorization.clientDigest,
      authorization.redirectUri,
      [...authorization.scopes].sort(),
    ]),
  ).slice(0, 22);
}

async function openRemembered(
  ctx: ProxyContext,
  cookie: string | undefined,
  browser: string,
): Promise<RememberedApprovals | undefined> {
  if (cookie === undefined || ctx.config.consentRememberSeconds === 0) return undefined;
  try {
    const { value: remembered } = await openRecord(
      ctx.sealer,
      RECORDS.rememberedApprovals,
      cookie,
      ctx.seconds(),
    );
    // Another browser's cookie (copied over) remembers nothing here.
    return constantTimeEqual(remembered.browserDigest, browser) ? remembered : undefined;
  } catch (error) {
    if (error instanceof OpenSealedError) return undefined;
    throw error;
  }
}

/** The remember cookie with this approval added (the oldest dropped past the bound). */
async function rememberCookie(
  ctx: ProxyContext,
  cookie: string | undefined,
  browser: string,
  authorization: AuthorizationRequest,
): Promise<string> {
  const now = ctx.seconds();
  const previous = await openRemembered(ctx, cookie, browser);
  const grants = Object.entries(previous?.grants ?? {})
    .filter(([, until]) => until > now)
    .sort(([, a], [, b]) => a - b);
  grants.push([grantKey(authorization), now + ctx.config.consentRememberSeconds]);
  const kept = Object.fromEntries(grants.slice(-MAX_REMEMBERED));
  const expiresAt = Math.max(...Object.values(kept));
  const sealed = await sealRecord(
    ctx.sealer,
    RECORDS.rememberedApprovals,
    { browserDigest: browser, grants: kept },
    expiresAt,
  );
  return ctx.cookie(ctx.cookieNames.consent, sealed, expiresAt - now);
}
