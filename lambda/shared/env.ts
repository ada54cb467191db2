/**
 * Lambda environment schemas: the runtime parses these at cold start, and the CDK constructs
 * type their `environment` props from the same shapes, so the two cannot drift.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { DEFAULT_APPROVAL_SECONDS, DEFAULT_APPROVAL_SIGN_IN_MAX_AGE_SECONDS } from './approvals';
import { MAX_REGISTRATION_BODY_BYTES } from './client-registration';
import { CLAIM_NAME, MAX_RULE_CLAIMS } from './principal';

// zod/mini keeps the authorizer bundle small; it loads no messages of its own, so English is
// loaded here (only English: `z.locales` would pull in every language).
z.config(en());

const commaList = z.pipe(
  z.string(),
  z.transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  ),
);

const nonEmpty = z.string().check(z.minLength(1));
const nonEmptyList = z.pipe(commaList, z.array(nonEmpty).check(z.minLength(1)));
const positiveInt = z.pipe(z.coerce.number(), z.int().check(z.positive()));
/** The not-before list's promise is "within 10 seconds": no setting may break it. */
const upToTenSeconds = z.pipe(z.coerce.number(), z.int().check(z.positive(), z.lte(10)));

export const authorizerEnvSchema = z.object({
  /** Cognito user pool whose access tokens are accepted, e.g. `eu-west-1_AbC123`. */
  USER_POOL_ID: z.string().check(z.regex(/^[\w-]+_[0-9a-zA-Z]+$/, 'must look like <region>_<id>')),
  /** Comma-separated allow-list of app client ids (`client_id` claim). */
  USER_POOL_CLIENT_IDS: nonEmptyList,
  /**
   * Comma-separated scopes of which an access token must carry at least one. Required:
   * Cognito access tokens have no audience, so the resource-server scope (with the client-id
   * allow-list) is what binds a token to this server.
   */
  REQUIRED_SCOPES: nonEmptyList,
  /** Secrets Manager secret (name or ARN) holding the API keys. */
  API_KEYS_SECRET_ID: nonEmpty,
  /**
   * How long a fetched copy of the API-key secret is trusted: the longest a revoked key keeps
   * working in a warm authorizer (API Gateway's authorizer cache comes on top).
   */
  API_KEYS_CACHE_TTL_SECONDS: z._default(positiveInt, 60),
  /** The least time between two refreshes forced by unknown keys. */
  API_KEYS_MIN_REFRESH_SECONDS: z._default(positiveInt, 10),
  /**
   * The deployment's roles, comma-separated (role names have no commas: `ROLE_NAME`). An API
   * key naming any other is refused; the key document accepts any name.
   */
  API_KEY_ROLES: commaList,
  /** The DynamoDB table of not-before entries (`users`, `keys revoke`); read with Scan only. */
  REVOCATIONS_TABLE_NAME: nonEmpty,
  /** Age of the in-memory copy of that table after which a request refreshes it in the background. */
  REVOCATIONS_REFRESH_SECONDS: z._default(upToTenSeconds, 5),
  /**
   * Age after which the copy is not used (the request waits for a fresh read, and is denied if
   * that fails): the longest a written entry can go unseen. API Gateway's authorizer cache TTL
   * comes on top.
   */
  REVOCATIONS_MAX_AGE_SECONDS: z._default(upToTenSeconds, 10),
  /**
   * Early deny (`-c earlyDeny=true`, only with the authorizer cache off): the policy document
   * (`earlyDenyPolicyOf`) by which a forbidden 2026-07-28 call is refused at the gateway.
   * Empty: off.
   */
  EARLY_DENY_POLICY: z._default(z.string(), ''),
  /**
   * Gateway step-up (`-c gatewayStepUp=true`, only with the authorizer cache off): `true` makes
   * the authorizer deny, with the scopes needed, a 2026-07-28 request whose item its roles
   * grant but its token's scopes exclude. Needs `EARLY_DENY_POLICY` (the policy document).
   */
  GATEWAY_STEP_UP: z._default(z.enum(['true', 'false']), 'false'),
  /**
   * API Gateway's authorizer result TTL (`-c authorizerCacheTtlSeconds`): a credential expiring
   * within it is refused, so no cached Allow outlives its credential. 0: no caching.
   */
  AUTHORIZER_CACHE_TTL_SECONDS: z._default(
    z.pipe(z.coerce.number(), z.int().check(z.minimum(0), z.maximum(3600))),
    0,
  ),
  /**
   * The token claims handed on to the MCP function's argument rules as the caller's tags
   * (`-c ruleClaims`, comma-separated names such as `custom:department`). Empty: none.
   */
  RULE_CLAIMS: z._default(
    z.pipe(
      commaList,
      z
        .array(z.string().check(z.regex(CLAIM_NAME, 'must be a claim name')))
        .check(z.maxLength(MAX_RULE_CLAIMS)),
    ),
    [],
  ),
});
export type AuthorizerEnv = z.infer<typeof authorizerEnvSchema>;

