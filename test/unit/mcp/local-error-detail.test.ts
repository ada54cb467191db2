/**
 * Local mode shows a failing item's author why (its error's class and message, secrets
 * redacted) to the caller and in the log; in AWS (the switch off, always) the caller gets the
 * request id alone and the log the error's name. Through the handler with a real MCP client.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { createMcpHandler } from '../../../lambda/mcp/handler';
import {
  describeError,
  localErrorDetailOn,
  MAX_ERROR_DETAIL,
} from '../../../lambda/mcp/local-error-detail';
import { moduleKit } from '../../../lambda/mcp/module-kit';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../../lambda/shared/audit';
import { AwsError } from '../../../lambda/shared/aws/error';
import { ConfigurationError, LOCAL_ERROR_DETAIL_VARIABLE } from '../../../lambda/shared/env';
import { createLogger } from '../../../lambda/shared/logger';
import { buildPolicyTable } from '../../../lambda/shared/policy';
import type { Principal } from '../../../lambda/shared/principal';
import { REDACTED } from '../../../lambda/shared/redact';
import { type CapturedLogs, captureLogs } from '../../support/capture-logs';
import { handlerFetch } from '../../support/handler-fetch';

const JWT =
  'eyJraWQiOiJsb2NhbCIsImFsZyI6IlJTMjU2In0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const API_KEY = 'mcpk_0123456789abcdef_Q2hhbmdlLW1lLXRoaXMtaXMtYS1mYWtlLXNlY3JldC0x';
/** What the failing items throw: a message quoting a token and a key, as careless code might. */
const MESSAGE = `upstream refused Bearer ${JWT} and key ${API_KEY}`;

/** An AWS SDK v3 service exception as the SDK builds them: `name` is the service's code. */
class ResourceNotFoundException extends Error {
  override readonly name = 'ResourceNotFoundException';
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 400 };
}

describe('describeError', () => {
  it("gives an error's class and message", () => {
    expect(describeError(new TypeError('id is undefined'))).toBe('TypeError: id is undefined');
  });

  it("names an AWS SDK service exception's code and HTTP status", () => {
    expect(describeError(new ResourceNotFoundException('Requested resource not found'))).toBe(
      'ResourceNotFoundException [AWS, HTTP 400]: Requested resource not found',
    );
  });

  it("names the service code of the project's own AWS client error", () => {
    // Prepare
    const error = new AwsError({
      service: 'DynamoDB',
      operation: 'GetItem',
      code: 'ValidationException',
      status: 400,
      retryable: false,
      attempts: 1,
      serviceMessage: 'Value at tableName failed to satisfy constraint',
    });

    // Act
    const text = describeError(error);

    // Assess
    expect(text).toMatch(/^AwsError \[ValidationException\]: DynamoDB\.GetItem failed/);
  });

  it('follows causes, and redacts secrets in every one', () => {
    // Prepare
    const error = new Error('lookup failed', { cause: new Error(`token=${JWT}`) });

    // Act
    const text = describeError(error);

    // Assess
    expect(text).toBe(`Error: lookup failed; caused by Error: token=${REDACTED}`);
  });

  it('cuts a JWT and an API key out of the message', () => {
    // Act
    const text = describeError(new Error(MESSAGE));

    // Assess
    expect(text).toContain('upstream refused');
    expect(text).not.toContain(JWT.slice(0, 20));
    expect(text).not.toContain(API_KEY.slice(22));
  });

  it('says what was thrown when it is no error', () => {
    expect(describeError('plain text')).toBe('string thrown: plain text');
  });

  it('caps a long message', () => {
    expect(describeError(new Error('x '.repeat(2000)))).toHaveLength(MAX_ERROR_DETAIL);
  });
});

