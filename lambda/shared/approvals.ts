/**
 * A person's approval of one call, as the MCP function (which asks for it and spends it) and the
 * approval page beside the consent page (which gives or refuses it) both see it: what an
 * approval is bound to, the ticket its URL carries, and the table it lives in.
 *
 * - **Bound** to the caller (how they authenticated and who they are), the tool, a digest of its
 *   arguments as the tool's schema parsed them (canonical JSON) and the client as it names
 *   itself. The table's key is a digest of the call (caller, tool, arguments); the item holds a
 *   digest of the client besides, which spending an approval must match. So a call that differs
 *   in any one of them spends no approval, while a denial, kept under the call's key, refuses
 *   the same call whatever client the agent then claims to be (the claim is the agent's own).
 * - **Stored without the arguments**: the table holds the key, a random id, a status and a
 *   deadline. What the page shows travels in the approval URL's ticket, sealed with KMS (purpose
 *   `approval-ticket`: the MCP function may only seal, the page only open), so a URL leaks
 *   nothing to whoever sees it, and the arguments are capped
 *   ({@link MAX_APPROVAL_ARGUMENTS_BYTES}) so the URL stays far below what browsers, API Gateway
 *   and the sign-in redirect carry.
 * - **Single use**: every change of status is a conditional write, so of many retries exactly
 *   one spends an approval. DynamoDB's TTL deletes old items only eventually (days), so every
 *   condition checks the deadline itself: an expired item still in the table counts for nothing
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html; conditions:
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';

import type { DynamoDbClient } from './aws/dynamodb';
import { isAwsError } from './aws/error';
import type { AuthMethod } from './principal';

/** How long a request waits for its person to approve it (the ticket's lifetime too). */
export const APPROVAL_REQUEST_SECONDS = 600;
/** How long an approval waits for the call it approves, unless the deployment says otherwise. */
export const DEFAULT_APPROVAL_SECONDS = 300;
/**
 * How old the person's last sign-in may be when they approve, unless the deployment says
 * otherwise: older, and the page sends them to sign in again.
 */
export const DEFAULT_APPROVAL_SIGN_IN_MAX_AGE_SECONDS = 300;
/**
 * The largest arguments (canonical JSON, UTF-8) a call needing approval may have: the ticket
 * carries them in the approval URL, and the sign-in the page may send the person to carries the
 * ticket in its `state`. With them the URL stays under 3 KB and the sign-in redirect under
 * 4.5 KB (browsers take far more; API Gateway 10,240 bytes of request line and headers;
 * CloudFront in front of Cognito's hosted login 8,192 for the URL). A larger call is refused.
 */
export const MAX_APPROVAL_ARGUMENTS_BYTES = 1024;

/** The states of an approval in the table. */
export const APPROVAL_STATUS = {
  /** Asked for; the person has not answered. */
  pending: 'pending',
  approved: 'approved',
  denied: 'denied',
  /** Approved and spent by the one call it approved. */
  consumed: 'consumed',
} as const;
export type ApprovalStatus = (typeof APPROVAL_STATUS)[keyof typeof APPROVAL_STATUS];

/** The approvals table's attributes (`lib/approvals-table.ts` defines the table). */
export const APPROVAL_TABLE_ATTRIBUTES = {
  /** Partition key: the digest of the call ({@link approvalBinding}). */
  partitionKey: 'binding',
  /** The digest of the client that asked: an approval is spent only by the same client. */
  client: 'client',
  /** The random id of the current request for that binding: its ticket names it. */
  id: 'approvalId',
  status: 'approvalStatus',
  /** Epoch seconds after which the item counts for nothing: DynamoDB's TTL attribute. */
  ttl: 'expiresAt',
  /** Epoch seconds of the last change of status. */
  changedAt: 'changedAt',
} as const;

/** How a client names itself (2026-07-28 `_meta` clientInfo); a 2025-11-25 call says nothing. */
export interface ApprovalClient {
  readonly name?: string;
  readonly version?: string;
}

