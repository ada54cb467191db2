/**
 * The caller's identity as it crosses from the authorizer to the MCP handler.
 *
 * API Gateway only carries string/number/boolean values in an authorizer context, so lists
 * are joined here and split again on the other side; the parse fails closed.
 */
import * as z from 'zod/mini';

export const AUTH_METHODS = ['cognito', 'api_key'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** An authenticated caller. */
export interface Principal {
  /** Cognito `sub`, or the API key's principal name. */
  readonly principalId: string;
  readonly authMethod: AuthMethod;
  /** Cognito groups or API-key roles; unknown values are kept but grant nothing. */
  readonly groups: readonly string[];
  /** OAuth scopes of a Cognito access token; empty for API keys. */
  readonly scopes: readonly string[];
  /** The non-secret API key id; empty for Cognito callers. */
  readonly keyId: string;
  /**
   * When the credential expires (epoch seconds): the token's `exp` or the key's expiry.
   * API Gateway may reuse a cached Allow past it; the MCP handler refuses it then.
   */
  readonly expiresAt?: number | undefined;
  /**
   * The token claims the deployment hands the argument rules (`-c ruleClaims`), as strings:
   * the rules see them as the caller's tags. Absent for API keys and when none are named.
   */
  readonly claims?: Readonly<Record<string, string>> | undefined;
}

/** What a claim name handed to the rules may be (`-c ruleClaims`): Cognito's `custom:x` too. */
export const CLAIM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_:.-]{0,63}$/;
/** The most claims handed to the rules, and the longest value each may have. */
export const MAX_RULE_CLAIMS = 20;
export const MAX_CLAIM_VALUE_LENGTH = 1024;

export class MalformedClaimError extends Error {
  override readonly name = 'MalformedClaimError';
}

/**
 * The named claims of a verified token as the rules' tags, each a string as AgentCore Policy
 * makes them: a string as it is, a number or boolean as its text, an array or object as its
 * JSON; a claim that is absent or null gives no tag. Throws {@link MalformedClaimError} for a
 * value longer than {@link MAX_CLAIM_VALUE_LENGTH}: refused rather than dropped, since a
 * dropped tag could let a request past a rule that forbids on it.
 */
export function ruleClaimsOf(
  payload: Readonly<Record<string, unknown>>,
  names: readonly string[],
): Record<string, string> | undefined {
  if (names.length === 0) return undefined;
  const claims: Record<string, string> = {};
  for (const name of names) {
    const value = Object.hasOwn(payload, name) ? payload[name] : undefined;
    if (value === undefined || value === null) continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (text.length > MAX_CLAIM_VALUE_LENGTH) {
      throw new MalformedClaimError(`The claim ${name} is too long to hand to the rules`);
    }
    claims[name] = text;
  }
  return claims;
}

/** The authorizer context as API Gateway hands it on: strings only. */
export interface AuthorizerContext {
  readonly [key: string]: string | undefined;
  readonly principalId: string;
  readonly authMethod: AuthMethod;
  readonly groups: string;
  readonly scopes: string;
  readonly keyId: string;
  readonly expiresAt: string;
  /** The rules' claims as JSON text (`{"name":"value"}`); absent when none are handed on. */
  readonly claims?: string;
}

const GROUP_SEPARATOR = ',';
const SCOPE_SEPARATOR = ' ';

/**
 * Group and role names: what Cognito allows in a group name, minus the list separator. A group
 * named `x,admin` must never turn into the role `admin` on the other side of the join.
 */
const GROUP_NAME = /^(?:(?!,)[\p{L}\p{M}\p{S}\p{N}\p{P}]){1,128}$/u;
/** RFC 6749 scope-token characters; a space separates scopes. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/;

/** Keep only the group names that can cross the authorizer context intact. */
export function safeGroupNames(groups: readonly string[]): string[] {
  return groups.filter((group) => GROUP_NAME.test(group));
}

/** The most scopes the authorizer context carries (the bound of its joined lists). */
export const MAX_SCOPES = 100;

/**
 * A token's `scope` claim as a list of scope tokens, or `undefined` when any of them is
 * malformed (over 256 characters, characters outside RFC 6749's scope-token set) or there are
 * more than {@link MAX_SCOPES}. All or nothing, never filtered: scopes only ever narrow a
 * token, so a scope dropped here could only widen what the token may do.
 */
