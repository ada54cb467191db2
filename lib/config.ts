/**
 * The deployment configuration: one validated object, built by `bin/app.ts` from CDK context
 * (`cdk.json` defaults, overridable with `-c key=value`). Nothing under `lib/` reads context.
 */
import { z } from 'zod';
import {
  DEFAULT_APPROVAL_SECONDS,
  DEFAULT_APPROVAL_SIGN_IN_MAX_AGE_SECONDS,
} from '../lambda/shared/approvals';
import { redirectUriProblem } from '../lambda/shared/client-registration';
import { allowedOriginProblem } from '../lambda/shared/cors';
import {
  APPROVAL_LIMITS,
  isStreamFlushBytes,
  MAX_CONSENT_REMEMBER_SECONDS,
  RULE_MODES,
  STREAM_FLUSH_BYTES,
  STREAM_FLUSH_BYTES_RULE,
} from '../lambda/shared/env';
import { CLAIM_NAME, MAX_RULE_CLAIMS } from '../lambda/shared/principal';
// The alarm table alone (plain data), not the construct: the CLIs read this file too.
import {
  DEFAULT_WINDOW_MINUTES,
  type ThresholdConfigKey,
  thresholdConfigDefaults,
} from './monitoring/alarms';

/** Log retention periods CloudWatch Logs accepts, in days. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** An IAM role ARN, e.g. an operator role (`-c operatorRoleArn`). */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** The shortest retention of the stack's log groups: a year of audit evidence. */
export const MIN_LOG_RETENTION_DAYS = 365;

/** `-c` values arrive as strings; cdk.json values as JSON. Accept both. */
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const list = z.union([
  z.array(z.string()),
  z.string().transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  ),
]);

/** An alarm threshold: a count within the abuse window. */
const threshold = (defaultValue: number) => int(1, 1_000_000).default(defaultValue);

/**
 * The alarm thresholds the deployment sets (`-c abuseThreshold`, `-c cimdRefusalThreshold`, …):
 * one key per row of the alarm table (`lib/monitoring/alarms.ts`) that names one, with its
 * default. docs/alarms.md says what each alarm means.
 */
const alarmThresholds = Object.fromEntries(
  Object.entries(thresholdConfigDefaults()).map(([key, value]) => [key, threshold(value)]),
) as Record<ThresholdConfigKey, ReturnType<typeof threshold>>;

/**
 * Redirect URIs of the pre-registered client (`--client-id <AppClientId>`), as real MCP clients
 * use them (see RESEARCH.md "Real clients"). The OAuth proxy matches a loopback one on any port
 * (RFC 8252 section 7.3), so the ports here only document each client's default; the host
 * (`localhost`, `127.0.0.1` and `[::1]` are three) and the path must still match.
 */
export const DEFAULT_CALLBACK_URLS = [
  // MCP Inspector: web UI and CLI (on any port: the host and path are what must match)
  'http://localhost:6274/oauth/callback',
  'http://localhost:6276/oauth/callback',
  // MCP Inspector CLI's own default callback, and the web UI opened at 127.0.0.1
  'http://127.0.0.1:6276/oauth/callback',
  // Claude Code with --callback-port 8080
  'http://localhost:8080/callback',
  // mcp-remote's default bridge port
  'http://localhost:3334/oauth/callback',
  // Claude Desktop / claude.ai connectors
  'https://claude.ai/api/mcp/auth_callback',
  // examples/agent.ts, an agent on the MCP TypeScript SDK
  'http://localhost:8765/callback',
];

/**
 * What is wrong with a Cognito app-client callback URL, or `undefined`: registration's rule and
 * then Cognito's own, plain http only for the host `localhost`. The Identity construct holds
 * its literal callbacks to it; the pre-registered client's redirect URIs (`callbackUrls`) never
 * reach Cognito, so registration's rule alone applies to them.
 */
export function callbackUrlProblem(uri: string): string | undefined {
  const problem = redirectUriProblem(uri);
  if (problem !== undefined) return problem;
  const url = new URL(uri);
  return url.protocol === 'http:' && url.hostname !== 'localhost'
    ? 'Cognito takes plain http only for http://localhost (write localhost, not 127.0.0.1)'
    : undefined;
}

/**
 * Why early deny cannot run with this authorizer cache TTL, or `undefined`. With caching on, a
 * Deny for one forbidden tool would be reused for every request bearing the same token (its
 * permitted calls too), and a cached Allow would let later forbidden calls past the check.
 * The config (`-c`) and the construct both hold to it.
 */
