/**
 * A person's approval in front of a call: the MCP function's side. A tool whose module
 * declares it (by default every destructive tool, by MCP's annotation defaults;
 * `module-loader.ts`), or which a rule requires it of, runs only when the person who called
 * it has approved exactly this call in a browser, on the approval page beside the consent page
 * (`lambda/oauth-proxy/approval-page.ts`).
 *
 * The call is answered, instead of run, with the page's URL, in the form each protocol era
 * defines for "the person must visit a URL first", neither of which needs a request from
 * server to client (this server is stateless):
 *
 * - **2026-07-28**: an `input_required` result whose `inputRequests` hold one URL-mode
 *   `elicitation/create`, and a `requestState` naming the approval. The 2026-07-28 spec forbids
 *   `-32042` ("Implementations of this protocol version MUST NOT emit these codes: … `-32042` —
 *   URL elicitation required (2025-11-25 only)", basic/index.mdx, Error Codes) and says the
 *   client learns the outcome of an out-of-band interaction by retrying, the server correlating
 *   it through `requestState` (changelog, minor change 11; client/elicitation.mdx, URL mode:
 *   "the server determines from the echoed `requestState` … whether the out-of-band interaction
 *   has completed, and either returns the final result or responds with another
 *   InputRequiredResult"). The SDK v2 client fulfils it through its `elicitation/create`
 *   handler and retries with the answer and the state.
 * - **2025-11-25**: the JSON-RPC error `-32042` (`URLElicitationRequiredError`) carrying the
 *   URL-mode elicitation; the client opens the URL and calls again with the same arguments.
 *
 * Whichever way the call comes back, the approval is found by what it is bound to (caller,
 * tool, arguments, client: `lambda/shared/approvals.ts`) and spent by a conditional write, so
 * the call runs once and only once. A retry that finds the person still deciding (2026-07-28)
 * waits a little for them, then asks again. Every step leaves an `mcp.approval` record, and the
 * call its one `mcp.tool_call` record. Any failure refuses the call (fail closed).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  type CallToolResult,
  type ClientCapabilities,
  type InputRequiredResult,
  inputRequired,
  inputResponse,
  type JSONValue,
  type ProtocolEra,
  UrlElicitationRequiredError,
} from '@modelcontextprotocol/server';
import { SEAL_PURPOSES, type Sealer } from '../oauth-proxy/ports';
import { sealJson } from '../oauth-proxy/sealed-json';
import {
  APPROVAL_REQUEST_SECONDS,
  APPROVAL_STATUS,
  ApprovalArgumentsError,
  type ApprovalBinding,
  type ApprovalClient,
  type ApprovalRecord,
  type ApprovalStore,
  type ApprovalTicket,
  approvalBinding,
  approvalDigest,
  inForce,
  MAX_APPROVAL_ARGUMENTS_BYTES,
} from '../shared/approvals';
import {
  APPROVAL_ERROR_TYPES,
  type ApprovalReason,
  type ApprovalStep,
  auditApproval,
  TOOL_CALL_STATUS,
  type ToolCallStatus,
} from '../shared/audit';
import { failureName } from '../shared/aws/error';
import type { PolicyTable } from '../shared/policy';
import type { Principal } from '../shared/principal';
import { declaresApproval, type LoadedModule } from './module-loader';

/** The key of the approval's URL elicitation in `inputRequests` (and so in `inputResponses`). */
export const APPROVAL_INPUT_KEY = 'approval';

/** What a call needing approval is, for a rule deciding whether it does. */
export interface ApprovalCall {
  readonly tool: string;
  readonly permission: string;
  readonly principal: Principal;
  /** The arguments as the tool's schema parsed them. */
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly era: ProtocolEra;
}

/**
 * Another reason for a call to need approval (say, a policy engine's verdict): consulted for
 * every tool call, in addition to what modules declare. A deployment's `approvalOff` switches
 * off module declarations only, never a rule.
 */
export type ApprovalRule = (call: ApprovalCall) => boolean;