/**
 * The largest MCP request body the MCP function accepts (its 413 beyond), and the size beyond
 * which WAF answers 413 itself (`lib/mcp-api.ts`): far below Lambda's 6 MB invoke limit.
 */
export const DEFAULT_MAX_MCP_BODY_BYTES = 1024 * 1024;

/**
 * The stream flush threshold (`STREAM_FLUSH_BYTES`, `-c streamFlushBytes`; the why is in
 * `lambda/mcp/stream-flush.ts`). The default is where two users' reports of Lambda holding small
 * writes meet (about 16 KB, runtime client issue #94; about 15,000 bytes, serverless-adapter
 * #166; a third, #102, saw about 100 KB with Function URLs). The ceiling keeps a progress
 * notification's padding far below the 6 MB a Lambda streams before its bandwidth cap; below
 * the floor a threshold is no larger than a frame. 0: off.
 */
export const STREAM_FLUSH_BYTES = { default: 16_384, min: 1024, max: 262_144 } as const;

/** Whether `bytes` is a stream flush threshold the server takes. */
export function isStreamFlushBytes(bytes: number): boolean {
  return (
    bytes === 0 ||
    (Number.isInteger(bytes) && bytes >= STREAM_FLUSH_BYTES.min && bytes <= STREAM_FLUSH_BYTES.max)
  );
}

/**
 * What the modules' argument rules (Cedar) do with a request they deny: refuse it (`enforce`),
 * or let it run and record it as a would-be denial (`log-only`, to try rules on live traffic).
 */
export const RULE_MODES = ['enforce', 'log-only'] as const;
export type RuleMode = (typeof RULE_MODES)[number];

/** What {@link isStreamFlushBytes} asks, as the configuration errors say it. */
export const STREAM_FLUSH_BYTES_RULE = `must be 0 (off) or a whole number of bytes from ${STREAM_FLUSH_BYTES.min} to ${STREAM_FLUSH_BYTES.max}`;

/**
 * The switch that makes the MCP function show a failing item's error (its class and message,
 * secrets redacted) to the caller and in its log: local mode only, so a module's author sees
 * why their tool failed (`lambda/mcp/local-error-detail.ts`). Only the local gateway sets it,
 * on the functions it runs (`tools/local/gateway.ts`). It is not in {@link mcpEnvSchema} on
 * purpose: a construct's environment is typed by that schema, so no stack can name it, and
 * `McpFunction` refuses to synthesize a function whose environment has it all the same.
 */
export const LOCAL_ERROR_DETAIL_VARIABLE = 'MCP_LOCAL_ERROR_DETAIL';

