/**
 * `npm run verify`: against the local gateway serving the synthesized stack (a deployment that
 * passes every row, and one whose step-up is not at the gateway), and each check on canned
 * answers, failures included: every row must be able to fail.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addKey, FileKeyDocumentStore } from '../../../tools/cli/api-key-admin';
import {
  CHECK_TITLES,
  checkAuthorizationServer,
  checkChallenge,
  checkCors,
  checkDeniedCall,
  checkDiscover,
  checkNotifications,
  checkProgress,
  checkProtectedResource,
  checkRootWellKnown,
  checkStepUp,
  checkToolsList,
  type Row,
  UNLISTED_ORIGIN,
} from '../../../tools/cli/verify/checks';
import { exitCodeOf, renderReport } from '../../../tools/cli/verify/report';
import { verifyDeployment } from '../../../tools/cli/verify/run';
import { McpWire, resolveTarget, Wire } from '../../../tools/cli/verify/wire';
import type { LocalGateway } from '../../../tools/local/gateway';
import {
  apiKeyFilePath,
  LOCAL_SCOPE,
  loadSigningKey,
  localPermissionScopes,
  mintAccessToken,
} from '../../../tools/local/identity';
import { startTestGateway } from '../../support/local-gateway-fixture';
import {
  ALLOWED_ORIGINS,
  BASE,
  cannedDeployment,
  FakeClock,
  json,
  MCP_HEADERS,
  MCP_URL,
  METADATA_URL,
  NARROW_TOKEN,
  NARROW_TOOLS,
  type Override,
  rpcError,
  rpcResult,
  STEP_UP_CHALLENGE,
  streamCheckFrames,
  TOKEN,
  TOOLS,
  timedSse,
} from './verify/canned';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const run = promisify(execFile);

/** `npm run verify` as a team runs it: its own process, the credentials in its environment. */
async function verifyCli(url: string, env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'tools/cli/verify.ts', url],
      {
        cwd: ROOT,
        env: { ...process.env, ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const rowTitled = (rows: readonly Row[], title: string) => rows.find((row) => row.title === title);

// ---------------------------------------------------------------------------------------------
// Against the local gateway
// ---------------------------------------------------------------------------------------------

/**
 * The credential's roles: admin's tools for the listing and denied-call rows, operator's
 * `stream_check` for the progress row, as a team's deployment check would be given both.
 */
const VERIFY_GROUPS = ['admin', 'operator'];
/** A custom domain mapped at the root, so that the root well-known URLs can be served. */
const CUSTOM_DOMAIN = {
  customDomainName: 'mcp.example.com',
  customDomainCertificateArn:
    'arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012',
};
const BROWSER_ORIGINS = ['https://app.example.com', 'https://console.example.com'];
const NARROW_SCOPES = [LOCAL_SCOPE, ...localPermissionScopes(['read_data'])];

/**
 * The deployment (the stack as synthesized, its own modules) on a local gateway for the suite,
 * in its own folder; `prepare` runs on the folder first. A deployment of new `-c` values is synthesized
 * and bundled on first use: minutes on a busy machine.
 */
function useVerifyGateway(
  options: Parameters<typeof startTestGateway>[1],
  prepare?: (dir: string) => Promise<void>,
) {
  const fixture = {} as { dir: string; gateway: LocalGateway };
  beforeAll(async () => {
    fixture.dir = mkdtempSync(join(tmpdir(), 'mcp-verify-'));
    await prepare?.(fixture.dir);
    fixture.gateway = await startTestGateway(fixture.dir, options);
  }, 300_000);
  afterAll(async () => {
    await fixture.gateway?.stop();
    if (fixture.dir !== undefined) rmSync(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}

describe('npm run verify against a deployment with a custom domain, gateway step-up and two browser origins', () => {
  const local = useVerifyGateway({ context: CUSTOM_DOMAIN, allowedOrigins: BROWSER_ORIGINS });

  it('prints every row ✔ and exits 0, with an admin and operator token and a narrowed one', async () => {
    // Prepare
    const key = loadSigningKey(local.dir);
    const admin = mintAccessToken(key, { sub: 'verify-admin', groups: VERIFY_GROUPS });
    const narrow = mintAccessToken(key, {
      sub: 'verify-narrow',
      groups: VERIFY_GROUPS,
      scopes: NARROW_SCOPES,
    });

    // Act
    const { code, stdout } = await verifyCli(local.gateway.mcpUrl, {
      MCP_VERIFY_TOKEN: admin,
      MCP_VERIFY_NARROW_TOKEN: narrow,
      MCP_VERIFY_ORIGINS: BROWSER_ORIGINS.join(','),
    });

    // Assess
    const rows = stdout.split('\n').filter((line) => /^ {2}[✔✘–] /.test(line));
    const titles = Object.values(CHECK_TITLES);
    expect(rows.filter((line) => !line.startsWith('  ✔ '))).toEqual([]);
    expect(rows.map((line) => titles.find((title) => line.startsWith(`  ✔ ${title} `)))).toEqual(
      titles,
    );
    expect(code).toBe(0);
    expect(stdout).not.toContain(admin);
    expect(stdout).not.toContain(narrow);
  }, 120_000);
});

describe('npm run verify against a deployment with -c gatewayStepUp=false, given its stage URL', () => {
  let apiKey = '';
  const local = useVerifyGateway({ context: { gatewayStepUp: false } }, async (dir) => {
    const store = new FileKeyDocumentStore(apiKeyFilePath(dir));
    const added = addKey(await store.read(), {
      name: 'verify-analyst',
      roles: ['analyst'],
      knownRoles: ['analyst'],
      now: new Date(),
    });
    await store.write(added.document);
    apiKey = added.key;
  });

  it('fails the step-up row alone, and exits 1: the refusal is a JSON-RPC error naming requiredScopes', async () => {
    // Prepare: an analyst's API key, and an admin token narrowed to read_data
    const narrow = mintAccessToken(loadSigningKey(local.dir), {
      sub: 'verify-narrow',
      groups: ['admin'],
      scopes: NARROW_SCOPES,
    });

    // Act
    const { target, rows } = await verifyDeployment({
      url: local.gateway.url,
      credential: apiKey,
      narrowCredential: narrow,
    });

    // Assess
    expect(target.mcpUrl).toBe(local.gateway.mcpUrl);
    const stepUp = rowTitled(rows, CHECK_TITLES.stepUp);
    expect(stepUp?.mark).toBe('fail');
    expect(stepUp?.detail).toMatch(/^gateway step-up is off: run_report got JSON-RPC -32003/);
    // On the stage URL the root well-known URLs cannot be served; stream_check is operator's only.
    expect(rowTitled(rows, CHECK_TITLES.rootWellKnown)?.detail).toMatch(/custom domain/);
    expect(rowTitled(rows, CHECK_TITLES.progress)?.detail).toMatch(/stream_check is not listed/);
    expect(rows.filter((row) => row.mark === 'fail')).toEqual([stepUp]);
    expect(exitCodeOf(rows)).toBe(1);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// Each check on canned answers
// ---------------------------------------------------------------------------------------------

/** The wire to the canned deployment (with a test's override) and its clock. */
function canned(override?: Override, clock = new FakeClock()) {
  const wire = new Wire({
    fetch: cannedDeployment(clock, override),
    now: clock.now,
    timeoutMs: 5_000,
  });
  return { wire, mcp: new McpWire(wire, MCP_URL), target: resolveTarget(MCP_URL), clock };
}

/** Answer POSTs of one JSON-RPC method (any era) with `answer`. */
const onMethod =
  (method: string, answer: (id: number | undefined) => Response): Override =>
  (request, body) =>
    request.method === 'POST' && body?.method === method ? answer(body.id) : undefined;

/** Answer GETs of one URL with `answer`. */
const onGet =
  (url: string, answer: () => Response): Override =>
  (request) =>
    request.method === 'GET' && request.url === url ? answer() : undefined;

describe('resolveTarget', () => {
  it('reads the MCP URL and the base URL as the same deployment', () => {
    // Act
    const fromMcp = resolveTarget(`${BASE}/mcp/`);
    const fromBase = resolveTarget(`${BASE}/`);

    // Assess
    expect(fromMcp).toEqual({ baseUrl: BASE, mcpUrl: MCP_URL });
    expect(fromBase).toEqual(fromMcp);
  });

  it('refuses what is not an http(s) URL', () => {
    // Assess
    expect(() => resolveTarget('abc123.execute-api.eu-west-1.amazonaws.com')).toThrow(/not a URL/);
    expect(() => resolveTarget('ftp://example.com/mcp')).toThrow(/http/);
  });
});

describe('the 401 challenge check', () => {
  it('passes a 401 Bearer challenge whose resource_metadata answers', async () => {
    // Prepare
    const { wire, mcp } = canned();

    // Act
    const { row, resourceMetadataUrl } = await checkChallenge(wire, mcp);

    // Assess
    expect(row.mark).toBe('pass');
    expect(resourceMetadataUrl).toBe(METADATA_URL);
  });

  it('fails an MCP URL that answers without a credential', async () => {
    // Prepare
    const { wire, mcp } = canned((request) =>
      request.headers.has('authorization') ? undefined : json(rpcResult(1, { tools: [] })),
    );

    // Act
    const { row } = await checkChallenge(wire, mcp);

    // Assess
    expect(row).toMatchObject({ mark: 'fail', fix: expect.stringMatching(/authorizer/) });
  });

  it('says to give the stage when API Gateway serves nothing at the URL (an execute-api origin alone)', async () => {
    // Prepare: API Gateway's answer to a path outside every stage
    const { wire, mcp } = canned((request) =>
      request.method === 'POST' ? json({ message: 'Forbidden' }, 403) : undefined,
    );

    // Act
    const { row } = await checkChallenge(wire, mcp);

    // Assess
    expect(row).toMatchObject({ mark: 'fail', fix: expect.stringMatching(/McpEndpoint.*stage/) });
  });

  it('fails a challenge that arrived renamed x-amzn-Remapped-WWW-Authenticate', async () => {
    // Prepare
    const { wire, mcp } = canned((request) =>
      request.headers.has('authorization')
        ? undefined
        : json({ message: 'Unauthorized' }, 401, {
            'x-amzn-Remapped-WWW-Authenticate': `Bearer resource_metadata="${METADATA_URL}"`,
          }),
    );

    // Act
    const { row } = await checkChallenge(wire, mcp);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.detail).toMatch(/x-amzn-Remapped-WWW-Authenticate/);
  });

  it('fails a resource_metadata URL that does not answer', async () => {
    // Prepare
    const { wire, mcp } = canned(onGet(METADATA_URL, () => json({ message: 'Not found' }, 404)));

    // Act
    const { row } = await checkChallenge(wire, mcp);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.detail).toMatch(/HTTP 404/);
  });
});

describe('the protected-resource metadata check', () => {
  it('passes a document naming the MCP URL exactly and an authorization server', async () => {
    // Prepare
    const { wire, target } = canned();

    // Act
    const { row, issuer } = await checkProtectedResource(wire, target, METADATA_URL);

    // Assess
    expect(row.mark).toBe('pass');
    expect(issuer).toBe(BASE);
  });

  it('fails a resource that differs from the MCP URL by a trailing slash', async () => {
    // Prepare
    const { wire, target } = canned(
      onGet(METADATA_URL, () => json({ resource: `${MCP_URL}/`, authorization_servers: [BASE] })),
    );

    // Act
    const { row } = await checkProtectedResource(wire, target, METADATA_URL);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.detail).toContain(`"${MCP_URL}/"`);
  });

  it('fails a document without authorization servers', async () => {
    // Prepare
    const { wire, target } = canned(
      onGet(METADATA_URL, () => json({ resource: MCP_URL, authorization_servers: [] })),
    );

    // Act
    const { row, issuer } = await checkProtectedResource(wire, target, METADATA_URL);

    // Assess
    expect(row.mark).toBe('fail');
    expect(issuer).toBeUndefined();
  });
});

describe('the authorization-server metadata check', () => {
  const OIDC_APPENDED = `${BASE}/.well-known/openid-configuration`;

  it('finds the document where MCP clients look last on an execute-api URL, and passes it', async () => {
    // Prepare
    const { wire } = canned();

    // Act
    const row = await checkAuthorizationServer(wire, BASE);

    // Assess
    expect(row.mark).toBe('pass');
    expect(row.detail).toBe(
      `found at ${OIDC_APPENDED} (after /.well-known/oauth-authorization-server/prod 403, /.well-known/openid-configuration/prod 403); issuer matches, S256 supported`,
    );
  });

  it('fails a document that does not advertise PKCE S256 (as Cognito’s own)', async () => {
    // Prepare
    const { wire } = canned(onGet(OIDC_APPENDED, () => json({ issuer: BASE })));

    // Act
    const row = await checkAuthorizationServer(wire, BASE);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.fix).toMatch(/S256/);
  });

  it('fails a document whose issuer is not the URL it was looked up for', async () => {
    // Prepare
    const { wire } = canned(
      onGet(OIDC_APPENDED, () =>
        json({ issuer: `${BASE}/`, code_challenge_methods_supported: ['S256'] }),
      ),
    );

    // Act
    const row = await checkAuthorizationServer(wire, BASE);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.detail).toMatch(/issuer is/);
  });

  it('fails a server error on the way, where MCP clients stop looking', async () => {
    // Prepare
    const { wire } = canned(
      onGet(
        'https://abc123.execute-api.eu-west-1.amazonaws.com/.well-known/oauth-authorization-server/prod',
        () => json({ message: 'Internal server error' }, 500),
      ),
    );

    // Act
    const row = await checkAuthorizationServer(wire, BASE);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.detail).toMatch(/HTTP 500; MCP clients stop there/);
  });

  it('does not apply without an authorization server to look up', async () => {
    // Prepare
    const { wire } = canned();

    // Act
    const row = await checkAuthorizationServer(wire, undefined);

    // Assess
    expect(row.mark).toBe('skip');
  });
});

describe('the server/discover check', () => {
  it('passes a server that supports 2026-07-28 (asked with Mcp-Method and the _meta envelope)', async () => {
    // Prepare
    const { mcp } = canned();

    // Act
    const row = await checkDiscover(mcp, TOKEN);

    // Assess
    expect(row).toMatchObject({ mark: 'pass', detail: 'canned 1.0.0 supports 2026-07-28' });
  });

  it('fails a server that does not list 2026-07-28', async () => {
    // Prepare
    const { mcp } = canned(
      onMethod('server/discover', (id) =>
        json(rpcResult(id, { supportedVersions: ['2025-11-25'], capabilities: {} })),
      ),
    );

    // Act
    const row = await checkDiscover(mcp, TOKEN);

    // Assess
    expect(row.mark).toBe('fail');
  });

  it('fails with what to do when the credential is refused', async () => {
    // Prepare
    const { mcp } = canned();

    // Act
    const row = await checkDiscover(mcp, 'expired-credential');

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.fix).toMatch(/MCP_VERIFY_TOKEN/);
  });
});

describe('the tools/list checks', () => {
  it('pass the tools each era lists (a 2025-11-25 client initializing first)', async () => {
    // Prepare
    const { mcp } = canned();

    // Act
    const modern = await checkToolsList(mcp, TOKEN, 'modern');
    const legacy = await checkToolsList(mcp, TOKEN, 'legacy', modern.tools);

    // Assess
    expect(modern.tools).toEqual(TOOLS);
    expect([modern.row.mark, legacy.row.mark]).toEqual(['pass', 'pass']);
  });

  it('fail when the two eras list different tools for one credential', async () => {
    // Prepare
    const { mcp } = canned((request, body) =>
      body?.method === 'tools/list' && request.headers.get('mcp-protocol-version') === '2025-11-25'
        ? json(rpcResult(body.id, { tools: [{ name: 'get_record', inputSchema: {} }] }))
        : undefined,
    );

    // Act
    const legacy = await checkToolsList(mcp, TOKEN, 'legacy', TOOLS);

    // Assess
    expect(legacy.row.mark).toBe('fail');
  });

  it('fail when initialize fails for a 2025-11-25 client', async () => {
    // Prepare
    const { mcp } = canned(
      onMethod('initialize', (id) => json(rpcError(id, -32603, 'Internal error'))),
    );

    // Act
    const legacy = await checkToolsList(mcp, TOKEN, 'legacy');

    // Assess
    expect(legacy.row).toMatchObject({
      mark: 'fail',
      detail: 'initialize got JSON-RPC error -32603: Internal error',
    });
  });
});

describe('the refused call check', () => {
  it('passes a JSON-RPC error for a tool that does not exist', async () => {
    // Prepare
    const { mcp } = canned();

    // Act
    const row = await checkDeniedCall(mcp, TOKEN, 'no_such_tool');

    // Assess
    expect(row.mark).toBe('pass');
    expect(row.detail).toMatch(/-32602/);
  });

  it('fails an error that carries a stack trace', async () => {
    // Prepare
    const trace =
      'TypeError: x is undefined\n    at lookup (/var/task/index.js:12:34)\n    at run (/var/task/index.js:56:7)';
    const { mcp } = canned(
      onMethod('tools/call', (id) =>
        json(rpcError(id, -32603, 'Internal error', { stack: trace })),
      ),
    );

    // Act
    const row = await checkDeniedCall(mcp, TOKEN, 'no_such_tool');

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.fix).toMatch(/stack trace/);
  });

  it('fails a refusal that is not a JSON-RPC error', async () => {
    // Prepare
    const { mcp } = canned(
      onMethod('tools/call', (id) =>
        json(rpcResult(id, { content: [{ type: 'text', text: 'no' }], isError: true })),
      ),
    );

    // Act
    const row = await checkDeniedCall(mcp, TOKEN, 'no_such_tool');

    // Assess
    expect(row.mark).toBe('fail');
  });
});

describe('the step-up check', () => {
  it('passes a 403 WWW-Authenticate insufficient_scope challenge for a tool the narrow token lacks', async () => {
    // Prepare
    const { mcp } = canned();

    // Act
    const row = await checkStepUp(mcp, NARROW_TOKEN, TOOLS);

    // Assess
    expect(row.mark).toBe('pass');
    expect(row.detail).toMatch(/^delete_record: 403 WWW-Authenticate insufficient_scope/);
  });

  it('fails a challenge renamed x-amzn-Remapped-WWW-Authenticate, saying how to fix it', async () => {
    // Prepare
    const { mcp } = canned((request, body) =>
      body?.method === 'tools/call' &&
      request.headers.get('authorization') === `Bearer ${NARROW_TOKEN}`
        ? json(rpcError(body.id, -32003, 'Insufficient scope'), 403, {
            'x-amzn-Remapped-WWW-Authenticate': STEP_UP_CHALLENGE,
          })
        : undefined,
    );

    // Act
    const row = await checkStepUp(mcp, NARROW_TOKEN, TOOLS);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.fix).toMatch(/gatewayStepUp=true/);
  });

  it('fails a challenge without a scope', async () => {
    // Prepare
    const { mcp } = canned(
      onMethod('tools/call', () =>
        json({ message: 'Forbidden' }, 403, {
          'WWW-Authenticate': `Bearer error="insufficient_scope", resource_metadata="${METADATA_URL}"`,
        }),
      ),
    );

    // Act
    const row = await checkStepUp(mcp, NARROW_TOKEN, TOOLS);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.detail).toMatch(/lacks scope/);
  });

  it('fails a refusal that names requiredScopes in a JSON-RPC error (gateway step-up off)', async () => {
    // Prepare
    const { mcp } = canned(
      onMethod('tools/call', (id) =>
        json(
          rpcError(id, -32003, 'Insufficient scope', {
            requiredScopes: ['secure-mcp/tools', 'secure-mcp/delete_data'],
          }),
        ),
      ),
    );

    // Act
    const row = await checkStepUp(mcp, NARROW_TOKEN, TOOLS);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.detail).toMatch(/^gateway step-up is off/);
    expect(row.fix).toMatch(/gatewayStepUp=true/);
  });

  it('fails a call the narrow token’s list leaves out that is not refused', async () => {
    // Prepare
    const { mcp } = canned(onMethod('tools/call', (id) => json(rpcResult(id, { content: [] }))));

    // Act
    const row = await checkStepUp(mcp, NARROW_TOKEN, TOOLS);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.fix).toMatch(/one policy/);
  });

  it('does not apply when the narrow token’s roles, not its scopes, are what refuses the call', async () => {
    // Prepare
    const { mcp } = canned(
      onMethod('tools/call', (id) =>
        json(rpcError(id, -32003, 'Permission denied: your roles do not grant delete_data')),
      ),
    );

    // Act
    const row = await checkStepUp(mcp, NARROW_TOKEN, TOOLS);

    // Assess
    expect(row.mark).toBe('skip');
    expect(row.detail).toMatch(/delete_record refused for the narrow token's roles/);
  });

  it('fails with what to do when the narrow token is refused outright', async () => {
    // Prepare
    const { mcp } = canned(onMethod('tools/call', () => json({ message: 'Unauthorized' }, 401)));

    // Act
    const row = await checkStepUp(mcp, NARROW_TOKEN, TOOLS);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.fix).toMatch(/MCP_VERIFY_NARROW_TOKEN/);
  });

  it('does not apply without a narrow token, or when it lists what the credential lists', async () => {
    // Prepare
    const { mcp } = canned();

    // Act
    const withoutToken = await checkStepUp(mcp, undefined, TOOLS);
    const notNarrower = await checkStepUp(mcp, NARROW_TOKEN, NARROW_TOOLS);

    // Assess
    expect(withoutToken).toMatchObject({
      mark: 'skip',
      detail: expect.stringMatching(/MCP_VERIFY_NARROW_TOKEN/),
    });
    expect(notNarrower).toMatchObject({
      mark: 'skip',
      detail: expect.stringMatching(/fewer scopes/),
    });
  });
});