/** Who made a call, as far as an approval is bound to it. */
export interface ApprovalCaller {
  readonly authMethod: AuthMethod;
  readonly principalId: string;
  readonly keyId: string;
}

/** The longest client name or version kept: the client's own claim, shown and bound, cut. */
const MAX_CLIENT_TEXT = 64;

/**
 * Characters a browser does not show as themselves: format characters (Unicode category Cf: the
 * bidi controls U+202A–202E and U+2066–2069, the zero-width U+200B–200F, U+2060–2064, U+FEFF,
 * tags…), controls JSON does not escape (U+007F–009F) and the line and paragraph separators.
 * A bidi override makes `/srv/\u202efdp.tropeR` read as "/srv/Report.pdf".
 */
const HIDDEN = /[\p{Cf}\u007F-\u009F\u2028\u2029]/gu;

/**
 * `text` with every hidden character ({@link HIDDEN}) written as its escape (`\u202e`), so a
 * page shows what is there instead of what it would read as; `hidden` says whether any was.
 */
export function revealHidden(text: string): { readonly text: string; readonly hidden: boolean } {
  let hidden = false;
  const shown = text.replace(HIDDEN, (char) => {
    hidden = true;
    const code = char.codePointAt(0) ?? 0;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return { text: shown, hidden };
}

/**
 * A client's name or version as kept: controls dropped, hidden characters escaped (it is shown
 * to the person), cut short; empty stays absent.
 */
export function clientText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = revealHidden(value.replace(/\p{Cc}/gu, '')).text.slice(0, MAX_CLIENT_TEXT);
  return text === '' ? undefined : text;
}

/** What an approval is bound to, and the arguments as they are digested and shown. */
export interface ApprovalBinding {
  /** The table key: a digest of caller, tool and arguments (the call, whichever client). */
  readonly key: string;
  /** The digest of the client as it names itself, which an approval is spent by. */
  readonly client: string;
  /** `sha256:` digest of the canonical arguments ({@link canonicalArguments}). */
  readonly argumentsDigest: string;
  /** Bytes of the canonical arguments. */
  readonly argumentsBytes: number;
  /** The arguments as the page shows them: exactly the JSON digested. */
  readonly shown: Record<string, unknown>;
}

/**
 * The arguments are not plain JSON (a `Map`, a `BigInt`, `Infinity`, a function…), so what the
 * page would show is not all that would run: such a call cannot be approved.
 */
export class ApprovalArgumentsError extends Error {
  override readonly name = 'ApprovalArgumentsError';
}

export function approvalBinding(input: {
  readonly caller: ApprovalCaller;
  readonly tool: string;
  /** The arguments as the tool's schema parsed them. */
  readonly arguments: unknown;
  readonly client: ApprovalClient;
}): ApprovalBinding {
  const canonical = canonicalArguments(input.arguments);
  const digest = `sha256:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
  // JSON, so no value can run into the next; versioned, so a new scheme never matches an old key.
  const bound = JSON.stringify([
    'approval/v2',
    input.caller.authMethod,
    input.caller.principalId,
    input.caller.keyId,
    'tool',
    input.tool,
    digest,
  ]);
  return {
    key: `approval#${createHash('sha256').update(bound, 'utf8').digest('base64url')}`,
    client: clientBinding(input.client),
    argumentsDigest: digest,
    argumentsBytes: Buffer.byteLength(canonical, 'utf8'),
    shown: JSON.parse(canonical) as Record<string, unknown>,
  };
}

/** The digest of a client's claim (name and version) an approval is bound to. */
export function clientBinding(client: ApprovalClient): string {
  const claim = JSON.stringify(['approval-client/v1', client.name ?? '', client.version ?? '']);
  return createHash('sha256').update(claim, 'utf8').digest('base64url');
}

/** The client binding of a call whose client names itself not at all (a 2025-11-25 call). */
const NO_CLIENT = clientBinding({});

/** A short digest of an approval id, for the audit log (the id itself stays out). */
export function approvalDigest(approvalId: string): string {
  return createHash('sha256').update(approvalId, 'utf8').digest('base64url').slice(0, 16);
}

