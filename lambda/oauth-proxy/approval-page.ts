/**
 * The approval page, beside the consent page: where the person who made a call approves or
 * denies exactly that call (`lambda/mcp/approvals.ts` sends them here with its URL). What binds
 * each step, so that nobody but that person, in their browser, freshly signed in, can approve:
 *
 * 1. `GET /approve?ticket=…` opens the ticket (sealed by the MCP function, KMS purpose
 *    `approval-ticket`: nobody else can make one, and it shows nothing to whoever holds the
 *    URL). Unless this browser holds an approver cookie for a sign-in no older than the
 *    deployment allows, the person is sent to sign in at the upstream (Cognito's hosted login,
 *    `prompt=login`, PKCE), the ticket and the browser riding in the sealed `state`.
 * 2. `GET /approval-callback` takes the sign-in back: started in this browser, once; the
 *    upstream's code is redeemed with the proxy's verifier, and the access token's `sub`,
 *    `auth_time` and groups go into the approver cookie (sealed, HttpOnly, bound to the
 *    browser, expiring with the sign-in's freshness). The token is read, not verified: it came
 *    from the upstream's token endpoint over TLS in answer to this server's own code exchange
 *    (OpenID Connect Core 1.0 section 3.1.3.7: TLS server validation may stand in for the
 *    signature of a token received directly from the token endpoint).
 * 3. The page shows the call (the tool, its arguments escaped, the client as it names itself,
 *    the permission) only to the person who made it (`sub` compared in constant time) while
 *    their groups still grant it, with a form whose token is bound to the browser and the
 *    approval, answerable once, from this server's own page (Origin), never in a frame.
 * 4. `POST /approve` records approved or denied with a conditional write: only the pending
 *    request the ticket names, only while it is in force.
 *
 * Every request leaves one `mcp.approval` record; none holds the ticket, the arguments, a
 * cookie or a token.
 */
import { randomBytes } from 'node:crypto';
import {
  APPROVAL_STATUS,
  type ApprovalStore,
  type ApprovalTicket,
  approvalDigest,
  inForce,
  parseApprovalTicket,
  revealHidden,
} from '../shared/approvals';
import type { ApprovalAudit, ApprovalReason, ApprovalStep } from '../shared/audit';
import { APPROVAL_PATHS } from '../shared/routes';
import { isBrowserId, newBrowserId, sha256 } from './browser';
import {
  cookieNames,
  escapeHtml,
  htmlPage,
  MAX_FORM_BYTES,
  type ProxyRequest,
  type ProxyResponse,
  parseCookies,
  redirect,
  setCookie,
  uniqueParams,
} from './http';
import { constantTimeEqual, newVerifier } from './pkce';
import {
  type CodeStore,
  CodeStoreConflictError,
  type FetchLike,
  SEAL_PURPOSES,
  type Sealer,
} from './ports';
import {
  type ApprovalFormToken,
  type ApprovalSignIn,
  type Approver,
  openRecord,
  RECORDS,
  sealRecord,
} from './records';
import { OpenSealedError, openJson } from './sealed-json';
import { accessTokenClaims, Upstream, type UpstreamConfig } from './upstream';

/** How long the person has to sign in, and to answer the page's form. */
export const APPROVAL_SIGN_IN_SECONDS = 10 * 60;
/** A little leeway for the upstream's clock when judging how fresh its sign-in is. */
const CLOCK_SKEW_SECONDS = 30;

export interface ApprovalPageConfig {
  /** This server's issuer, the API base URL (no trailing slash). */
  readonly issuer: string;
  readonly upstream: UpstreamConfig;
  /** The scopes the page's sign-in asks for (the audience scope: nothing narrower is needed). */
  readonly signInScopes: readonly string[];
  /** How long an approval waits for the call it approves (and a denial holds). */
  readonly approvalSeconds: number;
  /** How old the person's sign-in may be when they approve. */
  readonly signInMaxAgeSeconds: number;
}

export interface ApprovalPageDeps {
  readonly config: ApprovalPageConfig;
  /** The proxy's sealer: opens tickets, seals the sign-in state, the cookie, the form token. */
  readonly sealer: Sealer;
  /** Single use of the sign-in states and form tokens (the proxy's code table). */
  readonly codes: CodeStore;
  readonly store: ApprovalStore;
  /** Calls the upstream token endpoint. @default globalThis.fetch */
  readonly fetch?: FetchLike;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
}