describe('the notification check', () => {
  it('passes 202 with an empty body in both eras', async () => {
    // Prepare
    const { mcp } = canned();

    // Act
    const row = await checkNotifications(mcp, TOKEN);

    // Assess
    expect(row.mark).toBe('pass');
  });

  it('fails a notification answered with a body', async () => {
    // Prepare
    const { mcp } = canned(onMethod('notifications/cancelled', () => json({}, 200)));

    // Act
    const row = await checkNotifications(mcp, TOKEN);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.detail).toMatch(/^notifications\/cancelled \(2026-07-28\) got HTTP 200/);
  });
});

describe('the progress streaming check', () => {
  it('passes a progress report that arrives the wait before the answer', async () => {
    // Prepare
    const { mcp } = canned();

    // Act
    const row = await checkProgress(mcp, TOKEN, TOOLS, 2);

    // Assess
    expect(row).toMatchObject({
      mark: 'pass',
      detail:
        'progress arrived 2.0 s before the answer (sent 2.0 s apart), held ≈ 0 ms: streamed live',
    });
  });

  it('fails a progress report held back until the answer (buffered)', async () => {
    // Prepare
    const clock = new FakeClock();
    const { mcp } = canned((_request, body) => {
      if (body?.method !== 'tools/call') return undefined;
      const frames = streamCheckFrames(body.params?._meta?.progressToken, body.id, 2000);
      return timedSse(clock, [{ afterMs: 2040, messages: [frames.progress, frames.result] }]);
    }, clock);

    // Act
    const row = await checkProgress(mcp, TOKEN, TOOLS, 2);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.detail).toBe(
      'progress arrived 0 ms before the answer, held ≈ 2.0 s on the way: buffered',
    );
  });

  it('fails an answer with no progress report in it', async () => {
    // Prepare
    const { mcp } = canned(
      onMethod('tools/call', (id) =>
        json(rpcResult(id, streamCheckFrames('x', id, 0).result.result)),
      ),
    );

    // Act
    const row = await checkProgress(mcp, TOKEN, TOOLS, 2);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.detail).toMatch(/no progress notification arrived/);
  });

  it('does not apply when stream_check is not listed, and says how to serve it', async () => {
    // Prepare
    const { mcp } = canned();

    // Act
    const row = await checkProgress(mcp, TOKEN, ['get_record'], 2);

    // Assess
    expect(row.mark).toBe('skip');
    expect(row.detail).toMatch(/modules\/diagnostics/);
  });
});