/**
 * The arguments as canonical JSON (object keys sorted): what is digested, measured and shown.
 * It is the JSON the ticket carries to the page, `toJSON` honoured (a `Date` is its ISO string,
 * a `URL` its href), so an approval binds what the person saw. A value JSON would drop or
 * change silently (a `Map` or `Set` becomes `{}`, `NaN` becomes `null`, `undefined` in an
 * array `null`) throws {@link ApprovalArgumentsError}: the call is refused, never approved
 * on a picture of something else.
 */
export function canonicalArguments(args: unknown): string {
  const canonical = canonicalPlainJson(args ?? {}, '', 'arguments');
  if (!canonical.startsWith('{')) {
    throw new ApprovalArgumentsError('The arguments are not a JSON object');
  }
  return canonical;
}

function canonicalPlainJson(input: unknown, key: string, path: string): string {
  let value = input;
  // As JSON.stringify does: an object's toJSON says what it is in JSON (Date, URL).
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new ApprovalArgumentsError(`${path} is ${value}, which JSON cannot carry`);
      }
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        const items: string[] = [];
        for (let i = 0; i < value.length; i++) {
          if (!Object.hasOwn(value, i) || value[i] === undefined) {
            throw new ApprovalArgumentsError(`${path}[${i}] is missing, which JSON cannot carry`);
          }
          items.push(canonicalPlainJson(value[i], String(i), `${path}[${i}]`));
        }
        return `[${items.join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        const kind = (value as { constructor?: { name?: unknown } }).constructor?.name;
        throw new ApprovalArgumentsError(
          `${path} is ${typeof kind === 'string' && kind !== '' ? `a ${kind}` : 'an object of its own kind'}, not plain JSON`,
        );
      }
      if (Object.getOwnPropertySymbols(value).length > 0) {
        throw new ApprovalArgumentsError(`${path} has symbol keys, which JSON cannot carry`);
      }
      const entries = Object.entries(value as Record<string, unknown>)
        // An absent optional field: JSON has no undefined, and the tool sees it as absent.
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries
        .map(([k, v]) => `${JSON.stringify(k)}:${canonicalPlainJson(v, k, `${path}.${k}`)}`)
        .join(',')}}`;
    }
    default:
      // bigint, function, symbol, undefined: JSON throws on or drops them.
      throw new ApprovalArgumentsError(`${path} is a ${typeof value}, which JSON cannot carry`);
  }
}

const jsonObject = z.record(z.string(), z.unknown());

const ticketSchema = z.object({
  version: z.literal(1),
  approvalId: z.string().check(z.regex(/^[A-Za-z0-9_-]{22}$/)),
  key: z.string().check(z.regex(/^approval#[A-Za-z0-9_-]{43}$/)),
  /** The Cognito `sub` of the person who made the call: only they may approve it. */
  sub: z.string().check(z.minLength(1), z.maxLength(256)),
  tool: z.object({
    name: z.string().check(z.minLength(1), z.maxLength(128)),
    title: z.optional(z.string().check(z.maxLength(256))),
    permission: z.string().check(z.minLength(1), z.maxLength(64)),
  }),
  arguments: jsonObject,
  argumentsDigest: z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/)),
  client: z.object({
    name: z.optional(z.string().check(z.maxLength(MAX_CLIENT_TEXT))),
    version: z.optional(z.string().check(z.maxLength(MAX_CLIENT_TEXT))),
  }),
  /** The roles that grant the tool's permission: the approver must hold one when approving. */
  roles: z.array(z.string().check(z.maxLength(128))).check(z.maxLength(50)),
  requestedAt: z.number(),
});

/**
 * What the approval URL carries, sealed: everything the page shows and checks, so the table
 * holds none of it.
 */
export type ApprovalTicket = z.infer<typeof ticketSchema>;

