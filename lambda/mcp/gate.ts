/**
 * The policy gate: what a request asks to use, and whether the caller may, decided over the
 * parsed body before any SDK code sees it. A forbidden call, read, get or completion is refused
 * here with -32003 naming the permission; a name no module declares gets the spec's error for
 * an unknown name. Both eras carry the same JSON-RPC body, so one gate serves both. Pure.
 */
import { type ProtocolEra, UriTemplate } from '@modelcontextprotocol/server';
import { type CallKind, DENIAL_REASONS } from '../shared/audit';
import { decide, findItem, type PolicyItem, type PolicyTable } from '../shared/policy';

/** JSON-RPC error code for a request the caller's roles do not permit (server-defined range). */
export const PERMISSION_DENIED_CODE = -32003;
/** JSON-RPC invalid params: the spec's answer to an unknown tool or prompt (and, since 2026-07-28, resource). */
export const INVALID_PARAMS_CODE = -32602;
/** 2025-11-25's "resource not found". */
export const LEGACY_RESOURCE_NOT_FOUND_CODE = -32002;

/** What a request asks to use: the kind of audited request and what it names. */
export interface GatedRequest {
  readonly kind: CallKind;
  /** The tool or prompt name, the resource URI, or the completion's reference. */
  readonly requested: string;
  /** What is digested for the audit record: arguments, or the URI. */
  readonly args: unknown;
  /**
   * A 2025-11-25 `resources/subscribe` or `resources/unsubscribe`: judged as a read of its
   * resource (and recorded as one when refused), not itself a read when allowed.
   */
  readonly subscription?: true;
}

/** A gated method whose params are not even the right shape: refused as invalid. */
export interface MalformedRequest {
  readonly kind: CallKind;
  readonly requested: string;
  readonly args: unknown;
  readonly problem: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The request's item, if its method is one the policy governs (`tools/call`, `resources/read`,
 * `prompts/get`, `completion/complete`, and in 2025-11-25 `resources/subscribe` and
 * `resources/unsubscribe`); `undefined` for every other method (lists are
 * filtered by the server instead, and the rest touch no item).
 */
export function gatedRequest(
  body: unknown,
  era: ProtocolEra = 'legacy',
): GatedRequest | MalformedRequest | undefined {
  if (!isObject(body)) return undefined;
  const params = body.params;
  const malformed = (kind: CallKind, problem: string): MalformedRequest => ({
    kind,
    requested: '',
    args: undefined,
    problem,
  });
  switch (body.method) {
    case 'tools/call': {
      if (!isObject(params)) return malformed('tool', 'params must be an object');
      if (typeof params.name !== 'string') return malformed('tool', 'params.name must be a string');
      const args = params.arguments;
      if (args !== undefined && !isObject(args)) {
        return {
          kind: 'tool',
          requested: params.name,
          args,
          problem: 'params.arguments must be an object',
        };
      }
      return { kind: 'tool', requested: params.name, args: args ?? {} };
    }
    case 'resources/read': {
      if (!isObject(params) || typeof params.uri !== 'string') {
        return malformed('resource', 'params.uri must be a string');
      }
      return { kind: 'resource', requested: params.uri, args: { uri: params.uri } };
    }
    case 'resources/subscribe':
    case 'resources/unsubscribe': {
      // 2026-07-28 has no such methods: the SDK answers them as unknown (404), ungated.
      if (era !== 'legacy') return undefined;
      if (!isObject(params) || typeof params.uri !== 'string') {
        return malformed('resource', 'params.uri must be a string');
      }
      return {
        kind: 'resource',
        requested: params.uri,
        args: { uri: params.uri },
        subscription: true,
      };
    }
    case 'prompts/get': {
      if (!isObject(params)) return malformed('prompt', 'params must be an object');
      if (typeof params.name !== 'string')
        return malformed('prompt', 'params.name must be a string');
      return { kind: 'prompt', requested: params.name, args: params.arguments ?? {} };
    }
    case 'completion/complete': {
      if (!isObject(params) || !isObject(params.ref)) {
        return malformed('completion', 'params.ref must be an object');
      }
      const { ref } = params;
      if (ref.type === 'ref/prompt' && typeof ref.name === 'string') {
        return { kind: 'completion', requested: `prompt:${ref.name}`, args: params.argument };
      }
      if (ref.type === 'ref/resource' && typeof ref.uri === 'string') {
        return { kind: 'completion', requested: `resource:${ref.uri}`, args: params.argument };
      }
      return malformed('completion', 'params.ref must name a prompt or a resource template');
    }
    default:
      return undefined;
  }
}

