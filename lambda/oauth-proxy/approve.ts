/**
 * `GET /approve` and `POST /approve`: the call shown to the person who made it, and their
 * answer. The page is shown only to that person (`sub` compared in constant time), freshly
 * signed in (else they are sent to sign in first), while their groups still grant the call,
 * with a form whose token is bound to the browser and the approval. The answer must come from
 * this server's own page (Origin), once, and is recorded with a conditional write: only the
 * pending request the ticket names, only while it is in force.
 */
import { randomBytes } from 'node:crypto';
import { APPROVAL_STATUS, type ApprovalTicket, inForce } from '../shared/approvals';
import { APPROVAL_PATHS } from '../shared/routes';
import {
  APPROVAL_SIGN_IN_SECONDS,
  type ApprovalContext,
  type ApprovalFacts,
  type ApprovalPageOutcome,
  approvalAudit,
  PageRefusal,
} from './approval-context';
import { callPage, decidedPage, refusalPage, wrongPersonPage } from './approval-html';
import { startSignIn } from './approval-sign-in';
import { isBrowserId, newBrowserId, sha256, spendOnce } from './browser';
import { type ProxyRequest, parseCookies, redirect, uniqueParams } from './http';
import { constantTimeEqual } from './pkce';
import { type Approver, openRecordOr, RECORDS, sealRecord } from './records';

/** `GET /approve?ticket=…`: the call, to its maker signed in; else off to sign in. */
export async function showApproval(
  ctx: ApprovalContext,
  request: ProxyRequest,
  facts: ApprovalFacts,
): Promise<ApprovalPageOutcome> {
  const params = uniqueParams(request.query);
  if (params === undefined) {
    throw new PageRefusal('invalid_ticket', refusalPage(400, 'A parameter is repeated.'));
  }
  const ticketText = params.get('ticket') ?? '';
  const ticket = await ctx.openTicket(ticketText, facts);
  const cookies = parseCookies(request.header('cookie'));
  const setCookies: string[] = [];
  let browserId = cookies.get(ctx.browserCookie);
  if (!isBrowserId(browserId)) {
    browserId = newBrowserId();
    setCookies.push(ctx.cookie(ctx.browserCookie, browserId, APPROVAL_SIGN_IN_SECONDS));
  }
  const browser = sha256(browserId);
  const approver = await ctx.approver(cookies.get(ctx.approverCookie), browser);
  // Signed in as someone else, or a while ago (or asked to sign in again): sign in now.
  const again = params.get('sign_in') === 'again';
  if (approver.kind !== 'fresh' || again) {
    const location = await startSignIn(ctx, browser, ticketText);
    return {
      response: redirect(location, 302, setCookies),
      audit: approvalAudit(
        facts,
        'sign_in',
        approver.kind === 'stale' || again ? 'sign_in_stale' : 'sign_in_required',
        302,
      ),
    };
  }
  checkPerson(ctx, approver.approver, ticket, ticketText);
  const record = await pendingRecord(ctx, ticket);
  const formToken = await sealRecord(
    ctx.sealer,
    RECORDS.approvalForm,
    {
      browserDigest: browser,
      approvalId: ticket.approvalId,
      nonce: randomBytes(16).toString('base64url'),
    },
    Math.min(ctx.seconds() + APPROVAL_SIGN_IN_SECONDS, record.expiresAt),
  );
  return {
    response: callPage({
      ticket,
      ticketText,
      formToken,
      subject: approver.approver.subject,
      approvalSeconds: ctx.config.approvalSeconds,
      action: `${ctx.basePath}${APPROVAL_PATHS.page}`,
      cookies: setCookies,
    }),
    audit: approvalAudit(facts, 'shown', 'ok', 200),
  };
}

