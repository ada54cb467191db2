/**
 * The one test that really bundles: the four Lambdas built by the local esbuild (never
 * Docker), each a minified CommonJS index.js with its source map, everything but SDK v3's
 * clients (which the Node 22 runtime ships, and only the rotation Lambda uses) inside.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyApiKeyDocument } from '../../../lambda/shared/api-key';
import { CEDAR_RUNTIME_FILES, mcpShippedFiles } from '../../../lib/bundle-options';
import { startLoopbackSecrets } from '../../../tools/bench/loopback-secrets';
import { addKey } from '../../../tools/cli/api-key-admin';
import { startLocalDynamo } from '../../../tools/local/dynamo';
import { LOCAL_REVOCATIONS_TABLE, startLocalRevocations } from '../../../tools/local/revocations';
import { authorizerEvent } from '../../support/apigw-events';
import { synthStack } from '../../support/stack-fixture';

const BUNDLE_TIMEOUT_MS = 60_000;
const require = createRequire(import.meta.url);
/**
 * Size budgets, minified, with headroom over what each bundles to today (authorizer ~122 KB
 * with the small AWS client, the not-before list, source-mapped errors and gateway step-up;
 * client registration ~81 KB; rotation ~59 KB; OAuth proxy ~192 KB; MCP server ~429 KB with
 * quotas, approvals and the argument rules' glue, Cedar itself being loaded apart). The
 * usual way to blow them is `import { z } from 'zod'`: esbuild cannot tree-shake that namespace
 * re-export, and every zod locale (~400 KB) comes in.
 * `npm run bench` shows the largest contributors.
 */
const BUNDLE_BUDGETS_KB: Record<string, number> = {
  'mcp-authorizer': 140,
  'mcp-client-registration': 96,
  'mcp-key-rotation': 120,
  'mcp-oauth-proxy': 220,
  'mcp-server': 450,
};

