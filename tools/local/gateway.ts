/**
 * Local mode: the stack as `cdk synth` builds it, served by the local AWS emulator
 * (`tools/local/emulator/`): API Gateway as the template defines it, every Lambda run from the
 * bundle `cdk deploy` would upload, with the environment the template gives it. What this file
 * adds is the project's local identity and data, in place of what an operator has in AWS:
 *
 * - the user pool: a local signing key (`.local/`) whose JWKS the Cognito stand-in serves at
 *   the pool's JWKS URL, and the local sign-in page (`local-auth-server.ts`) as the hosted
 *   login, for the app client and callback URL the template gives Cognito;
 * - the API-key secret: `.local/api-keys.json`, read on every GetSecretValue, which
 *   `npm run keys` writes;
 * - the not-before list: `.local/revocations.json` loaded into the template's table, and the
 *   table's address left in `.local/local-dynamo.json` for the `users` and `keys` CLIs;
 * - sample data: each module's `seed` hook, against the tables the template created;
 * - error detail: the MCP function shows why an item failed (`MCP_LOCAL_ERROR_DETAIL`, which
 *   only this file sets: `lambda/mcp/local-error-detail.ts`).
 *
 * Importable (`startLocalGateway({ port: 0 })`), so tests drive exactly what `npm run dev` runs.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { McpModule } from '../../lambda/mcp/module-kit';
import { localStandIns } from '../../lambda/mcp/module-loader';
import { emptyApiKeyDocument } from '../../lambda/shared/api-key';
import { LOCAL_ERROR_DETAIL_VARIABLE } from '../../lambda/shared/env';
import { MCP_PATH } from '../../lambda/shared/routes';
import type { AddStackOptions } from '../../lib/app';
import { LAMBDA_BUNDLE_OPTIONS, mcpShippedFiles } from '../../lib/bundle-options';
import { MODULES } from '../../modules/index';
import { LocalAuthServer } from './auth-server';
import { type CloudAssembly, synthesize } from './emulator/assembly';
import { type Emulator, startEmulator } from './emulator/emulator';
import { LogGroups } from './emulator/logs';
import {
  apiKeyFilePath,
  LOCAL_CLIENT_ID,
  LOCAL_USER_POOL_ID,
  loadSigningKey,
  localDir,
  localJwks,
} from './identity';
import { loadRevocations } from './revocations';
import { localSignInPolicy, usersFilePath } from './user-file';

export interface LocalGatewayOptions {
  /** 0 picks a free port. Default 3000. */
  readonly port?: number;
  /** Where the signing key, API-key file, users and KMS keys live. Default `.local/`. */
  readonly dir?: string;
  /**
   * CDK context over `cdk.json`'s, as `-c key=value`: the deployment to model
   * (`authorizerCacheTtlSeconds`, `earlyDeny`, `customDomainName`, …).
   */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Browser origins allowed to call `/mcp`: `-c allowedOrigins`. */
  readonly allowedOrigins?: readonly string[];
  /**
   * A cloud assembly synthesized already for the same context (tests share one); by default
   * the stack is synthesized into `<dir>/cdk.out`.
   */
  readonly assembly?: CloudAssembly;
  /**
   * A test's own MCP server: the entry file (exporting `handler`) bundled as the stack bundles
   * the real one, and the modules it serves (for the stack: their infrastructure, roles and
   * quotas). Without an entry, the deployment's own bundle serves (its modules must be the
   * deployment's: a test of other roles or quotas).
   */
  readonly mcp?: {
    readonly entry?: string;
    readonly modules: NonNullable<AddStackOptions['modules']>;
  };
  /** HTTPS hosts the functions may reach, mapped to local servers (a test's CIMD host). */
  readonly extraHosts?: Readonly<Record<string, string>>;
  /** The gateway's clock (authorizer cache, throttling, WAF windows). */
  readonly now?: () => number;
  /**
   * Model what users report of Lambda's streaming front end (not documented by AWS): streamed
   * bytes held until this many are pending or the stream ends. @default off
   */
  readonly holdStreamedWritesBelowBytes?: number;
  /** The modules whose `seed` hook fills the tables. Default: the deployment's. */
  readonly seedModules?: readonly McpModule[];
}

