/**
 * The MCP Lambda's handler for a module list (`lambdaHandlerFor`), as `index.ts` and a test's
 * own entry build it: the modules it is given and no other, their dependencies built once from
 * the environment, and the narrowed-scope refusal configured from the variables the stack sets
 * (the metadata URL, the audience scope, one scope per permission).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { PERMISSION_DENIED_CODE } from '../../../lambda/mcp/gate';
import { lambdaHandlerFor } from '../../../lambda/mcp/lambda-entry';
import { moduleKit } from '../../../lambda/mcp/module-kit';
import { StepUpConfigError } from '../../../lambda/mcp/step-up';
import { buildPolicyTable } from '../../../lambda/shared/policy';
import type { Principal } from '../../../lambda/shared/principal';
import { proxyEvent } from '../../support/apigw-events';
import { type CapturedLogs, captureLogs } from '../../support/capture-logs';

const define = moduleKit<{ readonly greeting: string }>();
let built = 0;
const greeter = define.module({
  name: 'greeter',
  permissions: { greet: 'Greet', forget: 'Forget' },
  tools: [
    define.tool({
      name: 'greet',
      title: 'Greet',
      description: 'Say the greeting the environment set.',
      permission: 'greet',
      annotations: { readOnlyHint: true },
      input: z.object({}),
      output: z.object({ greeting: z.string() }),
      run: async (_, { deps }) => ({ greeting: deps.greeting }),
      summarize: (out) => out.greeting,
    }),
    define.tool({
      name: 'forget',
      title: 'Forget',
      description: 'Forget everything.',
      permission: 'forget',
      input: z.object({}),
      output: z.object({ forgotten: z.boolean() }),
      run: async () => ({ forgotten: true }),
      summarize: () => 'Forgotten.',
    }),
  ],
  dependencies: (env) => {
    built++;
    return { greeting: env.GREETING ?? '(none)' };
  },
});
const POLICY = buildPolicyTable({
  roles: { user: ['greet', 'forget'] },
  modules: [greeter],
});

const METADATA =
  'https://abcdef1234.execute-api.eu-west-1.amazonaws.com/prod/.well-known/oauth-protected-resource';
/** What the stack sets for the refusal to name scopes. */
const STEP_UP_ENV = {
  RESOURCE_METADATA_URL: METADATA,
  REQUIRED_SCOPE: 'rs/tools',
  PERMISSION_SCOPES: 'rs/greet,rs/forget',
};

type BufferedHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/** The handler as a cold start with `env` builds it (outside Lambda: answers buffered). */
function handlerWith(env: Record<string, string>): BufferedHandler {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return lambdaHandlerFor([greeter], POLICY) as BufferedHandler;
}

/** A narrowed user: its roles grant both permissions, its token names `greet` only. */
const narrowed: Principal = {
  principalId: 'user-1',
  authMethod: 'cognito',
  groups: ['user'],
  scopes: ['rs/tools', 'rs/greet'],
  keyId: '',
};

function request(
  method: string,
  params: Record<string, unknown> = {},
  as: Principal = narrowed,
): APIGatewayProxyEvent {
  return proxyEvent({
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    requestId: 'req-entry',
    sourceIp: '203.0.113.5',
    caller: as,
  });
}

const callTool = (name: string) => request('tools/call', { name, arguments: {} });

/** The JSON-RPC message of a buffered answer: its JSON body, or its one SSE frame's data. */
function messageOf(result: APIGatewayProxyResult): {
  result?: Record<string, unknown>;
  error?: { code: number; data?: Record<string, unknown> };
} {
  const data = result.body
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5));
  return JSON.parse(data.at(-1) ?? result.body);
}

const context = undefined as unknown as Context;
let logs: CapturedLogs;

beforeEach(() => {
  logs = captureLogs();
  built = 0;
});

afterEach(() => {
  logs.restore();
  vi.unstubAllEnvs();
});

describe('lambdaHandlerFor', () => {
  it('serves the modules it is given', async () => {
    // Act: a token not narrowed, so the list holds every tool its role grants
    const answer = messageOf(
      await handlerWith({})(
        request('tools/list', {}, { ...narrowed, scopes: ['rs/tools'] }),
        context,
      ),
    );

    // Assess
    const tools = (answer.result?.tools ?? []) as { name: string }[];
    expect(tools.map((tool) => tool.name)).toEqual(['greet', 'forget']);
  });

  it("builds a module's dependencies from the environment, once per instance", async () => {
    // Prepare
    const handler = handlerWith({ GREETING: 'Kia ora' });

    // Act
    const first = messageOf(await handler(callTool('greet'), context));
    await handler(callTool('greet'), context);

    // Assess
    expect(first.result?.structuredContent).toEqual({ greeting: 'Kia ora' });
    expect(built).toBe(1);
  });

  it("names the scopes to authorize with and the stack's metadata URL for a narrowed token", async () => {
    // Act
    const result = await handlerWith(STEP_UP_ENV)(callTool('forget'), context);

    // Assess
    expect(result.statusCode).toBe(200);
    expect(messageOf(result).error).toMatchObject({
      code: PERMISSION_DENIED_CODE,
      data: {
        requiredScopes: ['rs/tools', 'rs/greet', 'rs/forget'],
        resourceMetadata: METADATA,
      },
    });
  });

  it('without the metadata URL (a bare function), refuses a narrowed token like a role denial', async () => {
    // Act
    const result = await handlerWith({})(callTool('forget'), context);

    // Assess
    expect(messageOf(result).error?.code).toBe(PERMISSION_DENIED_CODE);
    expect(messageOf(result).error?.data).not.toHaveProperty('requiredScopes');
  });

  it('refuses to start when the scopes the stack names and the policy drift apart', () => {
    expect(() => handlerWith({ ...STEP_UP_ENV, PERMISSION_SCOPES: 'rs/greet' })).toThrow(
      StepUpConfigError,
    );
  });
});