export const mcpEnvSchema = z.object({
  /** Comma-separated origins allowed to call from a browser; empty = none. */
  ALLOWED_ORIGINS: z._default(commaList, []),
  /**
   * Comma-separated `Host` names the server answers to (the execute-api name, the custom
   * domain); empty = any (local mode checks Host in its gateway).
   */
  ALLOWED_HOSTS: z._default(commaList, []),
  /** Largest accepted request body, in bytes. */
  MAX_BODY_BYTES: z._default(positiveInt, DEFAULT_MAX_MCP_BODY_BYTES),
  /**
   * The protected-resource metadata URL a narrowed-scope refusal names (-32003 with
   * `requiredScopes` and `resourceMetadata`), the same as the gateway's 401 names. Empty: a
   * request whose token's scopes exclude a permission its roles grant gets the JSON-RPC -32003
   * of a role denial.
   */
  RESOURCE_METADATA_URL: z._default(z.union([z.url(), z.literal('')]), ''),
  /** The scope every token for this server carries (the audience scope), for `requiredScopes`. */
  REQUIRED_SCOPE: z._default(z.string(), ''),
  /** Comma-separated optional scopes, one per permission (`<resource server>/<permission>`). */
  PERMISSION_SCOPES: z._default(commaList, []),
  /**
   * In a streamed answer, each notification before the answer is followed by an SSE comment
   * bringing the bytes since the last one up to this many ({@link STREAM_FLUSH_BYTES}). 0: off.
   */
  STREAM_FLUSH_BYTES: z._default(
    z.coerce.number().check(z.refine(isStreamFlushBytes, STREAM_FLUSH_BYTES_RULE)),
    STREAM_FLUSH_BYTES.default,
  ),
  /** What the argument rules do with a request they deny ({@link RULE_MODES}): `-c ruleMode`. */
  RULE_MODE: z._default(z.enum(RULE_MODES), 'enforce'),
  /**
   * The KMS HMAC key multi-round request state is sealed with, shared by every instance (keys
   * derived per day: `lambda/mcp/request-state-aws.ts`). Empty: a random key per instance, so a
   * later round reaching another instance is refused.
   */
  REQUEST_STATE_KEY_ID: z._default(z.string(), ''),
  /** The table of spent request states every instance checks; required with the key. */
  REQUEST_STATE_TABLE_NAME: z._default(z.string(), ''),
  /**
   * The approvals table (`lambda/shared/approvals.ts`). Empty: no approval can be given, and
   * every call needing one is refused. With it, the two below are required.
   */
  APPROVALS_TABLE_NAME: z._default(z.string(), ''),
  /** The OAuth proxy's KMS key, which the function may use only to seal approval tickets. */
  APPROVAL_TICKET_KEY_ID: z._default(z.string(), ''),
  /** The approval page's URL (`<API base URL>/approve`), where approval URLs point. */
  APPROVAL_PAGE_URL: z._default(z.union([z.url(), z.literal('')]), ''),
  /**
   * Comma-separated tools whose module-declared approval this deployment switches off
   * (`-c approvalOff`); a name that declares none stops the function starting.
   */
  APPROVAL_OFF: z._default(commaList, []),
  /**
   * How long a 2026-07-28 retry that finds the person still deciding waits for their answer
   * before asking again, in seconds (0: ask again at once).
   */
  APPROVAL_WAIT_SECONDS: z._default(
    z.pipe(z.coerce.number(), z.int().check(z.minimum(0), z.maximum(60))),
    20,
  ),
  /**
   * The deployment's quota rules, JSON (`modules/quotas.ts` as the stack checked them; checked
   * again against the policy at cold start). Empty: no quotas.
   */
  QUOTA_RULES: z._default(z.string(), '[]'),
  /** The table quota uses are counted in; required when there are rules. */
  QUOTA_TABLE_NAME: z._default(z.string(), ''),
});
export type McpEnv = z.infer<typeof mcpEnvSchema>;

export const registrationEnvSchema = z.object({
  /**
   * KMS key (id, ARN or alias) that seals a registered client's metadata into its client id
   * (purpose `dcr-client`): registration stores nothing, and the OAuth proxy opens the id with
   * the same key.
   */
  KMS_KEY_ID: nonEmpty,
  /** Comma-separated scopes a client may name when it registers. */
  SUPPORTED_SCOPES: nonEmptyList,
  /** Comma-separated scopes answered when a client names none. */
  DEFAULT_SCOPES: nonEmptyList,
  /** Largest accepted request body, in bytes. */
  MAX_BODY_BYTES: z._default(positiveInt, MAX_REGISTRATION_BODY_BYTES),
});
export type RegistrationEnv = z.infer<typeof registrationEnvSchema>;

/** An absolute URL with no trailing slash, no query and no fragment (issuer, resource). */
const baseUrl = z
  .url()
  .check(
    z.refine(
      (value) => !value.endsWith('/') && !value.includes('?') && !value.includes('#'),
      'must be an absolute URL without a trailing slash, query or fragment',
    ),
  );

/** The bounds of the approval settings: an hour at most, for a person's decision or sign-in. */
export const APPROVAL_LIMITS = { maxSeconds: 3600 } as const;

/** The longest an approval may be remembered: 30 days. */
export const MAX_CONSENT_REMEMBER_SECONDS = 30 * 24 * 3600;

/**
 * The OAuth authorization proxy in front of Cognito (`lambda/oauth-proxy/`), serving
 * `GET|POST /authorize`, `GET /callback` and `POST /token` under the API base URL.
 */