/** What one request leaves in the audit log (the handler adds request id and source IP). */
export type ApprovalStepAudit = Omit<ApprovalAudit, 'requestId' | 'sourceIp'>;

export interface ApprovalPageOutcome {
  readonly response: ProxyResponse;
  readonly audit: ApprovalStepAudit;
}

/** A refusal of one request: its page and its audit record's step and reason. */
class PageRefusal extends Error {
  constructor(
    readonly reason: ApprovalReason,
    readonly response: ProxyResponse,
    readonly step: ApprovalStep = 'refused',
  ) {
    super(reason);
  }
}

/** A page saying why the approval cannot go on, in words, with nothing the caller sent. */
function refusalPage(status: number, text: string): ProxyResponse {
  return htmlPage(
    status,
    'Approval not possible',
    `<p>${escapeHtml(text)}</p><p>Nothing was approved. If you expected this page, go back to the application and run the call again to get a new link.</p>`,
  );
}

/** The facts of a request's audit record, as far as they are known. */
interface Facts {
  tool?: string;
  caller?: string;
  approvalDigest?: string;
  argsDigest?: string;
  clientName?: string;
}

export class ApprovalPage {
  readonly #config: ApprovalPageConfig;
  readonly #sealer: Sealer;
  readonly #codes: CodeStore;
  readonly #store: ApprovalStore;
  readonly #upstream: Upstream;
  readonly #now: () => number;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #secureCookies: boolean;
  readonly #browserCookie: string;
  readonly #approverCookie: string;

