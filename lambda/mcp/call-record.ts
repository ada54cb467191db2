/**
 * The one audit record of a call, read, get or completion, whatever answers it: the gate (a
 * refusal), the SDK (a request it rejects before any item code runs: a bad `_meta`, a bad
 * progress token, arguments failing their schema) or the item itself. The edge opens the
 * record when the request arrives and writes it exactly once, when the answer is complete.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  auditCall,
  digestArguments,
  type ProtocolEra,
  TOOL_CALL_STATUS,
  type ToolCallStatus,
  UNKNOWN_ITEM,
} from '../shared/audit';
import type { PolicyItem } from '../shared/policy';
import type { Principal } from '../shared/principal';
import type { GatedRequest, MalformedRequest } from './gate';

/** W3C Trace Context `traceparent`: version, trace id, parent id, flags. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace id of a request's `_meta.traceparent`, if it carries a valid one. */
export function traceIdOf(body: unknown): string | undefined {
  const meta = (body as { params?: { _meta?: unknown } } | undefined)?.params?._meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const value = (meta as Record<string, unknown>).traceparent;
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT.exec(value);
  if (match === null) return undefined;
  const [, version, traceId, parentId] = match;
  // Version ff and all-zero ids are invalid by the spec.
  if (version === 'ff' || /^0+$/.test(traceId as string) || /^0+$/.test(parentId as string)) {
    return undefined;
  }
  return traceId;
}

export interface RequestMeta {
  readonly requestId: string;
  readonly sourceIp: string;
}

export class CallRecord {
  readonly started = performance.now();
  #ran = false;
  #status: ToolCallStatus | undefined;
  #errorType: string | undefined;
  #written = false;
  /** The policy item the request names, once the gate has looked it up. */
  item: PolicyItem | undefined;
  /** The quota rule that refused the request, if one did. */
  quota: string | undefined;

  constructor(
    readonly request: GatedRequest | MalformedRequest,
    readonly era: ProtocolEra,
    readonly traceId: string | undefined,
  ) {}

  /** The item's code was reached (the SDK accepted the request). */
  ran(): void {
    this.#ran = true;
  }

  get hasRun(): boolean {
    return this.#ran;
  }

  get settled(): boolean {
    return this.#status !== undefined;
  }

  /** The outcome; the first one said stands. */
  settle(status: ToolCallStatus, errorType?: string): void {
    if (this.#status !== undefined) return;
    this.#status = status;
    this.#errorType = errorType;
  }

  /** Write the record, once; a record never settled is an error (nothing answered it). */
  write(logger: Logger, principal: Principal, meta: RequestMeta): void {
    if (this.#written) return;
    this.#written = true;
    const { digest, bytes } = digestArguments(this.request.args);
    const known = this.item !== undefined;
    auditCall(logger, {
      kind: this.request.kind,
      status: this.#status ?? TOOL_CALL_STATUS.error,
      item: this.item?.name ?? UNKNOWN_ITEM,
      ...(known ? {} : { requested: this.request.requested.slice(0, 64) }),
      permission: this.item?.permission,
      caller: principal.principalId,
      authMethod: principal.authMethod,
      keyId: principal.keyId,
      groups: principal.groups,
      durationMs: Math.round((performance.now() - this.started) * 100) / 100,
      requestId: meta.requestId,
      sourceIp: meta.sourceIp,
      argsDigest: digest,
      argsBytes: bytes,
      errorType: this.#status === undefined ? (this.#errorType ?? 'Unanswered') : this.#errorType,
      protocolEra: this.era,
      traceId: this.traceId,
      quota: this.quota,
    });
  }
}
