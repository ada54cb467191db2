/**
 * The approval page's sign-in: sending the person to sign in afresh upstream (`prompt=login`,
 * PKCE), the ticket and the browser sealed in `state`, and `GET /approval-callback`, which
 * takes the sign-in back (started in this browser, once), redeems the upstream's code and
 * puts who signed in, and when, into the approver cookie (sealed, HttpOnly, bound to the
 * browser, expiring with the sign-in's freshness).
 */
import { APPROVAL_PATHS } from '../shared/routes';
import {
  APPROVAL_SIGN_IN_SECONDS,
  type ApprovalContext,
  type ApprovalFacts,
  type ApprovalPageOutcome,
  approvalAudit,
  PageRefusal,
} from './approval-context';
import { refusalPage } from './approval-html';
import { sha256, spendOnce } from './browser';
import { type ProxyRequest, parseCookies, redirect, uniqueParams } from './http';
import { constantTimeEqual, newVerifier } from './pkce';
import { type Approver, openRecordOr, RECORDS, sealRecord } from './records';
import { accessTokenClaims } from './upstream';

/** The upstream's sign-in URL, the ticket and this browser sealed in `state`. */
export async function startSignIn(
  ctx: ApprovalContext,
  browser: string,
  ticketText: string,
): Promise<string> {
  const verifier = newVerifier();
  const state = await sealRecord(
    ctx.sealer,
    RECORDS.approvalSignIn,
    { browserDigest: browser, upstreamVerifier: verifier, ticket: ticketText },
    ctx.seconds() + APPROVAL_SIGN_IN_SECONDS,
  );
  // An existing hosted-login session must not stand in for a fresh sign-in (OIDC `prompt`;
  // https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html).
  // Whatever the upstream does with it, the callback checks `auth_time` itself.
  return ctx.upstream.signInUrl({
    scopes: ctx.config.signInScopes,
    state,
    verifier,
    prompt: 'login',
  });
}

/** `GET /approval-callback`: the upstream's answer to the sign-in. */
export async function completeSignIn(
  ctx: ApprovalContext,
  request: ProxyRequest,
  facts: ApprovalFacts,
): Promise<ApprovalPageOutcome> {
  const params = uniqueParams(request.query);
  if (params === undefined) {
    throw new PageRefusal('invalid_sign_in', refusalPage(400, 'A parameter is repeated.'));
  }
  const { value: signIn, expiresAt } = await openRecordOr(
    ctx.sealer,
    RECORDS.approvalSignIn,
    params.get('state') ?? '',
    ctx.seconds(),
    () =>
      new PageRefusal(
        'invalid_sign_in',
        refusalPage(400, 'This sign-in was not started here, or took too long.'),
      ),
  );
  // Once, and spent by any arrival, even one refused below: a callback URL that reached the
  // wrong browser (an agent handed the person its sign-in link) must not stay redeemable by
  // the browser that started it. The sign-in's verifier is its nonce.
  if (!(await spendOnce(ctx.codes, 'approval-sign-in', signIn.upstreamVerifier, expiresAt))) {
    throw new PageRefusal(
      'sign_in_replayed',
      refusalPage(400, 'This sign-in was already completed.'),
    );
  }
  // The call the sign-in is for, for the record (and a ticket expired meanwhile ends it).
  await ctx.openTicket(signIn.ticket, facts);
  const browserId = parseCookies(request.header('cookie')).get(ctx.browserCookie);
  if (browserId === undefined || !constantTimeEqual(sha256(browserId), signIn.browserDigest)) {
    throw new PageRefusal(
      'sign_in_browser_mismatch',
      refusalPage(
        403,
        'This sign-in was started in another browser, so it did not count and cannot be used again. Do not share this link. To approve, open the approval link itself in this browser.',
      ),
    );
  }
  const code = params.get('code');
  if (
    params.get('error') !== undefined ||
    code === undefined ||
    code === '' ||
    code.length > 2048
  ) {
    throw new PageRefusal('upstream_denied', refusalPage(403, 'The sign-in did not complete.'));
  }
  const person = await redeem(ctx, code, signIn.upstreamVerifier);
  // Who signed in: the call's maker, or (refused on the page) someone else.
  facts.caller = person.subject;
  if (!ctx.isFresh(person.authTime)) {
    throw new PageRefusal(
      'sign_in_stale',
      refusalPage(
        403,
        'The sign-in service kept an earlier sign-in instead of asking you again. Sign out of it, then open the approval link again.',
      ),
    );
  }
  const approver: Approver = { browserDigest: signIn.browserDigest, ...person };
  const until = person.authTime + ctx.config.signInMaxAgeSeconds;
  const cookie = ctx.cookie(
    ctx.approverCookie,
    await sealRecord(ctx.sealer, RECORDS.approver, approver, until),
    Math.max(until - ctx.seconds(), 1),
  );
  const back = `${ctx.config.issuer}${APPROVAL_PATHS.page}?ticket=${encodeURIComponent(signIn.ticket)}`;
  return {
    response: redirect(back, 303, [cookie]),
    audit: approvalAudit(facts, 'sign_in', 'signed_in', 303),
  };
}

/** Who signed in: the upstream access token's `sub`, `auth_time` and groups. */
type Person = Omit<Approver, 'browserDigest'>;

/** Who signed in, from the upstream's answer to the code, or a refusal page. */
async function redeem(ctx: ApprovalContext, code: string, verifier: string): Promise<Person> {
  const answer = await ctx.upstream.redeemCode(code, verifier);
  if (answer.kind === 'unreachable') {
    throw new PageRefusal(
      'unavailable',
      refusalPage(502, 'The sign-in service did not answer; try again.'),
    );
  }
  if (answer.kind !== 'tokens') {
    throw new PageRefusal(
      'upstream_error',
      refusalPage(502, 'The sign-in could not be completed; open the approval link again.'),
    );
  }
  const person = personOf(answer.tokens.access_token);
  if (person === undefined) {
    throw new PageRefusal(
      'upstream_error',
      refusalPage(502, 'The sign-in service answered without saying who signed in.'),
    );
  }
  return person;
}

/**
 * Who signed in, from the upstream's access token: `sub`, `auth_time` and groups, read from
 * the payload, not verified (`accessTokenClaims` says why that is sound here).
 */
function personOf(accessToken: string): Person | undefined {
  const claims = accessTokenClaims(accessToken);
  if (claims === undefined) return undefined;
  const { sub, auth_time: authTime } = claims;
  const groups = claims['cognito:groups'] ?? [];
  if (typeof sub !== 'string' || sub === '' || typeof authTime !== 'number') return undefined;
  if (!Array.isArray(groups) || !groups.every((group) => typeof group === 'string')) {
    return undefined;
  }
  return { subject: sub, groups, authTime };
}