export function earlyDenyProblem(authorizerCacheTtlSeconds: number): string | undefined {
  return authorizerCacheTtlSeconds === 0
    ? undefined
    : `needs the authorizer cache off (authorizerCacheTtlSeconds=0, got ${authorizerCacheTtlSeconds}): API Gateway would reuse one request's Deny for every request with the same token, and an Allow without asking again`;
}

/**
 * Why gateway step-up cannot run with these settings, or `undefined`. Its Deny is one request's
 * answer (never to be cached), and its challenge is the ACCESS_DENIED response's, which early
 * deny's role denials would carry too (a client told `insufficient_scope` for a permission no
 * token can give would sign in again and again).
 */
export function gatewayStepUpProblem(
  authorizerCacheTtlSeconds: number,
  earlyDeny: boolean,
): string | undefined {
  if (authorizerCacheTtlSeconds !== 0) {
    return `needs the authorizer cache off (authorizerCacheTtlSeconds=0, got ${authorizerCacheTtlSeconds}): API Gateway would reuse one call's Deny for every request with the same token; to cache, turn gateway step-up off (gatewayStepUp=false)`;
  }
  if (earlyDeny) {
    return "cannot run with earlyDeny: both answer through API Gateway's one ACCESS_DENIED response, and its insufficient_scope challenge would send clients denied by role to sign in again in a loop; for early deny, turn gateway step-up off (gatewayStepUp=false)";
  }
  return undefined;
}