/** The ticket, if `value` is one (after opening its seal); `undefined` for anything else. */
export function parseApprovalTicket(value: unknown): ApprovalTicket | undefined {
  const parsed = ticketSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** One approval as the table holds it. */
export interface ApprovalRecord {
  readonly key: string;
  /** The digest of the client that asked ({@link clientBinding}). */
  readonly client: string;
  readonly approvalId: string;
  readonly status: ApprovalStatus;
  readonly expiresAt: number;
}

/** Does the record still count at `nowSeconds`? */
export function inForce(record: ApprovalRecord, nowSeconds: number): boolean {
  return record.expiresAt > nowSeconds;
}

/** A new pending request: the record without its status, the client {@link NO_CLIENT} unless said. */
export type NewApprovalRequest = Omit<ApprovalRecord, 'status' | 'client'> & {
  readonly client?: string;
};

/** Where approvals live, shared by every instance of the MCP function and the approval page. */
export interface ApprovalStore {
  /** The record for a binding, read consistently; `undefined` when there is none. */
  get(key: string): Promise<ApprovalRecord | undefined>;
  /**
   * Store a new pending request, unless a record still in force holds the key: true if stored.
   * A spent or expired record gives way, and so does another client's pending request or
   * approval (the new one supersedes it); a denial in force never does. `client` defaults to
   * {@link NO_CLIENT}.
   */
  request(record: NewApprovalRequest, nowSeconds: number): Promise<boolean>;
  /**
   * Spend the call's approval if one is in force for this client (default {@link NO_CLIENT}):
   * the record as it was (approved), or `undefined` when there was none to spend. Of concurrent
   * calls, one gets it.
   */
  consume(key: string, nowSeconds: number, client?: string): Promise<ApprovalRecord | undefined>;
  /**
   * The person's answer to the pending request `approvalId`, in force until `expiresAt`: true
   * if recorded, false if that request is no longer pending (answered, superseded, expired).
   */
  decide(
    key: string,
    approvalId: string,
    decision: typeof APPROVAL_STATUS.approved | typeof APPROVAL_STATUS.denied,
    expiresAt: number,
    nowSeconds: number,
  ): Promise<boolean>;
}

const STATUSES = new Set<string>(Object.values(APPROVAL_STATUS));

function recordOf(item: Record<string, unknown> | undefined): ApprovalRecord | undefined {
  if (item === undefined) return undefined;
  const A = APPROVAL_TABLE_ATTRIBUTES;
  const key = item[A.partitionKey];
  const client = item[A.client];
  const approvalId = item[A.id];
  const status = item[A.status];
  const expiresAt = item[A.ttl];
  if (
    typeof key !== 'string' ||
    typeof client !== 'string' ||
    typeof approvalId !== 'string' ||
    typeof status !== 'string' ||
    !STATUSES.has(status) ||
    typeof expiresAt !== 'number'
  ) {
    // An item this code did not write counts for nothing (and approves nothing).
    return undefined;
  }
  return { key, client, approvalId, status: status as ApprovalStatus, expiresAt };
}

/** The DynamoDB calls the store makes (the small AWS client's `DynamoDbClient` has them). */
export type ApprovalTablePort = Pick<DynamoDbClient, 'getItem' | 'putItem' | 'updateItem'>;

const NAMES = {
  '#k': APPROVAL_TABLE_ATTRIBUTES.partitionKey,
  '#l': APPROVAL_TABLE_ATTRIBUTES.client,
  '#i': APPROVAL_TABLE_ATTRIBUTES.id,
  '#s': APPROVAL_TABLE_ATTRIBUTES.status,
  '#e': APPROVAL_TABLE_ATTRIBUTES.ttl,
  '#c': APPROVAL_TABLE_ATTRIBUTES.changedAt,
} as const;

/** The AWS {@link ApprovalStore}: one item per binding, every change a conditional write. */
export class DynamoApprovalStore implements ApprovalStore {
  constructor(
    private readonly dynamo: ApprovalTablePort,
    private readonly tableName: string,
  ) {}

  async get(key: string): Promise<ApprovalRecord | undefined> {
    const { Item } = await this.dynamo.getItem({
      TableName: this.tableName,
      Key: { [APPROVAL_TABLE_ATTRIBUTES.partitionKey]: key },
      // Another instance may have just approved or spent it.
      ConsistentRead: true,
    });
    return recordOf(Item);
  }

  async request(record: NewApprovalRequest, nowSeconds: number): Promise<boolean> {
    const A = APPROVAL_TABLE_ATTRIBUTES;
    const client = record.client ?? NO_CLIENT;
    return this.#conditional(() =>
      this.dynamo.putItem({
        TableName: this.tableName,
        Item: {
          [A.partitionKey]: record.key,
          [A.client]: client,
          [A.id]: record.approvalId,
          [A.status]: APPROVAL_STATUS.pending,
          [A.ttl]: record.expiresAt,
          [A.changedAt]: nowSeconds,
        },
        // A denial in force holds whatever client asks: the client's name is its own claim.
        ConditionExpression:
          'attribute_not_exists(#k) OR #e <= :now OR #s = :consumed OR ((#s = :pending OR #s = :approved) AND #l <> :client)',
        ExpressionAttributeNames: {
          '#k': NAMES['#k'],
          '#e': NAMES['#e'],
          '#s': NAMES['#s'],
          '#l': NAMES['#l'],
        },
        ExpressionAttributeValues: {
          ':now': nowSeconds,
          ':consumed': APPROVAL_STATUS.consumed,
          ':pending': APPROVAL_STATUS.pending,
          ':approved': APPROVAL_STATUS.approved,
          ':client': client,
        },
      }),
    );
  }

  async consume(
    key: string,
    nowSeconds: number,
    client: string = NO_CLIENT,
  ): Promise<ApprovalRecord | undefined> {
    try {
      const { Attributes } = await this.dynamo.updateItem({
        TableName: this.tableName,
        Key: { [APPROVAL_TABLE_ATTRIBUTES.partitionKey]: key },
        UpdateExpression: 'SET #s = :consumed, #c = :now',
        ConditionExpression: '#s = :approved AND #e > :now AND #l = :client',
        ExpressionAttributeNames: {
          '#s': NAMES['#s'],
          '#c': NAMES['#c'],
          '#e': NAMES['#e'],
          '#l': NAMES['#l'],
        },
        ExpressionAttributeValues: {
          ':consumed': APPROVAL_STATUS.consumed,
          ':approved': APPROVAL_STATUS.approved,
          ':now': nowSeconds,
          ':client': client,
        },
        ReturnValues: 'ALL_OLD',
      });
      const spent = recordOf(Attributes);
      // The condition held, so the old item was this client's approval in force; else refused.
      return spent?.status === APPROVAL_STATUS.approved && spent.client === client
        ? spent
        : undefined;
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException')) return undefined;
      throw error;
    }
  }

  async decide(
    key: string,
    approvalId: string,
    decision: typeof APPROVAL_STATUS.approved | typeof APPROVAL_STATUS.denied,
    expiresAt: number,
    nowSeconds: number,
  ): Promise<boolean> {
    return this.#conditional(() =>
      this.dynamo.updateItem({
        TableName: this.tableName,
        Key: { [APPROVAL_TABLE_ATTRIBUTES.partitionKey]: key },
        UpdateExpression: 'SET #s = :decision, #e = :until, #c = :now',
        ConditionExpression: '#i = :id AND #s = :pending AND #e > :now',
        ExpressionAttributeNames: NAMES_WITHOUT_KEY,
        ExpressionAttributeValues: {
          ':decision': decision,
          ':until': expiresAt,
          ':now': nowSeconds,
          ':id': approvalId,
          ':pending': APPROVAL_STATUS.pending,
        },
      }),
    );
  }

  /** True if the conditional write happened, false if its condition refused it. */
  async #conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException')) return false;
      throw error;
    }
  }
}

const NAMES_WITHOUT_KEY = {
  '#i': NAMES['#i'],
  '#s': NAMES['#s'],
  '#e': NAMES['#e'],
  '#c': NAMES['#c'],
} as const;
