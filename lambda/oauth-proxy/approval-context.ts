/**
 * What the approval page's routes work with: the configuration and ports, the clock, the
 * upstream (with the page's own callback), the cookies, and the checks they share (the
 * ticket, the approver cookie, a form), plus one request's audit record.
 */
import {
  type ApprovalStore,
  type ApprovalTicket,
  approvalDigest,
  parseApprovalTicket,
} from '../shared/approvals';
import type { ApprovalAudit, ApprovalReason, ApprovalStep } from '../shared/audit';
import { APPROVAL_PATHS } from '../shared/routes';
import { refusalPage } from './approval-html';
import {
  cookieNames,
  MAX_FORM_BYTES,
  type ProxyRequest,
  type ProxyResponse,
  setCookie,
  uniqueParams,
} from './http';
import { constantTimeEqual } from './pkce';
import { type CodeStore, type FetchLike, SEAL_PURPOSES, type Sealer } from './ports';
import { type Approver, openRecord, RECORDS } from './records';
import { OpenSealedError, openJson } from './sealed-json';
import { Upstream, type UpstreamConfig } from './upstream';

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
export class PageRefusal extends Error {
  constructor(
    readonly reason: ApprovalReason,
    readonly response: ProxyResponse,
    readonly step: ApprovalStep = 'refused',
  ) {
    super(reason);
  }
}

/** The facts of a request's audit record, as far as they are known. */
export interface ApprovalFacts {
  tool?: string;
  caller?: string;
  approvalDigest?: string;
  argsDigest?: string;
  clientName?: string;
}

/** The audit record of a request. */
export function approvalAudit(
  facts: ApprovalFacts,
  step: ApprovalStep,
  reason: ApprovalReason,
  httpStatus: number,
): ApprovalStepAudit {
  return {
    step,
    reason,
    httpStatus,
    ...(facts.tool === undefined ? {} : { tool: facts.tool }),
    ...(facts.caller === undefined ? {} : { caller: facts.caller, authMethod: 'cognito' }),
    ...(facts.approvalDigest === undefined ? {} : { approvalDigest: facts.approvalDigest }),
    ...(facts.argsDigest === undefined ? {} : { argsDigest: facts.argsDigest }),
    ...(facts.clientName === undefined ? {} : { clientName: facts.clientName }),
  };
}

/** The approver cookie's sign-in, as far as it counts here. */
export type ApproverState =
  | { readonly kind: 'fresh'; readonly approver: Approver }
  | { readonly kind: 'stale' }
  | { readonly kind: 'none' };

export class ApprovalContext {
  readonly config: ApprovalPageConfig;
  readonly sealer: Sealer;
  readonly codes: CodeStore;
  readonly store: ApprovalStore;
  readonly upstream: Upstream;
  readonly now: () => number;
  /** This server's origin: the only one the page's form may be answered from. */
  readonly origin: string;
  /** The issuer's path (the API stage), which the page's own links start with. */
  readonly basePath: string;
  /** Where the upstream returns a person sent to sign in from this page. */
  readonly callbackUrl: string;
  /** The consent page's browser cookie: one browser id for both pages. */
  readonly browserCookie: string;
  readonly approverCookie: string;
  readonly #secureCookies: boolean;

  constructor(deps: ApprovalPageDeps) {
    this.config = deps.config;
    this.sealer = deps.sealer;
    this.codes = deps.codes;
    this.store = deps.store;
    this.now = deps.now ?? Date.now;
    const issuer = new URL(deps.config.issuer);
    this.origin = issuer.origin;
    this.basePath = issuer.pathname.replace(/\/$/, '');
    this.callbackUrl = `${deps.config.issuer}${APPROVAL_PATHS.callback}`;
    this.#secureCookies = this.origin.startsWith('https://');
    const names = cookieNames(this.origin);
    this.browserCookie = names.browser;
    this.approverCookie = names.approver;
    this.upstream = new Upstream(deps.config.upstream, this.callbackUrl, deps.fetch);
  }

  seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  cookie(name: string, value: string, maxAgeSeconds: number): string {
    return setCookie(name, value, maxAgeSeconds, this.#secureCookies);
  }

  /** The ticket, opened and checked, its facts noted for the audit record. */
  async openTicket(text: string, facts: ApprovalFacts): Promise<ApprovalTicket> {
    let ticket: ApprovalTicket;
    try {
      ({ value: ticket } = await openJson(
        this.sealer,
        SEAL_PURPOSES.approvalTicket,
        text,
        this.seconds(),
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
  async approver(value: string | undefined, browser: string): Promise<ApproverState> {
    if (value === undefined) return { kind: 'none' };
    let approver: Approver;
    try {
      ({ value: approver } = await openRecord(
        this.sealer,
        RECORDS.approver,
        value,
        this.seconds(),
      ));
    } catch (error) {
      if (!(error instanceof OpenSealedError)) throw error;
      return { kind: error.failure === 'expired' ? 'stale' : 'none' };
    }
    // Another browser's cookie (copied over) signs nobody in here.
    if (!constantTimeEqual(approver.browserDigest, browser)) return { kind: 'none' };
    return this.isFresh(approver.authTime) ? { kind: 'fresh', approver } : { kind: 'stale' };
  }

  /** Is a sign-in at `authTime` recent enough to approve with? */
  isFresh(authTime: number): boolean {
    const age = this.seconds() - authTime;
    return age <= this.config.signInMaxAgeSeconds && age >= -CLOCK_SKEW_SECONDS;
  }

  /** A form body (urlencoded, bounded, no repeated parameter). */
  form(request: ProxyRequest): Map<string, string> {
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
}