export const configSchema = z
  .object({
    /** Stack name. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
      .default('SecureMcpServer'),
    /** API Gateway stage name; part of every URL. */
    stageName: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,64}$/)
      .default('prod'),
    /** E-mail address subscribed to the alarm topic; none if empty. */
    alarmEmail: z.union([z.email(), z.literal('')]).default(''),
    ...alarmThresholds,
    /** The abuse window, in minutes: the period of the abuse alarm and the burst alarms. */
    abuseWindowMinutes: int(1, 60).default(DEFAULT_WINDOW_MINUTES),
    /** Stage throttling: steady requests per second and burst. */
    throttleRateLimit: int(1, 10_000).default(50),
    throttleBurstLimit: int(1, 5_000).default(100),
    /** Throttling of `POST /register` (OAuth client registration), all callers together. */
    registrationRateLimit: int(1, 100).default(1),
    registrationBurstLimit: int(1, 200).default(5),
    /**
     * Throttling of each OAuth proxy route and method (`/authorize`, `/callback`, `/token`),
     * all callers together: a sign-in is four requests, a token refresh one.
     */
    oauthRateLimit: int(1, 1000).default(10),
    oauthBurstLimit: int(1, 2000).default(20),
    /**
     * Host names a CIMD client id (an https URL) may name, e.g. `claude.ai`; empty: any public
     * https host (the document is still fetched with SSRF protection).
     */
    cimdAllowedHosts: list
      .pipe(
        z.array(
          z
            .string()
            .regex(
              /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
              'must be a lower-case host name such as app.example.com',
            ),
        ),
      )
      .default([]),
    /** Days the consent page may remember a person's approval of a client; 0 never. */
    consentRememberDays: int(0, MAX_CONSENT_REMEMBER_SECONDS / 86_400).default(7),
    /**
     * Authorizer result cache TTL in seconds; 0 (the default) turns caching off: every request
     * is authorized afresh, so a revocation bites at once and the authorizer can answer
     * step-up per call (`gatewayStepUp`). With caching on, API Gateway reuses one answer per
     * token for the TTL (credentials expiring within it are refused, so none outlives its
     * Allow), at about $0.83 less per million requests it answers from the cache (docs/cost.md).
     */
    authorizerCacheTtlSeconds: int(0, 3600).default(0),
    /**
     * The authorizer refuses 2026-07-28 calls, reads and gets of items the caller's roles do
     * not permit, by their `Mcp-Method`/`Mcp-Name` headers, before the MCP function runs. Only
     * with `authorizerCacheTtlSeconds=0`; off by default (it costs more than it saves unless
     * denied calls are common: docs/cost.md).
     */
    earlyDeny: bool.default(false),
    /**
     * Step-up at the gateway: the authorizer answers a 2026-07-28 call whose item the caller's
     * roles grant but its token's scopes exclude with `403 insufficient_scope` and a
     * `WWW-Authenticate` challenge a client can read (a challenge the MCP function sends is
     * renamed by API Gateway to `x-amzn-Remapped-WWW-Authenticate`). Only with
     * `authorizerCacheTtlSeconds=0`, and not with `earlyDeny` (both answer with API Gateway's
     * one ACCESS_DENIED response). Off: such a call gets a JSON-RPC error naming the scopes.
     * On by default.
     */
    gatewayStepUp: bool.default(true),
    /**
     * How long one MCP request may run: the MCP function's timeout and its API Gateway
     * integration's, set together (answers stream, so API Gateway allows up to 15 minutes).
     */
    mcpTimeoutSeconds: int(10, 900).default(120),
    /**
     * In a streamed answer, each progress (or other) notification before the answer is followed
     * by an SSE comment, ignored by clients, bringing the bytes since the last one up to this
     * many, so the notification leaves the Lambda at once rather than waiting for more data
     * (`lambda/mcp/stream-flush.ts`: users' reports, nothing AWS documents; `npm run verify`
     * checks it on a deployment). 0 turns it off; else 1024 to 262144.
     */
    streamFlushBytes: z.coerce
      .number()
      .refine(isStreamFlushBytes, { message: STREAM_FLUSH_BYTES_RULE })
      .default(STREAM_FLUSH_BYTES.default),
    /**
     * What the modules' argument rules (Cedar) do with a request they deny: `enforce` refuses
     * it (-32003 naming the rules); `log-only` lets it run and records it as a would-be denial
     * (counted, with an alarm), to try rules on live traffic before enforcing them.
     */
    ruleMode: z.enum(RULE_MODES).default('enforce'),
    /**
     * Token claims the argument rules may read, as the caller's tags (`principal.getTag("…")`,
     * as AgentCore Policy spells them): the authorizer hands on only these, each as a string.
     * A rule reading any other claim does not synthesize.
     */
    ruleClaims: list
      .pipe(
        z
          .array(
            z
              .string()
              .regex(CLAIM_NAME, 'a claim name: letters, digits, _ : . - (up to 64 characters)'),
          )
          .max(MAX_RULE_CLAIMS),
      )
      .default([]),
    /** Browser origins allowed to call the API (CORS); none by default. */
    allowedOrigins: list
      .pipe(
        z.array(
          z.string().superRefine((value, ctx) => {
            const problem = allowedOriginProblem(value);
            if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
          }),
        ),
      )
      .default([]),
    /**
     * Redirect URIs of the pre-registered OAuth client (its id is the `AppClientId` output):
     * exact, but for the port of a loopback URI. Cognito never sees them: its app client returns
     * to the OAuth proxy alone.
     */
    callbackUrls: list
      .pipe(
        z
          .array(
            z.string().superRefine((value, ctx) => {
              const problem = redirectUriProblem(value);
              if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
            }),
          )
          .min(1),
      )
      .default(DEFAULT_CALLBACK_URLS),
    /** Cognito hosted-login domain prefix; `secure-mcp-<account id>` if empty. */
    cognitoDomainPrefix: z
      .union([z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/), z.literal('')])
      .default(''),
    /** Days between automatic rotations of the API-key secret. */
    keyRotationDays: int(1, 365).default(30),
    /**
     * The IAM role operators use to hand out API keys (`npm run keys`). The API-key secret
     * denies GetSecretValue to everyone but the authorizer, the rotation function and this
     * role: without it nobody can read (so hand out) keys.
     */
    operatorRoleArn: z
      .union([
        z
          .string()
          .regex(ROLE_ARN, 'must be an IAM role ARN: arn:aws:iam::<account id>:role/<name>'),
        z.literal(''),
      ])
      .default(''),
    /**
     * CloudWatch Logs retention for every log group, in days. Every group holds audit evidence
     * (decisions, calls, requests), usually kept at least a year: AWS Control Tower's
     * CT.CLOUDWATCH.PR.2, checked on every synth, asks for 365 days or more.
     */
    logRetentionDays: z.coerce
      .number()
      .refine((days) => (RETENTION_DAYS as readonly number[]).includes(days), {
        message: `must be one of ${RETENTION_DAYS.join(', ')}`,
      })
      .refine((days) => days >= MIN_LOG_RETENTION_DAYS, {
        message: `must be at least ${MIN_LOG_RETENTION_DAYS}: the log groups hold audit evidence (AWS Control Tower CT.CLOUDWATCH.PR.2)`,
      })
      .default(MIN_LOG_RETENTION_DAYS),
    /**
     * Enforce the deployment's per-caller quotas (`modules/quotas.ts`): over a quota, a call,
     * read or get is refused with HTTP 429 before it runs. Off: no quota table, nothing counted
     * (a load-test stage, say).
     */
    enableQuotas: bool.default(true),
    /** Put an AWS WAF web ACL with a per-IP rate-based rule in front of the API. */
    enableWaf: bool.default(true),
    /** Requests per 5 minutes from one IP before WAF blocks it. */
    wafRateLimit: int(10, 2_000_000_000).default(1000),
    /** Cognito MFA: off, optional or required (TOTP). */
    mfa: z.enum(['off', 'optional', 'required']).default('required'),
    /**
     * A custom domain for the API (e.g. `mcp.example.com`), mapped at its root so the MCP URL
     * is `https://<domain>/mcp` and the root well-known URIs of RFC 9728 and RFC 8414 resolve.
     * Empty: the `execute-api` URL with its stage prefix.
     */
    customDomainName: z
      .union([
        z
          .string()
          .max(253)
          .regex(
            /^(?=.*[a-z])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
            'must be a lower-case DNS name such as mcp.example.com',
          ),
        z.literal(''),
      ])
      .default(''),
    /** ACM certificate for `customDomainName`, in the stack's region (regional endpoint). */
    customDomainCertificateArn: z
      .union([
        z
          .string()
          .regex(
            /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/,
            'must be an ACM certificate ARN',
          ),
        z.literal(''),
      ])
      .default(''),
    /** With a custom domain: keep the execute-api URL answering as well (off by default). */
    keepExecuteApiEndpoint: bool.default(false),
    /**
     * Tools whose module-declared approval this deployment switches off (by default every
     * destructive tool, by MCP's annotation defaults any not `readOnlyHint: true` or
     * `destructiveHint: false`, needs a person's approval in a browser before each call runs:
     * `delete_record` in the example). A name that declares no approval fails the synth.
     */
    approvalOff: list
      .pipe(z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'must be a tool name')))
      .default([]),
    /** Minutes an approval waits for the call it approves, once the person has given it. */
    approvalMinutes: int(1, APPROVAL_LIMITS.maxSeconds / 60).default(DEFAULT_APPROVAL_SECONDS / 60),
    /**
     * Minutes the person's last sign-in may be old when they approve: older, and the approval
     * page sends them to sign in again first.
     */
    approvalSignInMaxAgeMinutes: int(1, APPROVAL_LIMITS.maxSeconds / 60).default(
      DEFAULT_APPROVAL_SIGN_IN_MAX_AGE_SECONDS / 60,
    ),
  })
  .strict()
  .superRefine((config, ctx) => {
    const earlyDenyTrap = config.earlyDeny
      ? earlyDenyProblem(config.authorizerCacheTtlSeconds)
      : undefined;
    if (earlyDenyTrap !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['earlyDeny'], message: earlyDenyTrap });
    }
    if (config.gatewayStepUp) {
      const trap = gatewayStepUpProblem(config.authorizerCacheTtlSeconds, config.earlyDeny);
      if (trap !== undefined)
        ctx.addIssue({ code: 'custom', path: ['gatewayStepUp'], message: trap });
    }
    if ((config.customDomainName === '') !== (config.customDomainCertificateArn === '')) {
      ctx.addIssue({
        code: 'custom',
        path: [config.customDomainName === '' ? 'customDomainName' : 'customDomainCertificateArn'],
        message: 'customDomainName and customDomainCertificateArn are set together or not at all',
      });
    }
  });

export type McpStackConfig = z.output<typeof configSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The context keys the app reads. */
export const CONFIG_KEYS = Object.keys(configSchema.shape) as (keyof McpStackConfig)[];

/**
 * Context keys that look like ours but are not: a typo such as `-c abuseTreshold=5` must fail
 * loudly rather than leave the default in place. Keys with `:` or starting with `@` belong to
 * the CDK (feature flags, `aws:cdk:*`).
 */
export function unknownConfigKeys(contextKeys: readonly string[]): string[] {
  const known = new Set<string>(CONFIG_KEYS);
  return contextKeys.filter((key) => !key.startsWith('@') && !key.includes(':') && !known.has(key));
}

/**
 * Build the configuration from context values. Errors name the `-c` key to fix.
 * @param read returns the context value for a key (undefined when unset)
 */
export function loadConfig(read: (key: string) => unknown): McpStackConfig {
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = read(key);
    if (value !== undefined) raw[key] = value;
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '(config)');
      return `-c ${key}=${JSON.stringify(raw[key] ?? null)}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}
