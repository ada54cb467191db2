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
 *
 * This file routes and answers (the public surface); steps 1, 3 and 4 are `approve.ts`, step 2
 * `approval-sign-in.ts`, the pages `approval-html.ts`, what they share `approval-context.ts`.
 */
import { APPROVAL_PATHS } from '../shared/routes';
import {
  ApprovalContext,
  type ApprovalFacts,
  type ApprovalPageDeps,
  type ApprovalPageOutcome,
  approvalAudit,
  PageRefusal,
} from './approval-context';
import { refusalPage } from './approval-html';
import { completeSignIn } from './approval-sign-in';
import { answerApproval, showApproval } from './approve';
import type { ProxyRequest } from './http';

export {
  APPROVAL_SIGN_IN_SECONDS,
  type ApprovalPageConfig,
  type ApprovalPageDeps,
  type ApprovalPageOutcome,
  type ApprovalStepAudit,
} from './approval-context';

export class ApprovalPage {
  readonly #context: ApprovalContext;

  constructor(deps: ApprovalPageDeps) {
    this.#context = new ApprovalContext(deps);
  }

  /** Where the upstream returns a person sent to sign in from this page. */
  get callbackUrl(): string {
    return this.#context.callbackUrl;
  }

  /** Answer one request to the page's routes; never throws (failures are answered, audited). */
  async handle(request: ProxyRequest): Promise<ApprovalPageOutcome> {
    const ctx = this.#context;
    const facts: ApprovalFacts = {};
    const { method, path } = request;
    try {
      if (path === APPROVAL_PATHS.page && method === 'GET') {
        return await showApproval(ctx, request, facts);
      }
      if (path === APPROVAL_PATHS.page && method === 'POST') {
        return await answerApproval(ctx, request, facts);
      }
      if (path === APPROVAL_PATHS.callback && method === 'GET') {
        return await completeSignIn(ctx, request, facts);
      }
      const page = refusalPage(405, 'This method is not allowed here.');
      return {
        response: {
          ...page,
          headers: { ...page.headers, Allow: path === APPROVAL_PATHS.page ? 'GET, POST' : 'GET' },
        },
        audit: approvalAudit(facts, 'refused', 'method_not_allowed', 405),
      };
    } catch (error) {
      if (error instanceof PageRefusal) {
        return {
          response: error.response,
          audit: approvalAudit(facts, error.step, error.reason, error.response.status),
        };
      }
      // Fail closed: a KMS, table or upstream outage approves nothing.
      return {
        response: refusalPage(500, 'The server could not process this approval; try again later.'),
        audit: approvalAudit(facts, 'refused', 'unavailable', 500),
      };
    }
  }
}