describe('the root well-known check', () => {
  it('does not apply on an execute-api URL, naming the clients that need a custom domain', async () => {
    // Prepare
    const { wire, target } = canned();

    // Act
    const row = await checkRootWellKnown(wire, target, BASE);

    // Assess
    expect(row.mark).toBe('skip');
    expect(row.detail).toMatch(/^not served on an execute-api URL .*mcp-remote.*custom domain/);
  });

  it('passes a custom domain at the root that serves both documents', async () => {
    // Prepare
    const domain = 'https://mcp.example.com';
    const { wire } = canned((request) =>
      request.url.startsWith(`${domain}/.well-known/`)
        ? json({ resource: `${domain}/mcp` })
        : undefined,
    );

    // Act
    const row = await checkRootWellKnown(wire, resolveTarget(domain), domain);

    // Assess
    expect(row.mark).toBe('pass');
  });

  it('fails a custom domain at the root that does not serve them', async () => {
    // Prepare
    const domain = 'https://mcp.example.com';
    const { wire } = canned((request) =>
      request.url.startsWith(domain) ? json({ message: 'Not found' }, 404) : undefined,
    );

    // Act
    const row = await checkRootWellKnown(wire, resolveTarget(domain), domain);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.fix).toMatch(/empty base path/);
  });
});