export interface ApprovalsDeps {
  readonly store: ApprovalStore;
  /** The roles that grant each permission go into the ticket: the approver must hold one. */
  readonly policy: PolicyTable;
  /** Seals the ticket the approval URL carries (KMS, purpose `approval-ticket`). */
  readonly sealer: Sealer;
  /** The approval page: `<API base URL>/approve`. */
  readonly pageUrl: string;
  readonly logger: Logger;
  /** Tools whose module-declared approval this deployment switches off. */
  readonly off?: readonly string[];
  readonly rules?: readonly ApprovalRule[];
  /**
   * How long a 2026-07-28 retry that finds the person still deciding waits for their answer
   * before asking again. @default 20 seconds
   */
  readonly waitMs?: number;
  /** How often it looks while waiting. @default 1 second */
  readonly pollMs?: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
}

export class ApprovalConfigurationError extends Error {
  override readonly name = 'ApprovalConfigurationError';
}

/** What the server knows of one tool call, for its approval. */
export interface ApprovalCheck {
  readonly tool: { readonly name: string; readonly title: string; readonly permission: string };
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly principal: Principal;
  readonly era: ProtocolEra;
  readonly client: ApprovalClient;
  readonly clientCapabilities: ClientCapabilities | undefined;
  /** The state verified by the SDK (spent once), in a retry; `undefined` in a first round. */
  readonly requestState: JSONValue | undefined;
  readonly inputResponses: Readonly<Record<string, unknown>> | undefined;
  /** Seal state for the next round (`requestState`). */
  readonly sealState: (state: JSONValue) => Promise<string>;
  /** Record how the call ended when it does not run. */
  readonly settle: (status: ToolCallStatus, errorType: string) => void;
  readonly requestId: string;
  readonly sourceIp: string;
  readonly signal: AbortSignal;
}

/** Run the tool, or answer with this instead. */
export type ApprovalOutcome =
  | { readonly run: true }
  | { readonly run: false; readonly answer: CallToolResult | InputRequiredResult };

const RUN: ApprovalOutcome = { run: true };

/** The approvals of a deployment's tools. */
export interface Approvals {
  /** Does a call of this tool need approval? */
  required(call: ApprovalCall): boolean;
  /**
   * The approval gate of one call needing approval: run (an approval was spent), or the answer
   * (the URL, or a refusal). A 2025-11-25 call is answered by throwing
   * `UrlElicitationRequiredError` (JSON-RPC -32042), which the SDK passes on.
   */
  check(call: ApprovalCheck): Promise<ApprovalOutcome>;
}

/** The names of the tools whose modules declare approval. */
export function toolsDeclaringApproval(modules: readonly LoadedModule[]): string[] {
  return modules.flatMap(({ module }) =>
    (module.tools ?? []).filter((tool) => declaresApproval(tool)).map((tool) => tool.name),
  );
}

/** A function without the approvals table: what needs approval is refused (fail closed). */
export interface NoApprovalsDeps {
  readonly logger: Logger;
  readonly off?: readonly string[];
  readonly rules?: readonly ApprovalRule[];
}

/** Calls needing approval are refused: a function without the table cannot take one. */
function unavailableApprovals(
  required: Approvals['required'],
  logger: NoApprovalsDeps['logger'],
): Approvals {
  return {
    required,
    async check(call) {
      auditApproval(logger, {
        step: 'refused',
        reason: 'unavailable',
        tool: call.tool.name,
        caller: call.principal.principalId,
        authMethod: call.principal.authMethod,
        protocolEra: call.era,
        requestId: call.requestId,
        sourceIp: call.sourceIp,
      });
      return refusal(call, 'unavailable', 'no_approvals');
    },
  };
}

/**
 * The deployment's approvals. Throws {@link ApprovalConfigurationError} at cold start when the
 * switched-off list names a tool that declares no approval (a typo would leave a tool guarded
 * that its operator believes open, or the other way round), or when a tool needing approval
 * also asks for input of its own (both would claim the request's `requestState`).
 */
