/**
 * Lambda environment schemas: the runtime parses these at cold start, and the CDK constructs
 * type their `environment` props from the same shapes, so the two cannot drift.
 */
import { z } from 'zod';

const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== ''),
);

const positiveInt = z.coerce.number().int().positive();

export const authorizerEnvSchema = z.object({
  /** Cognito user pool whose access tokens are accepted, e.g. `eu-west-1_AbC123`. */
  USER_POOL_ID: z.string().regex(/^[\w-]+_[0-9a-zA-Z]+$/, 'must look like <region>_<id>'),
  /** Comma-separated allow-list of app client ids (`client_id` claim). */
  USER_POOL_CLIENT_IDS: commaList.pipe(z.array(z.string().min(1)).min(1)),
  /**
   * Comma-separated scopes of which an access token must carry at least one. Required:
   * Cognito access tokens have no audience, so the resource-server scope (with the client-id
   * allow-list) is what binds a token to this server.
   */
  REQUIRED_SCOPES: commaList.pipe(z.array(z.string().min(1)).min(1)),
  /** Secrets Manager secret (name or ARN) holding the API keys. */
  API_KEYS_SECRET_ID: z.string().min(1),
  /**
   * How long a fetched copy of the API-key secret is trusted: the longest a revoked key keeps
   * working in a warm authorizer (API Gateway's authorizer cache comes on top).
   */
  API_KEYS_CACHE_TTL_SECONDS: positiveInt.default(60),
  /** The least time between two refreshes forced by unknown keys. */
  API_KEYS_MIN_REFRESH_SECONDS: positiveInt.default(10),
});
export type AuthorizerEnv = z.infer<typeof authorizerEnvSchema>;

export const mcpEnvSchema = z.object({
  /** DynamoDB table of customer records. */
  RECORDS_TABLE_NAME: z.string().min(3).max(255),
  /** Comma-separated origins allowed to call from a browser; empty = none. */
  ALLOWED_ORIGINS: commaList.default([]),
  /** Largest accepted request body, in bytes. */
  MAX_BODY_BYTES: positiveInt.default(1024 * 1024),
});
export type McpEnv = z.infer<typeof mcpEnvSchema>;

/** The variables a schema reads, as the CDK construct must set them (all strings). */
export type EnvironmentOf<S extends z.ZodObject> = { [K in keyof z.input<S>]: string };

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** Parse the environment once, failing loudly with the names of the bad variables. */
export function parseEnv<S extends z.ZodObject>(
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