describe('the CORS preflight check', () => {
  /** Preflights answered for any origin (echoed), allowing POST and `headers`. */
  const echoingPreflight =
    (headers: string): Override =>
    (request) =>
      request.method === 'OPTIONS'
        ? new Response(null, {
            status: 204,
            headers: {
              'Access-Control-Allow-Origin': request.headers.get('origin') ?? '',
              'Access-Control-Allow-Methods': 'POST',
              'Access-Control-Allow-Headers': headers,
            },
          })
        : undefined;

  it('passes each allowed origin echoed with POST and the MCP headers, an unlisted one not', async () => {
    // Prepare
    const { wire, target } = canned();

    // Act
    const row = await checkCors(wire, target, ALLOWED_ORIGINS);

    // Assess
    expect(row.mark).toBe('pass');
  });

  it('fails an origin that is not echoed', async () => {
    // Prepare
    const { wire, target } = canned();

    // Act
    const row = await checkCors(wire, target, ['https://elsewhere.example.com']);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.fix).toMatch(/allowedOrigins/);
  });

  it('fails a preflight that does not allow the Mcp-Name header', async () => {
    // Prepare
    const { wire, target } = canned(echoingPreflight(MCP_HEADERS.replace(',Mcp-Name', '')));

    // Act
    const row = await checkCors(wire, target, ALLOWED_ORIGINS);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.detail).toMatch(/does not allow Mcp-Name$/);
  });

  it('fails a deployment that echoes any origin', async () => {
    // Prepare
    const { wire, target } = canned(echoingPreflight(MCP_HEADERS));

    // Act
    const row = await checkCors(wire, target, ALLOWED_ORIGINS);

    // Assess
    expect(row.mark).toBe('fail');
    expect(row.detail).toContain(UNLISTED_ORIGIN);
  });

  it('does not apply without origins to check', async () => {
    // Prepare
    const { wire, target } = canned();

    // Act
    const row = await checkCors(wire, target, []);

    // Assess
    expect(row).toMatchObject({
      mark: 'skip',
      detail: expect.stringMatching(/MCP_VERIFY_ORIGINS/),
    });
  });
});

