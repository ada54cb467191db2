/**
 * Lambda environment schemas: the runtime parses these at cold start, and the CDK constructs
 * type their `environment` props from the same shapes, so the two cannot drift.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { MAX_REGISTRATION_BODY_BYTES } from './client-registration';

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
});
export type AuthorizerEnv = z.infer<typeof authorizerEnvSchema>;

export const mcpEnvSchema = z.object({
  /** Comma-separated origins allowed to call from a browser; empty = none. */
  ALLOWED_ORIGINS: z._default(commaList, []),
  /**
   * Comma-separated `Host` names the server answers to (the execute-api name, the custom
   * domain); empty = any (local mode checks Host in its gateway).
   */
  ALLOWED_HOSTS: z._default(commaList, []),
  /** Largest accepted request body, in bytes. */
  MAX_BODY_BYTES: z._default(positiveInt, 1024 * 1024),
  /**
   * Step-up (`403 insufficient_scope`): the protected-resource metadata URL the challenge
   * names, the same as the gateway's 401 names. Empty: no step-up, a request whose token's
   * scopes exclude a permission its roles grant gets the JSON-RPC -32003 of a role denial.
   */
  RESOURCE_METADATA_URL: z._default(z.union([z.url(), z.literal('')]), ''),
  /** The scope every token for this server carries (the audience scope), for the challenge. */
  REQUIRED_SCOPE: z._default(z.string(), ''),
  /** Comma-separated optional scopes, one per permission (`<resource server>/<permission>`). */
  PERMISSION_SCOPES: z._default(commaList, []),
});
export type McpEnv = z.infer<typeof mcpEnvSchema>;

export const registrationEnvSchema = z.object({
  /** The pre-registered public app client every registration is answered with. */
  CLIENT_ID: nonEmpty,
  /**
   * Comma-separated callback URLs of that app client: a redirect URI registers only if it is
   * one of them, character for character (Cognito matches them exactly, port included).
   */
  CALLBACK_URLS: z.pipe(commaList, z.array(z.url()).check(z.minLength(1))),
  /** Comma-separated scopes a client may name when it registers. */
  SUPPORTED_SCOPES: nonEmptyList,
  /** Comma-separated scopes answered when a client names none. */
  DEFAULT_SCOPES: nonEmptyList,
  /** Largest accepted request body, in bytes. */
  MAX_BODY_BYTES: z._default(positiveInt, MAX_REGISTRATION_BODY_BYTES),
});
export type RegistrationEnv = z.infer<typeof registrationEnvSchema>;

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