  constructor(deps: ApprovalPageDeps) {
    this.#config = deps.config;
    this.#sealer = deps.sealer;
    this.#codes = deps.codes;
    this.#store = deps.store;
    this.#now = deps.now ?? Date.now;
    const issuer = new URL(deps.config.issuer);
    this.#origin = issuer.origin;
    this.#basePath = issuer.pathname.replace(/\/$/, '');
    this.#secureCookies = this.#origin.startsWith('https://');
    // The consent page's browser cookie: one browser id for both pages.
    const names = cookieNames(this.#origin);
    this.#browserCookie = names.browser;
    this.#approverCookie = names.approver;
    this.#upstream = new Upstream(deps.config.upstream, this.callbackUrl, deps.fetch);
  }

  /** Where the upstream returns a person sent to sign in from this page. */
  get callbackUrl(): string {
    return `${this.#config.issuer}${APPROVAL_PATHS.callback}`;
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  /** Answer one request to the page's routes; never throws (failures are answered, audited). */
  async handle(request: ProxyRequest): Promise<ApprovalPageOutcome> {
    const facts: Facts = {};
    const { method, path } = request;
    const audit = (
      step: ApprovalStep,
      reason: ApprovalReason,
      httpStatus: number,
    ): ApprovalStepAudit => ({
      step,
      reason,
      httpStatus,
      ...(facts.tool === undefined ? {} : { tool: facts.tool }),
      ...(facts.caller === undefined ? {} : { caller: facts.caller, authMethod: 'cognito' }),
      ...(facts.approvalDigest === undefined ? {} : { approvalDigest: facts.approvalDigest }),
      ...(facts.argsDigest === undefined ? {} : { argsDigest: facts.argsDigest }),
      ...(facts.clientName === undefined ? {} : { clientName: facts.clientName }),
    });
    try {
      if (path === APPROVAL_PATHS.page && method === 'GET') {
        return await this.#show(request, facts, audit);
      }
      if (path === APPROVAL_PATHS.page && method === 'POST') {
        return await this.#answer(request, facts, audit);
      }
      if (path === APPROVAL_PATHS.callback && method === 'GET') {
        return await this.#signedIn(request, facts, audit);
      }
      const page = refusalPage(405, 'This method is not allowed here.');
      return {
        response: {
          ...page,
          headers: { ...page.headers, Allow: path === APPROVAL_PATHS.page ? 'GET, POST' : 'GET' },
        },
        audit: audit('refused', 'method_not_allowed', 405),
      };
    } catch (error) {
      if (error instanceof PageRefusal) {
        return {
          response: error.response,
          audit: audit(error.step, error.reason, error.response.status),
        };
      }
      // Fail closed: a KMS, table or upstream outage approves nothing.
      return {
        response: refusalPage(500, 'The server could not process this approval; try again later.'),
        audit: audit('refused', 'unavailable', 500),
      };
    }
  }

  // ---------------------------------------------------------------------------------------
  // GET /approve
  // ---------------------------------------------------------------------------------------

  async #show(
    request: ProxyRequest,
    facts: Facts,
    audit: (step: ApprovalStep, reason: ApprovalReason, status: number) => ApprovalStepAudit,
  ): Promise<ApprovalPageOutcome> {
    const params = uniqueParams(request.query);
    if (params === undefined) {
      throw new PageRefusal('invalid_ticket', refusalPage(400, 'A parameter is repeated.'));
    }
    const ticketText = params.get('ticket') ?? '';
    const ticket = await this.#openTicket(ticketText, facts);
    const cookies = parseCookies(request.header('cookie'));
    const setCookies: string[] = [];
    let browserId = cookies.get(this.#browserCookie);
    if (!isBrowserId(browserId)) {
      browserId = newBrowserId();
      setCookies.push(this.#cookie(this.#browserCookie, browserId, APPROVAL_SIGN_IN_SECONDS));
    }
    const browser = sha256(browserId);
    const approver = await this.#approver(cookies.get(this.#approverCookie), browser);
    // Signed in as someone else, or a while ago (or asked to sign in again): sign in now.
    const again = params.get('sign_in') === 'again';
    if (approver.kind !== 'fresh' || again) {
      const location = await this.#toSignIn(browser, ticketText);
      return {
        response: redirect(location, 302, setCookies),
        audit: audit(
          'sign_in',
          approver.kind === 'stale' || again ? 'sign_in_stale' : 'sign_in_required',
          302,
        ),
      };
    }
    this.#checkPerson(approver.approver, ticket, ticketText);
    const record = await this.#pendingRecord(ticket);
    const formToken = await sealRecord(
      this.#sealer,
      RECORDS.approvalForm,
      {
        browserDigest: browser,
        approvalId: ticket.approvalId,
        nonce: randomBytes(16).toString('base64url'),
      },
      Math.min(this.#seconds() + APPROVAL_SIGN_IN_SECONDS, record.expiresAt),
    );
    return {
      response: this.#page(ticket, ticketText, formToken, approver.approver, setCookies),
      audit: audit('shown', 'ok', 200),
    };
  }

  /** The ticket, opened and checked, its facts noted for the audit record. */
  async #openTicket(text: string, facts: Facts): Promise<ApprovalTicket> {
    let ticket: ApprovalTicket;
    try {
      ({ value: ticket } = await openJson(
        this.#sealer,
        SEAL_PURPOSES.approvalTicket,
        text,
        this.#seconds(),
        parseApprovalTicket,
      ));
    } catch (error) {
      if (!(error instanceof OpenSealedError)) throw error;
      if (error.failure === 'expired') {
        throw new PageRefusal(
          'ticket_expired',
          refusalPage(400, 'This approval link has expired.'),
          'expired',
        );
      }
      throw new PageRefusal(
        'invalid_ticket',
        refusalPage(400, 'This is not an approval link this server made.'),
      );
    }
    facts.tool = ticket.tool.name;
    facts.caller = ticket.sub;
    facts.approvalDigest = approvalDigest(ticket.approvalId);
    facts.argsDigest = ticket.argumentsDigest;
    if (ticket.client.name !== undefined) facts.clientName = ticket.client.name;
    return ticket;
  }

  /** The approver cookie's sign-in, if it is this browser's and still fresh. */
  async #approver(
    value: string | undefined,
    browser: string,
  ): Promise<{ kind: 'fresh'; approver: Approver } | { kind: 'stale' } | { kind: 'none' }> {
    if (value === undefined) return { kind: 'none' };
    let approver: Approver;
    try {
      ({ value: approver } = await openRecord(
        this.#sealer,
        RECORDS.approver,
        value,
        this.#seconds(),
      ));
    } catch (error) {
      if (!(error instanceof OpenSealedError)) throw error;
      return { kind: error.failure === 'expired' ? 'stale' : 'none' };
    }
    // Another browser's cookie (copied over) signs nobody in here.
    if (!constantTimeEqual(approver.browserDigest, browser)) return { kind: 'none' };
    return this.#isFresh(approver.authTime) ? { kind: 'fresh', approver } : { kind: 'stale' };
  }

  #isFresh(authTime: number): boolean {
    const age = this.#seconds() - authTime;
    return age <= this.#config.signInMaxAgeSeconds && age >= -CLOCK_SKEW_SECONDS;
  }

  /** Only the person who made the call, while their groups still grant it. */
  #checkPerson(approver: Approver, ticket: ApprovalTicket, ticketText: string): void {
    if (!constantTimeEqual(approver.subject, ticket.sub)) {
      const again = `${this.#basePath}${APPROVAL_PATHS.page}?ticket=${encodeURIComponent(ticketText)}&sign_in=again`;
      throw new PageRefusal(
        'wrong_person',
        htmlPage(
          403,
          'Approval not possible',
          `<p>This call was made by another account than the one signed in here. Only the person who made a call can approve it.</p><p><a href="${escapeHtml(again)}">Sign in as that person</a></p>`,
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
  async #pendingRecord(ticket: ApprovalTicket) {
    const record = await this.#store.get(ticket.key);
    const now = this.#seconds();
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
      const what =
        record.status === APPROVAL_STATUS.denied ? 'denied' : 'approved (or already used)';
      throw new PageRefusal('not_pending', refusalPage(409, `This call was already ${what}.`));
    }
    return record;
  }

  /** The page: exactly what will run, for whom, asked by which client; Approve or Deny. */
  #page(
    ticket: ApprovalTicket,
    ticketText: string,
    formToken: string,
    approver: Approver,
    cookies: readonly string[],
  ): ProxyResponse {
    // Hidden characters (bidi overrides, zero-width) shown as escapes: the person reads what
    // will run, not what the browser would make of it.
    const args = revealHidden(JSON.stringify(ticket.arguments, null, 2));
    const clientName = revealHidden(ticket.client.name ?? '');
    const clientVersion = revealHidden(ticket.client.version ?? '');
    const hidden = args.hidden || clientName.hidden || clientVersion.hidden;
    const client =
      ticket.client.name === undefined
        ? '<p>The client did not name itself (a 2025-11-25 client names itself only when it connects).</p>'
        : `<p>Asked by a client calling itself <strong>${escapeHtml(clientName.text)}</strong>${
            ticket.client.version === undefined
              ? ''
              : ` <small>(version ${escapeHtml(clientVersion.text)})</small>`
          }. <span class="warn">The name is the client’s own claim.</span></p>`;
    const warning = hidden
      ? '<p class="warn">This call contained hidden characters (invisible or text-direction controls), shown here as <code>\\u…</code> escapes. Text made to read as something else is a warning sign: deny the call unless you expect them.</p>\n'
      : '';
    const minutes = Math.max(1, Math.round(this.#config.approvalSeconds / 60));
    const action = `${this.#basePath}${APPROVAL_PATHS.page}`;
    const body = `<p>A call you made waits for your approval. It runs only if you approve it, exactly as shown, once, within ${minutes} minute${minutes === 1 ? '' : 's'}.</p>
<p>Tool: <strong>${escapeHtml(ticket.tool.title ?? ticket.tool.name)}</strong> (<code>${escapeHtml(ticket.tool.name)}</code>), which needs the permission <code>${escapeHtml(ticket.tool.permission)}</code>.</p>
<p>Arguments:</p>
<pre><code>${escapeHtml(args.text)}</code></pre>
${warning}${client}
<p><small>Signed in as <code>${escapeHtml(approver.subject)}</code>.</small></p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="ticket" value="${escapeHtml(ticketText)}">
<input type="hidden" name="form" value="${escapeHtml(formToken)}">
<p><button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="deny">Deny</button></p>
</form>
<p><small>Only approve a call you made and expect. If you did not make it, deny it.</small></p>`;
    return htmlPage(200, 'Approve this call?', body, { formAction: ["'self'"], cookies });
  }

  /** The upstream's sign-in URL, the ticket and this browser sealed in `state`. */
  async #toSignIn(browser: string, ticketText: string): Promise<string> {
    const verifier = newVerifier();
    const state = await sealRecord(
      this.#sealer,
      RECORDS.approvalSignIn,
      { browserDigest: browser, upstreamVerifier: verifier, ticket: ticketText },
      this.#seconds() + APPROVAL_SIGN_IN_SECONDS,
    );
    // An existing hosted-login session must not stand in for a fresh sign-in (OIDC `prompt`;
    // https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html).
    // Whatever the upstream does with it, the callback checks `auth_time` itself.
    return this.#upstream.signInUrl({
      scopes: this.#config.signInScopes,
      state,
      verifier,
      prompt: 'login',
    });
  }