/** A `require("x")` call, not the same text opening a string or template literal. */
const REQUIRE_CALL = /(?<![`'"\w.$])require\("([^"]+)"\)/g;

interface AssetManifest {
  readonly files: Record<
    string,
    {
      readonly source: { readonly path: string; readonly packaging?: string };
      readonly destinations: Record<string, { readonly objectKey: string }>;
    }
  >;
}

interface Bundle {
  readonly service: string;
  readonly directory: string;
}

/** The SDK v3 packages the deployment's modules import themselves (`modules/**`). */
const MODULE_SDK_IMPORTS = new Set(
  readdirSync(fileURLToPath(new URL('../../../modules', import.meta.url)), {
    recursive: true,
    encoding: 'utf8',
  })
    .filter((file) => file.endsWith('.ts'))
    .flatMap((file) => [
      ...readFileSync(
        fileURLToPath(new URL(`../../../modules/${file}`, import.meta.url)),
        'utf8',
      ).matchAll(/from '(@aws-sdk\/[^']+)'/g),
    ])
    .map(([, specifier]) => specifier as string),
);

/** Modules a bundle may still require at run time: Node's own and the runtime's AWS SDK. */
function providedByTheRuntime(specifier: string): boolean {
  const name = specifier.replace(/^node:/, '');
  return (
    specifier.startsWith('@aws-sdk/') ||
    builtinModules.includes(name) ||
    builtinModules.includes(name.split('/')[0] as string)
  );
}

describe('Lambda bundles', () => {
  let outdir = '';
  const bundles: Bundle[] = [];
  const codes: { service: string; code: Record<string, unknown> }[] = [];

  beforeAll(() => {
    // Prepare & Act: bundle once with the local esbuild, then write the cloud assembly.
    // The deployment's own stack: the bundles `cdk deploy` ships (the MCP function's always
    // serves `modules/index.ts`).
    const { app, stack, template } = synthStack({}, { bundle: true, modules: 'deployment' });
    const assembly = app.synth();
    outdir = assembly.directory;
    const manifest = JSON.parse(
      readFileSync(join(outdir, `${stack.artifactId}.assets.json`), 'utf8'),
    ) as AssetManifest;
    for (const { Properties } of Object.values(template.findResources('AWS::Lambda::Function'))) {
      const service = String(Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME);
      const code = Properties.Code as Record<string, unknown>;
      codes.push({ service, code });
      const asset = Object.values(manifest.files).find((file) =>
        Object.values(file.destinations).some((d) => d.objectKey === code.S3Key),
      );
      if (asset !== undefined) {
        bundles.push({ service, directory: join(outdir, asset.source.path) });
      }
    }
  }, BUNDLE_TIMEOUT_MS);

  afterAll(() => {
    if (outdir !== '') rmSync(outdir, { recursive: true, force: true });
  });

  it('points every function at a zipped file asset of the cloud assembly, never inline code', () => {
    // Assess
    expect(codes.map(({ service }) => service).sort()).toEqual([
      'mcp-authorizer',
      'mcp-client-registration',
      'mcp-key-rotation',
      'mcp-oauth-proxy',
      'mcp-server',
    ]);
    for (const { code } of codes) {
      expect(code).toEqual({
        S3Bucket: expect.any(String),
        S3Key: expect.stringMatching(/\.zip$/),
      });
    }
    expect(bundles.map(({ service }) => service).sort()).toEqual(
      codes.map(({ service }) => service).sort(),
    );
  });

  it('writes an index.js and its index.js.map into each asset folder', () => {
    // Assess
    expect(bundles).toHaveLength(5);
    for (const { directory } of bundles) {
      expect(existsSync(join(directory, 'index.js'))).toBe(true);
      expect(existsSync(join(directory, 'index.js.map'))).toBe(true);
    }
  });

  it('links each bundle to its source map, which maps back to the TypeScript sources', () => {
    // Assess
    for (const { directory } of bundles) {
      const code = readFileSync(join(directory, 'index.js'), 'utf8');
      const map = JSON.parse(readFileSync(join(directory, 'index.js.map'), 'utf8')) as {
        sources: string[];
      };
      expect(code.trimEnd()).toMatch(/\/\/# sourceMappingURL=index\.js\.map$/);
      expect(map.sources.some((source) => /lambda\/.*\.ts$/.test(source))).toBe(true);
    }
  });

  it('bundles CommonJS: module.exports, no ES module syntax', () => {
    // Assess
    for (const { directory } of bundles) {
      const code = readFileSync(join(directory, 'index.js'), 'utf8');
      expect(code).toContain('module.exports');
      expect(code).not.toMatch(/^\s*(import|export)\s[\w{*]/m);
    }
  });

  it.each(Object.entries(BUNDLE_BUDGETS_KB))(
    'minifies %s to within its budget of %i KB',
    (service, budgetKb) => {
      // Act
      const bundle = bundles.find((b) => b.service === service);
      const index = join(bundle?.directory ?? '(missing)', 'index.js');

      const code = readFileSync(index, 'utf8');

      // Assess
      expect(statSync(index).size / 1024).toBeLessThanOrEqual(budgetKb);
      // Only the English messages of zod, never its other locales.
      expect(code).not.toMatch(/Nieprawidłow|Ungültig|無効な/);
      // Minified output is a few very long lines, not one short statement per line.
      expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    },
  );

  it("ships Cedar's Node build beside the MCP bundle only (its modules have rules), where its import finds it", () => {
    // Act
    const shipped = bundles.filter(({ directory }) =>
      existsSync(
        join(directory, 'node_modules/@cedar-policy/cedar-wasm/nodejs/cedar_wasm_bg.wasm'),
      ),
    );
    const mcp = bundles.find((b) => b.service === 'mcp-server')?.directory ?? '';

    // Assess: the bundle imports it by name (left out), resolved from the asset folder itself.
    expect(shipped.map(({ service }) => service)).toEqual(['mcp-server']);
    expect(readFileSync(join(mcp, 'index.js'), 'utf8')).toContain(
      'import("@cedar-policy/cedar-wasm/nodejs")',
    );
    expect(
      require.resolve('@cedar-policy/cedar-wasm/nodejs', { paths: [mcp] }).startsWith(mcp),
    ).toBe(true);
  });

  it('bundles everything but SDK v3 clients, which only the rotation Lambda and modules that import them require', () => {
    // Act
    const required = bundles.flatMap(({ service, directory }) =>
      // Calls only: ajv keeps `require("ajv/...")` as text in the code strings it generates.
      [...readFileSync(join(directory, 'index.js'), 'utf8').matchAll(REQUIRE_CALL)].map(
        ([, specifier]) => ({ service, specifier: specifier as string }),
      ),
    );

    // Assess: the rotation Lambda's SDK stays outside (so the pattern sees real calls); the
    // request path (authorizer, MCP server) loads no SDK v3 of its own (a module may import
    // one: the runtime provides it); the rest is inside.
    expect(bundles).toHaveLength(5);
    expect(required).toContainEqual({
      service: 'mcp-key-rotation',
      specifier: '@aws-sdk/client-secrets-manager',
    });
    expect(
      required.filter(
        ({ service, specifier }) =>
          (service === 'mcp-authorizer' || service === 'mcp-server') &&
          specifier.startsWith('@aws-sdk/') &&
          !(service === 'mcp-server' && MODULE_SDK_IMPORTS.has(specifier)),
      ),
    ).toEqual([]);
    expect(
      required.filter(({ specifier }) => specifier.startsWith('@modelcontextprotocol')),
    ).toEqual([]);
    expect(required.filter(({ specifier }) => !providedByTheRuntime(specifier))).toEqual([]);
  });

  it('runs: the bundled authorizer reads the key secret through its AWS client and allows an API key', async () => {
    // Prepare: the deployed bundle in a fresh node, Secrets Manager on loopback.
    const { document, key } = addKey(emptyApiKeyDocument(), {
      name: 'bundle-check',
      roles: ['analyst'],
      knownRoles: ['analyst'],
      now: new Date(),
    });
    const secrets = await startLoopbackSecrets('api-keys', JSON.stringify(document));
    // The not-before list on an embedded DynamoDB, read by the bundle's own small AWS client.
    const dynamo = await startLocalDynamo();
    const revocationsDir = mkdtempSync(join(tmpdir(), 'mcp-bundle-revocations-'));
    const revocations = await startLocalRevocations({
      dir: revocationsDir,
      endpoint: dynamo.endpoint,
      refreshMs: 1000,
      maxAgeMs: 1000,
    });
    const directory = bundles.find((b) => b.service === 'mcp-authorizer')?.directory ?? '';
    const event = authorizerEvent({
      api: { region: 'eu-west-1' },
      requestId: 'bundle-check',
      sourceIp: '127.0.0.1',
      headers: { Authorization: `Bearer ${key}` },
    });
    const script = `require(${JSON.stringify(join(directory, 'index.js'))}).handler(${JSON.stringify(event)})
      .then((r) => process.stdout.write('\\nRESULT ' + JSON.stringify(r) + '\\n'), (e) => process.stdout.write('\\nERROR ' + e.message + '\\n'))`;
    try {
      // Act
      const child = spawn(process.execPath, ['-e', script], {
        env: {
          PATH: process.env.PATH,
          NODE_PATH: resolve('node_modules'),
          NODE_NO_WARNINGS: '1',
          USER_POOL_ID: 'eu-west-1_BundleCheck',
          USER_POOL_CLIENT_IDS: 'client',
          REQUIRED_SCOPES: 'secure-mcp/tools',
          API_KEYS_SECRET_ID: 'api-keys',
          API_KEY_ROLES: 'analyst',
          REVOCATIONS_TABLE_NAME: LOCAL_REVOCATIONS_TABLE,
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
          // Anything else (the JWKS prefetch) must not leave the machine.
          AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        },
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
      });
      await new Promise((done) => child.on('exit', done));

      // Assess
      // The audit record comes first on stdout, as in CloudWatch; the answer is marked.
      const line = stdout
        .split('\n')
        .find((l) => l.startsWith('RESULT ') || l.startsWith('ERROR '));
      expect(line).toMatch(/^RESULT /);
      const result = JSON.parse(line?.slice('RESULT '.length) ?? '{}') as {
        policyDocument: { Statement: { Effect: string }[] };
        context: Record<string, string>;
      };
      expect(result.policyDocument.Statement[0]?.Effect).toBe('Allow');
      expect(result.context).toMatchObject({ authMethod: 'api_key', groups: 'analyst' });
      expect(secrets.served()).toBe(2);
      expect(secrets.unexpected()).toEqual([]);
    } finally {
      revocations.stop();
      await dynamo.stop();
      await secrets.stop();
      rmSync(revocationsDir, { recursive: true, force: true });
    }
  });
});

describe('mcpShippedFiles', () => {
  it("ships Cedar's runtime when a module has rules, and nothing when none has", () => {
    expect(
      mcpShippedFiles([{ rules: '@id("a") forbid (principal, action, resource);' }, {}]),
    ).toEqual(CEDAR_RUNTIME_FILES);
    expect(mcpShippedFiles([{}, {}])).toEqual([]);
  });
});