export function isMalformed(request: GatedRequest | MalformedRequest): request is MalformedRequest {
  return 'problem' in request;
}

/** The policy table with the resource templates compiled, once per Lambda instance. */
export interface Gate {
  readonly policy: PolicyTable;
  /** The policy item a request names, if any. */
  itemFor(request: GatedRequest): PolicyItem | undefined;
}

export function createGate(policy: PolicyTable): Gate {
  const templates = policy.items.resourceTemplate.map((item) => ({
    item,
    template: new UriTemplate(item.uri as string),
  }));
  return {
    policy,
    itemFor(request) {
      switch (request.kind) {
        case 'tool':
          return findItem(policy, 'tool', request.requested);
        case 'prompt':
          return findItem(policy, 'prompt', request.requested);
        case 'resource': {
          const fixed = policy.items.resource.find((item) => item.uri === request.requested);
          if (fixed !== undefined) return fixed;
          return templates.find(({ template }) => template.match(request.requested) !== null)?.item;
        }
        case 'completion': {
          const [type, ...rest] = request.requested.split(':');
          const name = rest.join(':');
          if (type === 'prompt') return findItem(policy, 'prompt', name);
          // A completion names a template by its URI template.
          return policy.items.resourceTemplate.find((item) => item.uri === name);
        }
      }
    },
  };
}

/** The gate's answer to a request it refuses. */
export interface Refusal {
  readonly status: 'denied' | 'invalid';
  readonly code: number;
  readonly message: string;
  readonly data?: Record<string, unknown>;
  readonly permission?: string;
  readonly item?: PolicyItem;
  readonly errorType: string;
}

/** How a refusal names the kind of item a request is for. */
export const WHAT: Record<CallKind, string> = {
  tool: 'tool',
  resource: 'resource',
  prompt: 'prompt',
  completion: 'completion target',
};

/**
 * Decide on a gated request: `undefined` lets it through to the SDK (with the item it names),
 * otherwise the refusal to answer with. Error texts name the item and the permission, never
 * echo arguments.
 */
export function judge(
  gate: Gate,
  request: GatedRequest,
  granted: ReadonlySet<string>,
  era: ProtocolEra,
): { readonly item: PolicyItem } | { readonly refusal: Refusal } {
  const access = decide(gate.itemFor(request), granted);
  if (access.allowed) return { item: access.item };
  if (access.reason === 'missing_permission') {
    const { item } = access;
    return {
      refusal: {
        status: 'denied',
        code: PERMISSION_DENIED_CODE,
        message: `Permission denied: ${WHAT[request.kind]} '${item.name}' requires permission '${item.permission}', which your roles (narrowed by your token's scopes, if it names any) do not grant`,
        data: {
          [request.kind === 'completion' ? 'target' : request.kind]: item.name,
          requiredPermission: item.permission,
        },
        permission: item.permission,
        item,
        errorType: DENIAL_REASONS.permission,
      },
    };
  }
  const shown = request.requested.slice(0, 200);
  switch (request.kind) {
    case 'tool':
      return unknown(INVALID_PARAMS_CODE, `Unknown tool: ${shown}`);
    case 'prompt':
      return unknown(INVALID_PARAMS_CODE, `Unknown prompt: ${shown}`);
    case 'resource':
      // 2026-07-28 made "not found" -32602; 2025-11-25 said -32002.
      return unknown(
        era === 'modern' ? INVALID_PARAMS_CODE : LEGACY_RESOURCE_NOT_FOUND_CODE,
        'Resource not found',
        { uri: shown },
      );
    case 'completion':
      return unknown(INVALID_PARAMS_CODE, 'Unknown completion reference');
  }
}

function unknown(code: number, message: string, data?: Record<string, unknown>) {
  return {
    refusal: {
      status: 'invalid' as const,
      code,
      message,
      ...(data === undefined ? {} : { data }),
      errorType: 'UnknownItem',
    },
  };
}