  // ---------------------------------------------------------------------------------------
  // GET /approval-callback
  // ---------------------------------------------------------------------------------------

  async #signedIn(
    request: ProxyRequest,
    facts: Facts,
    audit: (step: ApprovalStep, reason: ApprovalReason, status: number) => ApprovalStepAudit,
  ): Promise<ApprovalPageOutcome> {
    const params = uniqueParams(request.query);
    if (params === undefined) {
      throw new PageRefusal('invalid_sign_in', refusalPage(400, 'A parameter is repeated.'));
    }
    let signIn: ApprovalSignIn;
    let expiresAt: number;
    try {
      ({ value: signIn, expiresAt } = await openRecord(
        this.#sealer,
        RECORDS.approvalSignIn,
        params.get('state') ?? '',
        this.#seconds(),
      ));
    } catch (error) {
      if (!(error instanceof OpenSealedError)) throw error;
      throw new PageRefusal(
        'invalid_sign_in',
        refusalPage(400, 'This sign-in was not started here, or took too long.'),
      );
    }
    // Once, and spent by any arrival, even one refused below: a callback URL that reached the
    // wrong browser (an agent handed the person its sign-in link) must not stay redeemable by
    // the browser that started it. The sign-in's verifier is its nonce.
    try {
      await this.#codes.put(`approval-sign-in#${sha256(signIn.upstreamVerifier)}`, '1', expiresAt);
    } catch (error) {
      if (!(error instanceof CodeStoreConflictError)) throw error;
      throw new PageRefusal(
        'sign_in_replayed',
        refusalPage(400, 'This sign-in was already completed.'),
      );
    }
    // The call the sign-in is for, for the record (and a ticket expired meanwhile ends it).
    await this.#openTicket(signIn.ticket, facts);
    const browserId = parseCookies(request.header('cookie')).get(this.#browserCookie);
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
    const person = await this.#redeem(code, signIn.upstreamVerifier);
    if (person === undefined) {
      throw new PageRefusal(
        'upstream_error',
        refusalPage(502, 'The sign-in service answered without saying who signed in.'),
      );
    }
    // Who signed in: the call's maker, or (refused on the page) someone else.
    facts.caller = person.subject;
    if (!this.#isFresh(person.authTime)) {
      throw new PageRefusal(
        'sign_in_stale',
        refusalPage(
          403,
          'The sign-in service kept an earlier sign-in instead of asking you again. Sign out of it, then open the approval link again.',
        ),
      );
    }
    const approver: Approver = {
      browserDigest: signIn.browserDigest,
      subject: person.subject,
      groups: person.groups,
      authTime: person.authTime,
    };
    const until = person.authTime + this.#config.signInMaxAgeSeconds;
    const cookie = this.#cookie(
      this.#approverCookie,
      await sealRecord(this.#sealer, RECORDS.approver, approver, until),
      Math.max(until - this.#seconds(), 1),
    );
    const back = `${this.#config.issuer}${APPROVAL_PATHS.page}?ticket=${encodeURIComponent(signIn.ticket)}`;
    return { response: redirect(back, 303, [cookie]), audit: audit('sign_in', 'signed_in', 303) };
  }

  /** Who signed in, from the upstream's answer to the code, or a refusal page. */
  async #redeem(code: string, verifier: string): Promise<Person> {
    const answer = await this.#upstream.redeemCode(code, verifier);
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

  // ---------------------------------------------------------------------------------------
  // POST /approve
  // ---------------------------------------------------------------------------------------

  async #answer(
    request: ProxyRequest,
    facts: Facts,
    audit: (step: ApprovalStep, reason: ApprovalReason, status: number) => ApprovalStepAudit,
  ): Promise<ApprovalPageOutcome> {
    // Only this server's own page may answer: another site's form is refused unread. Browsers
    // send Origin on every form POST.
    if (request.header('origin') !== this.#origin) {
      throw new PageRefusal(
        'foreign_origin',
        refusalPage(403, 'Approvals are accepted only from this server’s own page.'),
      );
    }
    const form = this.#form(request);
    const cookies = parseCookies(request.header('cookie'));
    const browserId = cookies.get(this.#browserCookie);
    if (!isBrowserId(browserId)) {
      throw new PageRefusal(
        'missing_browser_cookie',
        refusalPage(403, 'This browser did not open the approval page (cookies must be on).'),
      );
    }
    const browser = sha256(browserId);
    const ticket = await this.#openTicket(form.get('ticket') ?? '', facts);
    let token: ApprovalFormToken;
    let tokenExpiry: number;
    try {
      ({ value: token, expiresAt: tokenExpiry } = await openRecord(
        this.#sealer,
        RECORDS.approvalForm,
        form.get('form') ?? '',
        this.#seconds(),
      ));
    } catch (error) {
      if (!(error instanceof OpenSealedError)) throw error;
      throw new PageRefusal(
        'invalid_form',
        refusalPage(400, 'The approval page expired or is not valid; open the link again.'),
      );
    }
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
    const approver = await this.#approver(cookies.get(this.#approverCookie), browser);
    if (approver.kind !== 'fresh') {
      throw new PageRefusal(
        approver.kind === 'stale' ? 'sign_in_stale' : 'sign_in_required',
        refusalPage(
          403,
          'Your sign-in is too old to approve with (or missing). Open the approval link again to sign in.',
        ),
      );
    }
    this.#checkPerson(approver.approver, ticket, form.get('ticket') ?? '');
    const decision = form.get('decision');
    if (decision !== 'approve' && decision !== 'deny') {
      throw new PageRefusal('invalid_form', refusalPage(400, 'Approve or deny.'));
    }
    // Once: the form's nonce is marked used until the form would expire anyway.
    try {
      await this.#codes.put(`approval-form#${sha256(token.nonce)}`, '1', tokenExpiry);
    } catch (error) {
      if (!(error instanceof CodeStoreConflictError)) throw error;
      throw new PageRefusal(
        'form_replayed',
        refusalPage(400, 'This approval page was already answered.'),
      );
    }
    const now = this.#seconds();
    const recorded = await this.#store.decide(
      ticket.key,
      ticket.approvalId,
      decision === 'approve' ? APPROVAL_STATUS.approved : APPROVAL_STATUS.denied,
      now + this.#config.approvalSeconds,
      now,
    );
    if (!recorded) {
      throw new PageRefusal(
        'not_pending',
        refusalPage(409, 'This call was already answered, replaced or has expired.'),
      );
    }
    const minutes = Math.max(1, Math.round(this.#config.approvalSeconds / 60));
    const response =
      decision === 'approve'
        ? htmlPage(
            200,
            'Approved',
            `<p>You approved the call to <code>${escapeHtml(ticket.tool.name)}</code>. Go back to the application: it runs the call once when it calls again, within ${minutes} minute${minutes === 1 ? '' : 's'}.</p>`,
          )
        : htmlPage(
            200,
            'Denied',
            `<p>You denied the call to <code>${escapeHtml(ticket.tool.name)}</code>. It will not run.</p>`,
          );
    return {
      response,
      audit:
        decision === 'approve'
          ? audit('approved', 'ok', 200)
          : audit('denied', 'denied_by_person', 200),
    };
  }

  /** A form body (urlencoded, bounded, no repeated parameter). */
  #form(request: ProxyRequest): Map<string, string> {
    const type = request.header('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (
      type !== 'application/x-www-form-urlencoded' ||
      Buffer.byteLength(request.body) > MAX_FORM_BYTES
    ) {
      throw new PageRefusal('invalid_form', refusalPage(400, 'The form could not be read.'));
    }
    const form = uniqueParams(new URLSearchParams(request.body));
    if (form === undefined) {
      throw new PageRefusal('invalid_form', refusalPage(400, 'A parameter is repeated.'));
    }
    return form;
  }

  #cookie(name: string, value: string, maxAgeSeconds: number): string {
    return setCookie(name, value, maxAgeSeconds, this.#secureCookies);
  }
}

/** Who signed in: the upstream access token's `sub`, `auth_time` and groups. */
interface Person {
  readonly subject: string;
  readonly authTime: number;
  readonly groups: readonly string[];
}

/**
 * Who signed in, from the upstream's access token: `sub`, `auth_time` and groups, read from
 * the payload (see the file's note on why it is not verified here).
 */
function personOf(accessToken: string): Person | undefined {
  const c = accessTokenClaims(accessToken);
  if (c === undefined) return undefined;
  const groups = c['cognito:groups'] ?? [];
  if (typeof c.sub !== 'string' || c.sub === '' || typeof c.auth_time !== 'number') {
    return undefined;
  }
  if (!Array.isArray(groups) || !groups.every((group) => typeof group === 'string')) {
    return undefined;
  }
  return { subject: c.sub, authTime: c.auth_time, groups };
}