export function createApprovals(
  modules: readonly LoadedModule[],
  deps: ApprovalsDeps | NoApprovalsDeps,
): Approvals {
  const off = deps.off ?? [];
  const declaring = toolsDeclaringApproval(modules);
  const stray = off.filter((name) => !declaring.includes(name));
  if (stray.length > 0) {
    throw new ApprovalConfigurationError(
      `approvalOff names ${stray.join(', ')}, which declare no approval (tools that do: ${declaring.join(', ') || 'none'})`,
    );
  }
  for (const { module } of modules) {
    for (const tool of module.tools ?? []) {
      if (declaresApproval(tool) && !off.includes(tool.name) && tool.ask !== undefined) {
        throw new ApprovalConfigurationError(
          `Tool ${tool.name} needs approval and asks for input of its own (ask): both would use the request's requestState. Declare approval: false, or drop ask`,
        );
      }
    }
  }
  const declared = new Set(declaring.filter((name) => !off.includes(name)));
  const rules = deps.rules ?? [];
  const required: Approvals['required'] = (call) =>
    declared.has(call.tool) || rules.some((rule) => rule(call));
  if (!('store' in deps)) return unavailableApprovals(required, deps.logger);
  const gate = new ApprovalGate(deps);
  return { required, check: (call) => gate.check(call) };
}

/** The message shown with the URL: why the person is asked to open it. */
function elicitationMessage(tool: ApprovalCheck['tool']): string {
  return `A person must approve this call to ${tool.title} (${tool.name}) before it runs. Open the link to see exactly what will run, then approve or deny it; the call goes on once you have approved.`;
}

/** A refused call's answer: a tool error the model can read, and its record. */
function refusal(
  call: ApprovalCheck,
  kind: 'denied' | 'unavailable',
  why:
    | 'denied'
    | 'declined'
    | 'cancelled'
    | 'api_key'
    | 'too_large'
    | 'not_json'
    | 'no_url'
    | 'no_approvals',
): ApprovalOutcome {
  const text: Record<typeof why, string> = {
    denied: `The person denied this call to ${call.tool.name}; it did not run. Ask them before trying again.`,
    declined: `The approval link for ${call.tool.name} was declined; the call did not run.`,
    cancelled: `The approval of ${call.tool.name} was cancelled; the call did not run.`,
    api_key: `${call.tool.name} needs the approval of a person signed in with a browser, which an API-key caller cannot give; the call did not run. Call it as a person (OAuth sign-in).`,
    too_large: `The arguments of ${call.tool.name} are over ${MAX_APPROVAL_ARGUMENTS_BYTES} bytes, too large to show for approval; the call did not run.`,
    not_json: `The arguments of ${call.tool.name} are not plain JSON once its schema has parsed them (a Map, a Set, a BigInt or a number JSON cannot hold), so the approval page could not show exactly what would run; the call did not run.`,
    no_url: `${call.tool.name} needs a person's approval in a browser, and this client did not declare it can open a URL (the elicitation capability's url mode); the call did not run.`,
    no_approvals: `${call.tool.name} needs a person's approval, which this server cannot take right now; the call did not run. Request id: ${call.requestId}`,
  };
  call.settle(
    TOOL_CALL_STATUS.denied,
    kind === 'denied' ? APPROVAL_ERROR_TYPES.denied : APPROVAL_ERROR_TYPES.unavailable,
  );
  return { run: false, answer: { isError: true, content: [{ type: 'text', text: text[why] }] } };
}

/** The approval id a state of ours names, if it is one. */
function approvalIdOf(state: JSONValue | undefined): string | undefined {
  if (typeof state !== 'object' || state === null || Array.isArray(state)) return undefined;
  const id = (state as Record<string, unknown>).approval;
  return typeof id === 'string' ? id : undefined;
}

/** The roles that grant `permission`: the approver must hold one of them. */
function rolesGranting(policy: PolicyTable, permission: string): string[] {
  return Object.entries(policy.roles)
    .filter(([, granted]) => granted.includes(permission))
    .map(([role]) => role);
}