export function parseScopes(claim: string | undefined): string[] | undefined {
  // RFC 6749 §3.3: scope tokens separated by single spaces; stray spaces carry no scope.
  const scopes = claim === undefined ? [] : claim.split(SCOPE_SEPARATOR).filter((s) => s !== '');
  if (scopes.length > MAX_SCOPES || !scopes.every((scope) => SCOPE.test(scope))) return undefined;
  return scopes;
}

/** Whether every scope is a well-formed OAuth scope token. */
function allSafeScopes(scopes: readonly string[]): boolean {
  return scopes.every((scope) => SCOPE.test(scope));
}

export function toAuthorizerContext(principal: Principal): AuthorizerContext {
  if (safeGroupNames(principal.groups).length !== principal.groups.length) {
    throw new InvalidPrincipalError('A group name cannot be carried in the authorizer context');
  }
  if (!allSafeScopes(principal.scopes)) {
    throw new InvalidPrincipalError('A scope cannot be carried in the authorizer context');
  }
  const context: AuthorizerContext = {
    principalId: principal.principalId,
    authMethod: principal.authMethod,
    groups: principal.groups.join(GROUP_SEPARATOR),
    scopes: principal.scopes.join(SCOPE_SEPARATOR),
    keyId: principal.keyId,
    expiresAt: principal.expiresAt === undefined ? '' : String(Math.floor(principal.expiresAt)),
    ...(principal.claims === undefined ? {} : { claims: JSON.stringify(principal.claims) }),
  };
  // What the MCP handler would refuse must not be allowed here: check against its schema.
  parsePrincipal(context);
  return context;
}

function splitList(value: string, separator: string): string[] {
  return value === '' ? [] : value.split(separator);
}

/** A joined list, split again and each item checked: at most 100 items in 8 KiB. */
const joinedList = (separator: string, item: RegExp) =>
  z.pipe(
    z.pipe(
      z.string().check(z.maxLength(8192)),
      z.transform((value) => splitList(value, separator)),
    ),
    z.array(z.string().check(z.regex(item))).check(z.maxLength(100)),
  );

const authorizerContextSchema = z.object({
  principalId: z.string().check(z.minLength(1), z.maxLength(256)),
  authMethod: z.enum(AUTH_METHODS),
  groups: joinedList(GROUP_SEPARATOR, GROUP_NAME),
  scopes: joinedList(SCOPE_SEPARATOR, SCOPE),
  keyId: z.string().check(z.maxLength(64)),
  expiresAt: z.pipe(
    z.string().check(z.regex(/^(\d{1,12})?$/)),
    z.transform((value) => (value === '' ? undefined : Number(value))),
  ),
  claims: z.optional(
    z.pipe(
      z.pipe(
        z.string().check(z.maxLength(MAX_RULE_CLAIMS * (MAX_CLAIM_VALUE_LENGTH * 6 + 80))),
        z.transform((value, ctx) => {
          try {
            return JSON.parse(value) as unknown;
          } catch {
            ctx.issues.push({ code: 'custom', message: 'claims must be JSON', input: value });
            return z.NEVER;
          }
        }),
      ),
      z
        .record(
          z.string().check(z.regex(CLAIM_NAME)),
          z.string().check(z.maxLength(MAX_CLAIM_VALUE_LENGTH)),
        )
        .check(z.refine((claims) => Object.keys(claims).length <= MAX_RULE_CLAIMS)),
    ),
  ),
});

export class InvalidPrincipalError extends Error {
  override readonly name: string = 'InvalidPrincipalError';
}

/** A valid context whose credential has expired since (a cached Allow outliving the token). */
export class ExpiredPrincipalError extends InvalidPrincipalError {
  override readonly name = 'ExpiredPrincipalError';
}

/**
 * Parse `requestContext.authorizer` into a {@link Principal}. Missing or malformed identity
 * throws: the MCP handler must never fall back to a default role.
 */
export function parsePrincipal(authorizer: unknown, nowMs: number = Date.now()): Principal {
  const result = authorizerContextSchema.safeParse(authorizer);
  if (!result.success) {
    throw new InvalidPrincipalError('The request carries no valid authorizer context', {
      cause: result.error,
    });
  }
  const { principalId, authMethod, groups, scopes, keyId, expiresAt, claims } = result.data;
  if (expiresAt !== undefined && expiresAt * 1000 <= nowMs) {
    throw new ExpiredPrincipalError('The credential expired after it was authorized');
  }
  if (authMethod === 'api_key' && keyId === '') {
    throw new InvalidPrincipalError('An API-key principal must name its key id');
  }
  return {
    principalId,
    authMethod,
    groups,
    scopes,
    keyId,
    expiresAt,
    ...(claims === undefined ? {} : { claims }),
  };
}