export interface LocalGateway {
  /** The API's base URL: the stage on the execute-api name (`http://127.0.0.1:3000/prod`), or
   *  the custom domain's root. The OAuth issuer and the base of every public path. */
  readonly url: string;
  /** The MCP endpoint, `url` + `/mcp`. */
  readonly mcpUrl: string;
  readonly emulator: Emulator;
  /** Every log line the functions and the stage wrote, as CloudWatch would hold them. */
  readonly logs: LogGroups;
  /** The embedded DynamoDB's endpoint. */
  readonly dynamoEndpoint: string;
  /** The logical id of each function, by its Powertools service name (`mcp-server`, …). */
  readonly functions: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Bundle a test's own entry exactly as `McpFunction` bundles the real ones, with the files
 * the stack ships beside it (Cedar's runtime, when `modules` have rules).
 */
export async function bundleEntry(
  entry: string,
  modules: readonly McpModule[] = [],
): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'mcp-test-bundle-'));
  await build({
    ...LAMBDA_BUNDLE_OPTIONS,
    entryPoints: [entry],
    outfile: join(outdir, 'index.js'),
    external: [...LAMBDA_BUNDLE_OPTIONS.external],
    logLevel: 'error',
  });
  for (const path of mcpShippedFiles(modules)) {
    cpSync(join(PROJECT_ROOT, path), join(outdir, path), { recursive: true });
  }
  return outdir;
}

/** The context `-c` values of the options. */
function contextOf(options: LocalGatewayOptions): Record<string, unknown> {
  return {
    ...(options.allowedOrigins === undefined
      ? {}
      : { allowedOrigins: options.allowedOrigins.join(',') }),
    ...(options.context ?? {}),
  };
}