/** Steps tried before giving up: each is a write another instance's write made fail. */
const MAX_ATTEMPTS = 4;

class ApprovalGate {
  readonly #deps: ApprovalsDeps;
  readonly #now: () => number;

  constructor(deps: ApprovalsDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  async check(call: ApprovalCheck): Promise<ApprovalOutcome> {
    const audit = (
      step: ApprovalStep,
      reason: ApprovalReason,
      extra: { binding?: ApprovalBinding; approvalId?: string } = {},
    ) =>
      auditApproval(this.#deps.logger, {
        step,
        reason,
        tool: call.tool.name,
        caller: call.principal.principalId,
        authMethod: call.principal.authMethod,
        ...(extra.approvalId === undefined
          ? {}
          : { approvalDigest: approvalDigest(extra.approvalId) }),
        ...(extra.binding === undefined
          ? {}
          : {
              argsDigest: extra.binding.argumentsDigest,
              argsBytes: extra.binding.argumentsBytes,
            }),
        ...(call.client.name === undefined ? {} : { clientName: call.client.name }),
        protocolEra: call.era,
        requestId: call.requestId,
        sourceIp: call.sourceIp,
      });

    // Only a person can approve, in a browser, signed in as who made the call.
    if (call.principal.authMethod !== 'cognito') {
      audit('refused', 'no_person');
      return refusal(call, 'unavailable', 'api_key');
    }
    let binding: ApprovalBinding;
    try {
      binding = approvalBinding({
        caller: call.principal,
        tool: call.tool.name,
        arguments: call.arguments,
        client: call.client,
      });
    } catch (error) {
      if (!(error instanceof ApprovalArgumentsError)) throw error;
      // What the page would show is not what would run: no approval can be given for it.
      audit('refused', 'arguments_not_json');
      return refusal(call, 'unavailable', 'not_json');
    }
    if (binding.argumentsBytes > MAX_APPROVAL_ARGUMENTS_BYTES) {
      audit('refused', 'arguments_too_large', { binding });
      return refusal(call, 'unavailable', 'too_large');
    }
    if (call.era === 'modern' && call.clientCapabilities?.elicitation?.url === undefined) {
      audit('refused', 'url_elicitation_unsupported', { binding });
      return refusal(call, 'unavailable', 'no_url');
    }
    // The client's answer to the URL in a 2026-07-28 retry: declined or dismissed, no call.
    const answer = inputResponse(call.inputResponses, APPROVAL_INPUT_KEY);
    const retriedId = approvalIdOf(call.requestState);
    if (answer.kind === 'elicit' && answer.action !== 'accept') {
      audit('denied', 'declined_in_client', { binding, approvalId: retriedId });
      return refusal(call, 'denied', answer.action === 'decline' ? 'declined' : 'cancelled');
    }

    try {
      let waited = false;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const spent = await this.#deps.store.consume(binding.key, this.#seconds(), binding.client);
        if (spent !== undefined) {
          audit('consumed', 'ok', { binding, approvalId: spent.approvalId });
          return RUN;
        }
        const record = await this.#deps.store.get(binding.key);
        const mine = record?.client === binding.client;
        if (record !== undefined && inForce(record, this.#seconds())) {
          switch (record.status) {
            case APPROVAL_STATUS.approved:
              // Approved between the two reads: spend it on the next turn. Another client's
              // approval is not this call's: it asks afresh (superseding it) below.
              if (mine) continue;
              break;
            case APPROVAL_STATUS.denied:
              // The person said no to this call, whichever client the agent now claims to be.
              audit('refused', 'still_denied', { binding, approvalId: record.approvalId });
              return refusal(call, 'denied', 'denied');
            case APPROVAL_STATUS.pending: {
              // Another client's request: this one asks for itself (superseding it) below.
              if (!mine) break;
              const waiting =
                call.era === 'modern' &&
                !waited &&
                answer.kind === 'elicit' &&
                retriedId === record.approvalId;
              if (waiting) {
                // The client opened the URL and came straight back: give the person a moment.
                waited = true;
                if (await this.#waitForAnswer(record, call.signal)) continue;
              }
              return await this.#ask(call, binding, record.approvalId);
            }
            case APPROVAL_STATUS.consumed:
              // Spent (by a retry that won, or a call before): this one asks afresh.
              audit('refused', 'replayed', { binding, approvalId: record.approvalId });
              break;
          }
        } else if (record !== undefined && record.status !== APPROVAL_STATUS.consumed) {
          const reason =
            record.status === APPROVAL_STATUS.approved ? 'approval_expired' : 'request_expired';
          if (record.status !== APPROVAL_STATUS.denied) {
            audit('expired', reason, { binding, approvalId: record.approvalId });
          }
        }
        const approvalId = randomBytes(16).toString('base64url');
        const stored = await this.#deps.store.request(
          {
            key: binding.key,
            client: binding.client,
            approvalId,
            expiresAt: this.#seconds() + APPROVAL_REQUEST_SECONDS,
          },
          this.#seconds(),
        );
        if (stored) {
          audit('requested', 'ok', { binding, approvalId });
          return await this.#ask(call, binding, approvalId);
        }
        // Another instance wrote first (a request, an answer): look again.
      }
      audit('refused', 'unavailable', { binding });
      return refusal(call, 'unavailable', 'no_approvals');
    } catch (error) {
      if (error instanceof UrlElicitationRequiredError) throw error;
      this.#deps.logger.error('Could not check an approval: its table or key failed', {
        error_type: failureName(error),
      });
      audit('refused', 'unavailable', { binding });
      return refusal(call, 'unavailable', 'no_approvals');
    }
  }

  /** Wait for the person to answer `record`: true once it is no longer pending. */
  async #waitForAnswer(record: ApprovalRecord, signal: AbortSignal): Promise<boolean> {
    const waitMs = this.#deps.waitMs ?? 20_000;
    const pollMs = this.#deps.pollMs ?? 1_000;
    const until = this.#now() + waitMs;
    while (this.#now() < until && !signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      const current = await this.#deps.store.get(record.key);
      if (current?.approvalId !== record.approvalId) return true;
      if (current.status !== APPROVAL_STATUS.pending) return true;
      if (!inForce(current, this.#seconds())) return true;
    }
    return false;
  }

  /** Answer with the approval page's URL for `approvalId`: a result (2026-07-28) or -32042. */
  async #ask(
    call: ApprovalCheck,
    binding: ApprovalBinding,
    approvalId: string,
  ): Promise<ApprovalOutcome> {
    const now = this.#seconds();
    const ticket: ApprovalTicket = {
      version: 1,
      approvalId,
      key: binding.key,
      sub: call.principal.principalId,
      tool: {
        name: call.tool.name,
        title: call.tool.title,
        permission: call.tool.permission,
      },
      arguments: binding.shown,
      argumentsDigest: binding.argumentsDigest,
      client: call.client,
      roles: rolesGranting(this.#deps.policy, call.tool.permission),
      requestedAt: now,
    };
    const sealed = await sealJson(
      this.#deps.sealer,
      SEAL_PURPOSES.approvalTicket,
      ticket,
      now + APPROVAL_REQUEST_SECONDS,
    );
    const url = new URL(this.#deps.pageUrl);
    url.searchParams.set('ticket', sealed);
    const message = elicitationMessage(call.tool);
    call.settle(TOOL_CALL_STATUS.approvalRequired, APPROVAL_ERROR_TYPES.required);
    if (call.era === 'legacy') {
      throw new UrlElicitationRequiredError(
        [{ mode: 'url', elicitationId: approvalId, url: url.href, message }],
        `Approval required: ${message}`,
      );
    }
    return {
      run: false,
      answer: inputRequired({
        inputRequests: {
          [APPROVAL_INPUT_KEY]: inputRequired.elicitUrl({ url: url.href, message }),
        },
        requestState: await call.sealState({ approval: approvalId }),
      }),
    };
  }
}
