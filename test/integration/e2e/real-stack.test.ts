/**
 * The emulator over the real stack, as `cdk synth` builds it (the run's shared assembly,
 * Lambdas bundled): a handful of facts of the deployed API checked end to end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../../tools/local/emulator/emulator';
import { testAssembly } from '../../support/test-assembly';

let emulator: Emulator;
let stateDir: string;
beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'emulator-real-stack-'));
  emulator = await startEmulator({ assembly: testAssembly(), stateDir, port: 0 });
});
afterAll(async () => {
  await emulator.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** A template value of the stack, resolved in the local account and localized. */
function templateValue(logicalType: string, responseType: string, key: string): unknown {
  const [logicalId] =
    emulator.resolver
      .resourcesOfType(logicalType)
      .find(([id]) => emulator.resolver.property(id, 'ResponseType') === responseType) ?? [];
  const parameters = emulator.resolve(
    emulator.resolver.resource(logicalId as string).Properties?.ResponseParameters,
  );
  return (parameters as Record<string, unknown>)[key];
}

describe('the synthesized stack, served', () => {
  it('puts the MCP endpoint under the stage on the execute-api name, as the stack output says', () => {
    expect(emulator.stageUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/prod$/);
    expect(emulator.outputs.McpEndpoint).toBe(`${emulator.stageUrl}/mcp`);
  });

  it('answers the root /.well-known path 403: only a custom domain could serve it there', async () => {
    const root = await fetch(
      `${emulator.executeApiOrigin}/.well-known/oauth-protected-resource/mcp`,
    );
    const staged = await fetch(`${emulator.stageUrl}/.well-known/oauth-protected-resource/mcp`);

    expect(root.status).toBe(403);
    expect(staged.status).toBe(200);
    expect(await staged.json()).toMatchObject({ resource: `${emulator.stageUrl}/mcp` });
  });

  it("answers a call without a credential 401 with the template's WWW-Authenticate, not remapped", async () => {
    const response = await fetch(`${emulator.stageUrl}/mcp`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    const configured = templateValue(
      'AWS::ApiGateway::GatewayResponse',
      'UNAUTHORIZED',
      'gatewayresponse.header.WWW-Authenticate',
    ) as string;

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(configured.slice(1, -1));
    expect(response.headers.get('www-authenticate')).toContain(
      `${emulator.stageUrl}/.well-known/oauth-protected-resource`,
    );
  });

  it('answers a CORS preflight from its mock integration', async () => {
    const response = await fetch(`${emulator.stageUrl}/token`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' },
    });

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-methods')).toBe('POST');
  });

  it("says at start that it cannot evaluate the web ACL's AWS managed rule group", () => {
    const notes = emulator.logs.events('local-emulator').map((event) => event.message);

    expect(notes.some((note) => /AWSManagedRulesKnownBadInputs.* is not modelled/.test(note))).toBe(
      true,
    );
  });
});