describe('a whole verification on canned answers', () => {
  it('runs every row in order and exits 0 when none fails', async () => {
    // Prepare
    const clock = new FakeClock();

    // Act
    const verification = await verifyDeployment({
      url: BASE,
      credential: TOKEN,
      narrowCredential: NARROW_TOKEN,
      origins: ALLOWED_ORIGINS,
      fetch: cannedDeployment(clock),
      now: clock.now,
    });

    // Assess
    expect(verification.rows.map((row) => row.title)).toEqual(Object.values(CHECK_TITLES));
    expect(verification.rows.filter((row) => row.mark === 'fail')).toEqual([]);
    expect(exitCodeOf(verification.rows)).toBe(0);
  });

  it('makes a row of a check that cannot finish, and exits 1', async () => {
    // Prepare
    const clock = new FakeClock();
    const unreachable = async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    };

    // Act
    const { rows } = await verifyDeployment({
      url: MCP_URL,
      credential: TOKEN,
      fetch: unreachable,
      now: clock.now,
    });

    // Assess
    expect(rows[0]).toMatchObject({
      mark: 'fail',
      detail: 'could not finish: fetch failed (connect ECONNREFUSED)',
    });
    expect(exitCodeOf(rows)).toBe(1);
  });
});

describe('the printed report', () => {
  it('never shows a credential, even one an answer echoed', () => {
    // Prepare
    const rows: Row[] = [
      {
        title: 'Refused call',
        mark: 'fail',
        detail: `got HTTP 500: token ${TOKEN}`,
        fix: 'Fix it',
      },
    ];

    // Act
    const text = renderReport({ target: resolveTarget(MCP_URL), rows }, [TOKEN, undefined]);

    // Assess
    expect(text).not.toContain(TOKEN);
    expect(text).toContain('[credential]');
  });

  it('marks each row and puts what to do under a ✘', () => {
    // Prepare
    const rows: Row[] = [
      { title: 'A', mark: 'pass', detail: 'fine' },
      { title: 'B', mark: 'fail', detail: 'broken', fix: 'Mend it' },
      { title: 'C', mark: 'skip', detail: 'not checked: why' },
    ];

    // Act
    const lines = renderReport({ target: resolveTarget(MCP_URL), rows }, []).split('\n');

    // Assess
    expect(lines.slice(2, 6)).toEqual([
      '  ✔ A  fine',
      '  ✘ B  broken',
      '      → Mend it',
      '  – C  not checked: why',
    ]);
  });
});