export async function startLocalGateway(options: LocalGatewayOptions = {}): Promise<LocalGateway> {
  const dir = options.dir ?? localDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const signingKey = loadSigningKey(dir);
  const assembly =
    options.assembly ??
    synthesize({
      outdir: join(dir, 'cdk.out'),
      context: contextOf(options),
      ...(options.mcp === undefined ? {} : { modules: options.mcp.modules }),
    });
  const template = assembly.template;
  const pool = Object.entries(template.Resources).find(
    ([, r]) => r.Type === 'AWS::Cognito::UserPool',
  )?.[0];
  const client = Object.entries(template.Resources).find(
    ([, r]) => r.Type === 'AWS::Cognito::UserPoolClient',
  )?.[0];
  const fixedIds = {
    ...(pool === undefined ? {} : { [pool]: LOCAL_USER_POOL_ID }),
    ...(client === undefined ? {} : { [client]: LOCAL_CLIENT_ID }),
  };
  const functionOf = (service: string) =>
    Object.entries(template.Resources).find(
      ([, r]) =>
        r.Type === 'AWS::Lambda::Function' &&
        (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
          ?.Variables?.POWERTOOLS_SERVICE_NAME === service,
    )?.[0];
  const functions = Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([id, r]) => [
        String(
          (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
            ?.Variables?.POWERTOOLS_SERVICE_NAME ?? id,
        ),
        id,
      ]),
  );
  const authorizerId = functionOf('mcp-authorizer');
  const mcpId = functionOf('mcp-server');
  const keyFile = apiKeyFilePath(dir);
  const codeOverrides: Record<string, string> = {};
  const bundles: string[] = [];
  if (options.mcp?.entry !== undefined && mcpId !== undefined) {
    const bundle = await bundleEntry(options.mcp.entry, options.mcp.modules.list);
    bundles.push(bundle);
    codeOverrides[mcpId] = bundle;
  }

  let auth: LocalAuthServer | undefined;
  const cognito = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://cognito.invalid');
    // Cognito's JWKS, at the URL aws-jwt-verify derives from the user pool id.
    if (req.method === 'GET' && url.pathname === `/${LOCAL_USER_POOL_ID}/.well-known/jwks.json`) {
      const body = JSON.stringify(localJwks(signingKey));
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    if (auth === undefined) {
      res.writeHead(503).end();
      return;
    }
    auth.handle(req, res, url).then(
      (handled) => {
        if (!handled) res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
      },
      () => {
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  };

  const logs = new LogGroups();
  const emulator = await startEmulator({
    assembly,
    stateDir: dir,
    port: options.port ?? 3000,
    fixedIds,
    codeOverrides,
    // Local mode shows a failing item's error to its author; AWS never does (the stack cannot
    // set this variable, and McpFunction refuses it).
    ...(mcpId === undefined
      ? {}
      : { extraEnvironment: { [mcpId]: { [LOCAL_ERROR_DETAIL_VARIABLE]: 'true' } } }),
    logs,
    cognito,
    ...(options.extraHosts === undefined ? {} : { extraHosts: options.extraHosts }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.holdStreamedWritesBelowBytes === undefined
      ? {}
      : { holdStreamedWritesBelowBytes: options.holdStreamedWritesBelowBytes }),
    secretValue: (_arn, logicalId) => {
      // The secret the authorizer reads its keys from: the local key file, as `keys` writes it.
      const authorizer = authorizerId === undefined ? undefined : template.Resources[authorizerId];
      const named = (
        authorizer?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined
      )?.Variables?.API_KEYS_SECRET_ID as { Ref?: unknown } | undefined;
      if (named?.Ref !== logicalId) return undefined;
      return () =>
        existsSync(keyFile)
          ? { AWSCURRENT: readFileSync(keyFile, 'utf8') }
          : { AWSCURRENT: JSON.stringify(emptyApiKeyDocument()) };
    },
  });
  try {
    // The hosted login, for the one app client the template gives Cognito.
    const clientProps =
      client === undefined ? undefined : emulator.resolve(template.Resources[client]?.Properties);
    const callbackUrls = (
      (clientProps as { CallbackURLs?: string[] } | undefined)?.CallbackURLs ?? []
    ).map(String);
    const scopes = (
      (clientProps as { AllowedOAuthScopes?: string[] } | undefined)?.AllowedOAuthScopes ?? []
    ).map(String);
    const groups = emulator.resolver
      .resourcesOfType('AWS::Cognito::UserPoolGroup')
      .map(([id]) => String(emulator.resolver.property(id, 'GroupName')));
    auth = new LocalAuthServer({
      baseUrl: emulator.cognitoOrigin,
      signingKey,
      clientId: LOCAL_CLIENT_ID,
      callbackUrls,
      scopes,
      groups,
      users: localSignInPolicy(usersFilePath(dir)),
    });

    // Sample data into the template's tables, and the kept not-before entries.
    const mcpEnv =
      mcpId === undefined
        ? {}
        : (emulator.lambda.definition(mcpId).environment as Record<string, string>);
    for (const module of options.seedModules ?? MODULES) {
      await module.seed?.(mcpEnv, localStandIns(emulator.dynamoEndpoint));
    }
    const revocationsTable =
      authorizerId === undefined
        ? undefined
        : emulator.lambda.definition(authorizerId).environment.REVOCATIONS_TABLE_NAME;
    const revocations =
      revocationsTable === undefined
        ? undefined
        : await loadRevocations({
            dir,
            endpoint: emulator.dynamoEndpoint,
            tableName: revocationsTable,
          });

    const domainOrigin = emulator.customDomainOrigin;
    const url =
      emulator.api.executeApiEndpoint || domainOrigin === undefined
        ? emulator.stageUrl
        : domainOrigin;
    return {
      url,
      mcpUrl: `${url}${MCP_PATH}`,
      emulator,
      logs,
      dynamoEndpoint: emulator.dynamoEndpoint,
      functions,
      stop: async () => {
        revocations?.stop();
        await emulator.stop();
        for (const bundle of bundles) rmSync(bundle, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}