export const oauthProxyEnvSchema = z.object({
  /** The API base URL: this authorization server's issuer, and the base of its endpoints. */
  ISSUER: baseUrl,
  /** The MCP endpoint's URL: the only `resource` (RFC 8707) a client may ask a token for. */
  RESOURCE: baseUrl,
  /** The upstream's authorization endpoint, e.g. `https://<domain>/oauth2/authorize`. */
  UPSTREAM_AUTHORIZE_URL: z.url(),
  /** The upstream's token endpoint, e.g. `https://<domain>/oauth2/token`. */
  UPSTREAM_TOKEN_URL: z.url(),
  /**
   * The proxy's own public app client at the upstream: the one client id Cognito sees, whose
   * only callback URL is `<ISSUER>/callback`.
   */
  UPSTREAM_CLIENT_ID: nonEmpty,
  /** How long an upstream token request may take. */
  UPSTREAM_TIMEOUT_MS: z._default(positiveInt, 5000),
  /** The pre-registered client's id (clients given it with `--client-id`). */
  PRE_REGISTERED_CLIENT_ID: nonEmpty,
  /**
   * Comma-separated redirect URIs of the pre-registered client: matched exactly, but for the
   * port of a loopback URI (RFC 8252 section 7.3).
   */
  PRE_REGISTERED_REDIRECT_URIS: z.pipe(commaList, z.array(z.url()).check(z.minLength(1))),
  /** The name the consent page shows for the pre-registered client. */
  PRE_REGISTERED_CLIENT_NAME: z._default(nonEmpty, 'MCP client (pre-registered)'),
  /** Comma-separated scopes a client may ask for. */
  SUPPORTED_SCOPES: nonEmptyList,
  /** Comma-separated scopes granted when a client asks for none. */
  DEFAULT_SCOPES: nonEmptyList,
  /**
   * JSON object from scope to what it lets a client do, shown on the consent page (built from
   * the policy's permission descriptions); a scope without one is shown by name.
   */
  SCOPE_DESCRIPTIONS: z._default(
    z.pipe(
      z.string(),
      z.transform((value, ctx) => {
        try {
          const parsed: unknown = JSON.parse(value);
          if (
            typeof parsed === 'object' &&
            parsed !== null &&
            !Array.isArray(parsed) &&
            Object.values(parsed).every((v) => typeof v === 'string')
          ) {
            return parsed as Record<string, string>;
          }
        } catch {
          // reported below
        }
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: 'must be a JSON object of strings',
        });
        return z.NEVER;
      }),
    ),
    {},
  ),
  /**
   * KMS key (id, ARN or alias) sealing transactions, codes, consent, refresh-token families and
   * DCR client ids.
   */
  KMS_KEY_ID: nonEmpty,
  /**
   * DynamoDB table of authorization codes (partition key `pk` string, TTL attribute
   * `expiresAt`): each item lives at most 60 seconds.
   */
  CODES_TABLE_NAME: nonEmpty,
  /**
   * DynamoDB table of refresh-token families (partition key `pk` string, TTL attribute
   * `expiresAt`): one item per sign-in, holding digests and the sealed upstream refresh token.
   */
  REFRESH_FAMILIES_TABLE_NAME: nonEmpty,
  /** How long a family lives from the sign-in: the upstream app client's refresh-token validity. */
  REFRESH_TOKEN_SECONDS: positiveInt,
  /**
   * The not-before table the `users` CLI writes (read with Scan only): a refresh of a session
   * a sign-out or disable ended ends its family.
   */
  REVOCATIONS_TABLE_NAME: nonEmpty,
  /** Comma-separated host names a CIMD client id may name; empty = any public https host. */
  CIMD_ALLOWED_HOSTS: z._default(commaList, []),
  /** How long a remembered approval lasts; 0 = never remember. At most 30 days. */
  CONSENT_REMEMBER_SECONDS: z._default(
    z.pipe(z.coerce.number(), z.int().check(z.minimum(0), z.maximum(MAX_CONSENT_REMEMBER_SECONDS))),
    7 * 24 * 3600,
  ),
  /**
   * The approvals table the approval page records a person's answers in. Empty: the page
   * answers that approvals are not taken here.
   */
  APPROVALS_TABLE_NAME: z._default(z.string(), ''),
  /** How long an approval waits for the call it approves (`-c approvalMinutes`). */
  APPROVAL_SECONDS: z._default(
    z.pipe(z.coerce.number(), z.int().check(z.minimum(60), z.maximum(APPROVAL_LIMITS.maxSeconds))),
    DEFAULT_APPROVAL_SECONDS,
  ),
  /**
   * How old the person's sign-in may be when they approve (`-c approvalSignInMaxAgeMinutes`):
   * older, and the page sends them to sign in again.
   */
  APPROVAL_SIGN_IN_MAX_AGE_SECONDS: z._default(
    z.pipe(z.coerce.number(), z.int().check(z.minimum(60), z.maximum(APPROVAL_LIMITS.maxSeconds))),
    DEFAULT_APPROVAL_SIGN_IN_MAX_AGE_SECONDS,
  ),
});
export type OAuthProxyEnv = z.infer<typeof oauthProxyEnvSchema>;

/** The variables a schema reads, as the CDK construct must set them (all strings). */
export type EnvironmentOf<S extends z.ZodMiniObject> = { [K in keyof z.input<S>]: string };

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** Parse the environment once, failing loudly with the names of the bad variables. */
export function parseEnv<S extends z.ZodMiniObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new ConfigurationError(`Invalid environment: ${problems}`);
  }
  return result.data;
}