/** `POST /approve`: the person's answer, recorded once. */
export async function answerApproval(
  ctx: ApprovalContext,
  request: ProxyRequest,
  facts: ApprovalFacts,
): Promise<ApprovalPageOutcome> {
  // Only this server's own page may answer: another site's form is refused unread. Browsers
  // send Origin on every form POST.
  if (request.header('origin') !== ctx.origin) {
    throw new PageRefusal(
      'foreign_origin',
      refusalPage(403, 'Approvals are accepted only from this server’s own page.'),
    );
  }
  const form = ctx.form(request);
  const cookies = parseCookies(request.header('cookie'));
  const browserId = cookies.get(ctx.browserCookie);
  if (!isBrowserId(browserId)) {
    throw new PageRefusal(
      'missing_browser_cookie',
      refusalPage(403, 'This browser did not open the approval page (cookies must be on).'),
    );
  }
  const browser = sha256(browserId);
  const ticket = await ctx.openTicket(form.get('ticket') ?? '', facts);
  const { value: token, expiresAt: tokenExpiry } = await openRecordOr(
    ctx.sealer,
    RECORDS.approvalForm,
    form.get('form') ?? '',
    ctx.seconds(),
    () =>
      new PageRefusal(
        'invalid_form',
        refusalPage(400, 'The approval page expired or is not valid; open the link again.'),
      ),
  );
  if (!constantTimeEqual(token.browserDigest, browser)) {
    throw new PageRefusal(
      'form_browser_mismatch',
      refusalPage(403, 'This approval page was opened in another browser.'),
    );
  }
  if (!constantTimeEqual(token.approvalId, ticket.approvalId)) {
    throw new PageRefusal(
      'invalid_form',
      refusalPage(400, 'This form belongs to another approval.'),
    );
  }
  const approver = await ctx.approver(cookies.get(ctx.approverCookie), browser);
  if (approver.kind !== 'fresh') {
    throw new PageRefusal(
      approver.kind === 'stale' ? 'sign_in_stale' : 'sign_in_required',
      refusalPage(
        403,
        'Your sign-in is too old to approve with (or missing). Open the approval link again to sign in.',
      ),
    );
  }
  checkPerson(ctx, approver.approver, ticket, form.get('ticket') ?? '');
  const decision = form.get('decision');
  if (decision !== 'approve' && decision !== 'deny') {
    throw new PageRefusal('invalid_form', refusalPage(400, 'Approve or deny.'));
  }
  // Once: the form's nonce is marked used until the form would expire anyway.
  if (!(await spendOnce(ctx.codes, 'approval-form', token.nonce, tokenExpiry))) {
    throw new PageRefusal(
      'form_replayed',
      refusalPage(400, 'This approval page was already answered.'),
    );
  }
  const now = ctx.seconds();
  const recorded = await ctx.store.decide(
    ticket.key,
    ticket.approvalId,
    decision === 'approve' ? APPROVAL_STATUS.approved : APPROVAL_STATUS.denied,
    now + ctx.config.approvalSeconds,
    now,
  );
  if (!recorded) {
    throw new PageRefusal(
      'not_pending',
      refusalPage(409, 'This call was already answered, replaced or has expired.'),
    );
  }
  return {
    response: decidedPage(decision, ticket.tool.name, ctx.config.approvalSeconds),
    audit:
      decision === 'approve'
        ? approvalAudit(facts, 'approved', 'ok', 200)
        : approvalAudit(facts, 'denied', 'denied_by_person', 200),
  };
}

/** Only the person who made the call, while their groups still grant it. */
function checkPerson(
  ctx: ApprovalContext,
  approver: Approver,
  ticket: ApprovalTicket,
  ticketText: string,
): void {
  if (!constantTimeEqual(approver.subject, ticket.sub)) {
    throw new PageRefusal(
      'wrong_person',
      wrongPersonPage(
        `${ctx.basePath}${APPROVAL_PATHS.page}?ticket=${encodeURIComponent(ticketText)}&sign_in=again`,
      ),
    );
  }
  if (!approver.groups.some((group) => ticket.roles.includes(group))) {
    throw new PageRefusal(
      'role_not_allowed',
      refusalPage(
        403,
        `Your groups no longer grant the permission ${ticket.tool.permission} this call needs.`,
      ),
    );
  }
}

/** The table's record of the ticket's request, if that request is still pending. */
async function pendingRecord(ctx: ApprovalContext, ticket: ApprovalTicket) {
  const record = await ctx.store.get(ticket.key);
  const now = ctx.seconds();
  if (record === undefined || record.approvalId !== ticket.approvalId) {
    throw new PageRefusal(
      'not_pending',
      refusalPage(409, 'This approval request was replaced or has expired.'),
    );
  }
  if (!inForce(record, now)) {
    throw new PageRefusal(
      'request_expired',
      refusalPage(409, 'This approval request has expired.'),
      'expired',
    );
  }
  if (record.status !== APPROVAL_STATUS.pending) {
    const what = record.status === APPROVAL_STATUS.denied ? 'denied' : 'approved (or already used)';
    throw new PageRefusal('not_pending', refusalPage(409, `This call was already ${what}.`));
  }
  return record;
}
