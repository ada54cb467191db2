/**
 * A Lambda REQUEST authorizer as API Gateway runs it ("Use API Gateway Lambda authorizers",
 * "Output from an API Gateway Lambda authorizer"):
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
 *
 * - The cache key is the identity sources' values: "API Gateway uses the specified identity
 *   sources as the request authorizer caching key." With caching on, "If a specified identify
 *   source is missing, null, or empty, API Gateway returns a 401 Unauthorized response without
 *   calling the authorizer Lambda function" (also modelled with caching off whenever identity
 *   sources are set: the API reference says the check runs whenever they are).
 * - What is cached is the policy and context, evaluated again for each request's method ARN:
 *   "The cached IAM policy is then applied to any additional API requests made within the
 *   cache's specified time-to-live (TTL) period" (re:Post, api-gateway-lambda-authorization-
 *   errors). A failed call (an error, a malformed answer) and a 401 are not cached: AWS
 *   documents neither, and other emulators checked against AWS hold nothing for them.
 * - Outcomes: an error whose message is exactly `Unauthorized` is a 401; any other error, or an
 *   answer that is not a policy document with scalar context values, is a 500
 *   (AUTHORIZER_CONFIGURATION_ERROR, `{"message": null}`); a Deny, or no Allow matching the
 *   method ARN, is a 403 (ACCESS_DENIED) with the authorizer's context available to the
 *   gateway response.
 */
import type { IdentitySource } from './api-model';

export interface AuthorizerResult {
  readonly principalId: string;
  readonly policyDocument: {
    readonly Statement: readonly {
      readonly Effect: string;
      readonly Action?: string | readonly string[];
      readonly Resource?: string | readonly string[];
    }[];
  };
  /** Scalars; `null` kept as null (seen in AWS-delivered events, non-AWS evidence). */
  readonly context: Readonly<Record<string, string | number | boolean | null>>;
}

/** Parse what the authorizer returned; `undefined` when API Gateway would refuse it (500). */
export function parseAuthorizerResult(payload: string): AuthorizerResult | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const { principalId, policyDocument, context } = value as Record<string, unknown>;
  if (typeof principalId !== 'string' || principalId === '') return undefined;
  if (policyDocument === null || typeof policyDocument !== 'object') return undefined;
  const statements = (policyDocument as { Statement?: unknown }).Statement;
  if (!Array.isArray(statements) || statements.length === 0) return undefined;
  for (const statement of statements) {
    if (statement === null || typeof statement !== 'object') return undefined;
    const { Effect } = statement as { Effect?: unknown };
    if (Effect !== 'Allow' && Effect !== 'Deny') return undefined;
  }
  const out: Record<string, string | number | boolean | null> = {};
  if (context !== undefined && context !== null) {
    if (typeof context !== 'object' || Array.isArray(context)) return undefined;
    for (const [key, item] of Object.entries(context)) {
      // "You can't set a JSON object or array as a valid value of any key in the context map."
      // A null passes: an AWS-delivered event shows `"null": null` in requestContext.authorizer
      // (DefinitelyTyped #69823, non-AWS evidence).
      if (
        item !== null &&
        typeof item !== 'string' &&
        typeof item !== 'number' &&
        typeof item !== 'boolean'
      ) {
        return undefined;
      }
      out[key] = item;
    }
  }
  return {
    principalId,
    policyDocument: policyDocument as AuthorizerResult['policyDocument'],
    context: out,
  };
}

/**
 * IAM's wildcards: `*` any run of characters, `?` any one ("You can use wildcard characters (*
 * and ?) within any ARN segment", IAM JSON policy elements: Resource); action names are not
 * case sensitive (IAM JSON policy elements: Action).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 */
function wildcardMatches(pattern: string, value: string, flags = ''): boolean {
  const source = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, `s${flags}`).test(value);
}

/**
 * IAM's evaluation of the policy for one method ARN: an explicit Deny wins, else an Allow must
 * match, else it is an implicit deny.
 */
export function evaluatePolicy(
  result: Pick<AuthorizerResult, 'policyDocument'>,
  methodArn: string,
): 'allow' | 'explicit-deny' | 'implicit-deny' {
  let allowed = false;
  for (const statement of result.policyDocument.Statement) {
    const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
    if (
      !actions.some((a) => typeof a === 'string' && wildcardMatches(a, 'execute-api:Invoke', 'i'))
    ) {
      continue;
    }
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    if (
      !resources.some(
        (resource) => typeof resource === 'string' && wildcardMatches(resource, methodArn),
      )
    ) {
      continue;
    }
    if (statement.Effect === 'Deny') return 'explicit-deny';
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}

/** Whether API Gateway would let the request for `methodArn` through under this result. */
export function policyAllows(
  result: { readonly policyDocument: { readonly Statement: readonly unknown[] } },
  methodArn: string,
): boolean {
  return evaluatePolicy(result as Pick<AuthorizerResult, 'policyDocument'>, methodArn) === 'allow';
}

/** What an identity source reads: the request's headers, query, context and stage variables. */
export interface IdentityInput {
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly context: Readonly<Record<string, string | undefined>>;
  readonly stageVariables: Readonly<Record<string, string>>;
}

/**
 * The cache key of a request: its identity sources' values in order, or `undefined` when one is
 * missing or empty (API Gateway answers 401 then, without calling the authorizer).
 */
export function identityKey(
  sources: readonly IdentitySource[],
  input: IdentityInput,
): string | undefined {
  const values: string[] = [];
  for (const source of sources) {
    let value: string | undefined;
    if (source.kind === 'header') {
      const lower = source.name.toLowerCase();
      value = Object.entries(input.headers).find(([name]) => name.toLowerCase() === lower)?.[1];
    } else if (source.kind === 'querystring') value = input.query[source.name];
    else if (source.kind === 'context') value = input.context[source.name];
    else value = input.stageVariables[source.name];
    if (value === undefined || value === '') return undefined;
    values.push(value);
  }
  return JSON.stringify(values);
}

/** Cached authorizer results, per authorizer and identity, for the authorizer's TTL. */
export class AuthorizerCache {
  readonly #entries = new Map<string, { result: AuthorizerResult; expiresAt: number }>();
  readonly #now: () => number;
  /** Bound on entries: a flood of distinct tokens must not grow the process without end. */
  readonly #max: number;

  constructor(now: () => number, max = 10_000) {
    this.#now = now;
    this.#max = max;
  }

  get(authorizerId: string, key: string): AuthorizerResult | undefined {
    const entry = this.#entries.get(`${authorizerId} ${key}`);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(`${authorizerId} ${key}`);
      return undefined;
    }
    return entry.result;
  }

  set(authorizerId: string, key: string, result: AuthorizerResult, ttlSeconds: number): void {
    if (ttlSeconds <= 0) return;
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(`${authorizerId} ${key}`, {
      result,
      expiresAt: this.#now() + ttlSeconds * 1000,
    });
  }

  clear(): void {
    this.#entries.clear();
  }
}