describe('localErrorDetailOn', () => {
  it('is off when the variable is unset or empty, as in every deployed function', () => {
    expect(localErrorDetailOn({})).toBe(false);
    expect(localErrorDetailOn({ [LOCAL_ERROR_DETAIL_VARIABLE]: '' })).toBe(false);
  });

  it('is on when the local gateway set it to true', () => {
    expect(localErrorDetailOn({ [LOCAL_ERROR_DETAIL_VARIABLE]: 'true' })).toBe(true);
  });

  it('stops the function starting for any other value, naming the variable', () => {
    expect(() => localErrorDetailOn({ [LOCAL_ERROR_DETAIL_VARIABLE]: '1' })).toThrow(
      new ConfigurationError(
        `Invalid environment: ${LOCAL_ERROR_DETAIL_VARIABLE}: must be true or unset (only the local gateway sets it)`,
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Through the handler

const define = moduleKit<undefined>();
const failing = define.module({
  name: 'failing',
  permissions: { use: 'Use the failing items' },
  tools: [
    define.tool({
      name: 'get_thing',
      title: 'Get a thing',
      description: 'Fails.',
      permission: 'use',
      annotations: { readOnlyHint: true },
      input: z.object({}),
      output: z.object({ thing: z.string() }),
      run: async () => {
        throw new ResourceNotFoundException(MESSAGE);
      },
      summarize: (out) => out.thing,
    }),
  ],
  resources: [
    define.resource({
      name: 'thing_index',
      uri: 'things://index',
      permission: 'use',
      read: async () => {
        throw new TypeError(MESSAGE);
      },
    }),
  ],
  dependencies: () => undefined,
});
const policy = buildPolicyTable({ roles: { user: ['use'] }, modules: [failing] });
const caller: Principal = {
  principalId: 'author-1',
  authMethod: 'cognito',
  groups: ['user'],
  scopes: ['mcp/tools'],
  keyId: '',
};

let logs: CapturedLogs;
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => {
  logs.restore();
});

async function clientOf(localErrorDetail: boolean): Promise<Client> {
  const handler = createMcpHandler({
    config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
    policy,
    modules: [{ module: failing, deps: undefined }],
    logger: createLogger('mcp-server'),
    localErrorDetail,
  });
  const client = new Client({ name: 'local-detail-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL('https://mcp.example.com/mcp'), {
      fetch: handlerFetch(handler, () => caller),
    }),
  );
  return client;
}

/** The text of a tool's error result. */
async function toolError(client: Client): Promise<string> {
  const result = await client.callTool({ name: 'get_thing', arguments: {} });
  expect(result.isError).toBe(true);
  const [block] = result.content as { type: string; text?: string }[];
  return block?.text ?? '';
}

/** The message of the JSON-RPC error a resource read was answered with. */
async function readError(client: Client): Promise<string> {
  return client.readResource({ uri: 'things://index' }).then(
    () => 'answered',
    (error: Error) => error.message,
  );
}

/** Every logged line, and the audit record of the one call. */
function logged() {
  const record = logs
    .records()
    .find((line) =>
      [AUDIT_EVENTS.toolCall, AUDIT_EVENTS.resourceRead].some(
        (event) => event === line[AUDIT_FIELDS.event],
      ),
    );
  return { text: logs.lines.join('\n'), record };
}

describe('a failing item in local mode', () => {
  it("tells the caller the tool's error class and message, secrets redacted", async () => {
    // Prepare
    const client = await clientOf(true);

    // Act
    const text = await toolError(client);

    // Assess
    expect(text).toMatch(
      /^The tool get_thing failed: ResourceNotFoundException \[AWS, HTTP 400\]: upstream refused Bearer \[redacted\] and key mcpk_0123456789abcdef_\[redacted\]\. Request id: /,
    );
    expect(text).not.toContain(JWT.slice(0, 20));
  });

  it('writes the same to the log, and only the error name to the audit record', async () => {
    // Prepare
    const client = await clientOf(true);

    // Act
    await toolError(client);

    // Assess
    const { text, record } = logged();
    expect(text).toContain('The tool get_thing failed (local mode');
    expect(text).toContain('upstream refused Bearer [redacted]');
    expect(text).not.toContain(JWT.slice(0, 20));
    expect(text).not.toContain(API_KEY.slice(22));
    expect(record?.[AUDIT_FIELDS.errorType]).toBe('ResourceNotFoundException');
    expect(JSON.stringify(record)).not.toContain('upstream refused');
  });

  it('answers a failing resource read with a -32603 that says why, secrets redacted', async () => {
    // Prepare
    const client = await clientOf(true);

    // Act
    const message = await readError(client);

    // Assess
    expect(message).toContain('The resource thing_index failed: TypeError: upstream refused');
    expect(message).not.toContain(JWT.slice(0, 20));
  });
});

describe('a failing item in AWS (no local detail)', () => {
  it('gives the caller the request id alone', async () => {
    // Prepare
    const client = await clientOf(false);

    // Act
    const text = await toolError(client);

    // Assess
    expect(text).toMatch(/^The tool get_thing failed\. Request id: [0-9a-f-]{36}$/);
  });

  it('logs no message, only the error name in the audit record', async () => {
    // Prepare
    const client = await clientOf(false);

    // Act
    await toolError(client);

    // Assess
    const { text, record } = logged();
    expect(record?.[AUDIT_FIELDS.errorType]).toBe('ResourceNotFoundException');
    expect(text).not.toContain('upstream refused');
  });

  it('answers a failing resource read with a bare internal error', async () => {
    // Prepare
    const client = await clientOf(false);

    // Act
    const message = await readError(client);

    // Assess
    expect(message).toMatch(/Internal error/);
    expect(message).not.toContain('upstream refused');
  });
});
