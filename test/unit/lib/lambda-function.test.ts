/**
 * The McpFunction construct, through every Lambda function of the real stack: runtime,
 * architecture, tracing, source maps, its own retained-for-N-days log group and a role that
 * may write to that log group only; environments typed by the runtime's schemas, refused at
 * synth when a literal value does not fit, and never with local mode's error-detail switch.
 */
import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { moduleKit } from '../../../lambda/mcp/module-kit';
import {
  authorizerEnvSchema,
  LOCAL_ERROR_DETAIL_VARIABLE,
  mcpEnvSchema,
} from '../../../lambda/shared/env';
import { McpFunction } from '../../../lib/lambda-function';
import { FIXTURE_TABLE_VARIABLE } from '../../support/fixture-deployment';
import { synthStack } from '../../support/stack-fixture';
import { type Properties, resourcesOf } from '../../support/template-helpers';

interface Statement {
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
}
interface LambdaFunction {
  readonly id: string;
  readonly service: string;
  readonly properties: Properties;
  readonly role: string;
  readonly logGroup: string;
  readonly environment: Record<string, unknown>;
}

/** Every Lambda function of the template, by Powertools service name. */
function lambdaFunctions(template: Template): Map<string, LambdaFunction> {
  const found = new Map<string, LambdaFunction>();
  for (const [id, { Properties }] of Object.entries(
    resourcesOf(template, 'AWS::Lambda::Function'),
  )) {
    const environment = (Properties.Environment as { Variables?: Record<string, unknown> })
      ?.Variables;
    const logGroup = (Properties.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)
      ?.LogGroup?.Ref;
    const service = String(environment?.POWERTOOLS_SERVICE_NAME ?? id);
    found.set(service, {
      id,
      service,
      properties: Properties,
      role: (Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
      logGroup: logGroup ?? '(none)',
      environment: environment ?? {},
    });
  }
  return found;
}

const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Statements of IAM policies and role inline policies that apply to `role`. */
function statementsOf(template: Template, role: string): Statement[] {
  const found: Statement[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const policy of Object.values(resourcesOf(template, type))) {
      const roles = asList(policy.Properties.Roles).map((r) => (r as { Ref?: string }).Ref);
      if (!roles.includes(role)) continue;
      found.push(...(policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    }
  }
  const inline = resourcesOf(template, 'AWS::IAM::Role')[role]?.Properties.Policies;
  for (const policy of asList(inline)) {
    found.push(
      ...(policy as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement,
    );
  }
  return found;
}

/** Whether an IAM action pattern (with wildcards) grants `action`. */
function grants(pattern: string, action: string): boolean {
  return new RegExp(`^${pattern.split('*').join('.*')}$`, 'i').test(action);
}

/** The variables a schema cannot do without: those with no default that refuse `undefined`. */
function requiredVariables(schema: typeof authorizerEnvSchema | typeof mcpEnvSchema): string[] {
  return Object.entries(schema.shape)
    .filter(([, field]) => !field.safeParse(undefined).success)
    .map(([name]) => name);
}

const SERVICES = [
  'mcp-authorizer',
  'mcp-client-registration',
  'mcp-key-rotation',
  'mcp-oauth-proxy',
  'mcp-server',
];

describe('McpFunction in the stack', () => {
  const { template } = synthStack();
  const functions = lambdaFunctions(template);
  const fn = (service: string) => {
    const found = functions.get(service);
    if (found === undefined) throw new Error(`No function for ${service}`);
    return found;
  };

  it('covers every Lambda function of the stack: authorizer, client registration, key rotation, OAuth proxy and MCP server', () => {
    // Assess
    expect([...functions.keys()].sort()).toEqual(SERVICES);
  });

  it.each(SERVICES)('runs %s on Node.js 22, ARM64, with active X-Ray tracing', (service) => {
    // Assess
    expect(fn(service).properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
    });
  });

  it.each(SERVICES)('loads %s without parsing its source maps at cold start', (service) => {
    // Assess: --enable-source-maps cost ~10% of the cold start; maps are read on error instead.
    expect(fn(service).environment.NODE_OPTIONS ?? '').not.toContain('--enable-source-maps');
    expect(fn(service).environment.POWERTOOLS_LOG_LEVEL).toBe('INFO');
  });

  it.each(SERVICES)('logs %s to its own log group, kept for the default 365 days', (service) => {
    // Act
    const logGroup = resourcesOf(template, 'AWS::Logs::LogGroup')[fn(service).logGroup];

    // Assess
    expect(logGroup?.Properties.RetentionInDays).toBe(365);
    expect([...functions.values()].filter((f) => f.logGroup === fn(service).logGroup)).toHaveLength(
      1,
    );
  });

  it('sets a retention on every log group of the stack', () => {
    // Assess
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  describe('with -c logRetentionDays=400', () => {
    const { template: month } = synthStack({ logRetentionDays: '400' });

    it.each(SERVICES)('keeps the logs of %s for 400 days', (service) => {
      // Act
      const found = lambdaFunctions(month).get(service);
      const logGroup = resourcesOf(month, 'AWS::Logs::LogGroup')[found?.logGroup ?? ''];

      // Assess
      expect(logGroup?.Properties.RetentionInDays).toBe(400);
    });

    it('keeps every log group of the stack for 400 days', () => {
      // Assess
      month.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 400 });
    });
  });

  it.each(SERVICES)('lets %s put log events only into its own log group', (service) => {
    // Act
    const { role, logGroup } = fn(service);
    const putLogEvents = statementsOf(template, role).filter(
      (statement) =>
        statement.NotAction !== undefined ||
        (asList(statement.Action) as string[]).some((action) =>
          grants(action, 'logs:PutLogEvents'),
        ),
    );

    // Assess
    expect(putLogEvents).toHaveLength(1);
    expect(putLogEvents[0]?.Resource).toEqual({ 'Fn::GetAtt': [logGroup, 'Arn'] });
  });

  it('attaches the managed AWSLambdaBasicExecutionRole to no role', () => {
    // Act
    const roles = resourcesOf(template, 'AWS::IAM::Role');
    const managed = Object.values(roles).map((role) => role.Properties.ManagedPolicyArns ?? []);

    // Assess
    expect(Object.keys(roles)).toEqual(expect.arrayContaining([fn('mcp-server').role]));
    expect(JSON.stringify(managed)).not.toContain('AWSLambdaBasicExecutionRole');
  });

  describe('environment', () => {
    it('gives the authorizer its user pool, client allow-list, required scope and key secret', () => {
      // Prepare
      const [secret] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));

      // Assess
      expect(secret).toBeDefined();
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            POWERTOOLS_SERVICE_NAME: 'mcp-authorizer',
            USER_POOL_ID: Match.anyValue(),
            USER_POOL_CLIENT_IDS: Match.anyValue(),
            REQUIRED_SCOPES: Match.anyValue(),
            API_KEYS_SECRET_ID: { Ref: secret },
          }),
        },
      });
    });

    it('gives the MCP server its allowed origins and what each module’s infrastructure returns: its table', () => {
      // Prepare
      // The fixture module's table (the stack's other tables are the core's own).
      const [table] = Object.keys(template.findResources('AWS::DynamoDB::GlobalTable')).filter(
        (id) => id.startsWith('FixtureRecords'),
      );

      // Assess
      expect(table).toBeDefined();
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            POWERTOOLS_SERVICE_NAME: 'mcp-server',
            [FIXTURE_TABLE_VARIABLE]: { Ref: table },
            ALLOWED_ORIGINS: '',
          }),
        },
      });
    });

    it('passes -c allowedOrigins to the MCP server', () => {
      // Act
      const { template: cors } = synthStack({
        allowedOrigins: 'https://a.example.com,https://b.example.com',
      });

      // Assess
      cors.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            ALLOWED_ORIGINS: 'https://a.example.com,https://b.example.com',
          }),
        },
      });
    });

    // (mcp-server's own schema has defaults only; its modules' variables are checked above.)
    it.each([{ service: 'mcp-authorizer', schema: authorizerEnvSchema }])(
      'sets every variable the $service schema requires',
      ({ service, schema }) => {
        // Act
        const required = requiredVariables(schema);

        // Assess
        expect(required.length).toBeGreaterThan(0);
        expect(Object.keys(fn(service).environment)).toEqual(expect.arrayContaining(required));
      },
    );
  });

  describe('local error detail', () => {
    it('is set on no function of the synthesized stack, nor typed by any schema', () => {
      // Assess
      expect(functions.size).toBe(SERVICES.length);
      for (const { environment } of functions.values()) {
        expect(Object.keys(environment)).not.toContain(LOCAL_ERROR_DETAIL_VARIABLE);
      }
      expect(Object.keys(mcpEnvSchema.shape)).not.toContain(LOCAL_ERROR_DETAIL_VARIABLE);
    });

    it("stops synth when a module's infrastructure sets it on the MCP function", () => {
      // Prepare
      const define = moduleKit<undefined>();
      const sneaky = define.module({
        name: 'sneaky',
        permissions: {},
        dependencies: () => undefined,
      });

      // Act
      const synth = () =>
        synthStack(
          {},
          {
            modules: {
              list: [sneaky],
              infra: { sneaky: () => ({ [LOCAL_ERROR_DETAIL_VARIABLE]: 'true' }) },
              roles: {},
            },
          },
        );

      // Assess
      expect(synth).toThrow(
        `McpServer: ${LOCAL_ERROR_DETAIL_VARIABLE} is set only by the local gateway`,
      );
    });
  });

  describe('schema check at synth', () => {
    const build = (environment: Record<string, string>) => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new Stack(app, 'EnvSchemaStack');
      return new McpFunction(stack, 'X', {
        entry: 'mcp/index.ts',
        description: 'Schema check under test',
        serviceName: 'schema-check',
        envSchema: mcpEnvSchema,
        environment,
        logRetention: logs.RetentionDays.ONE_WEEK,
      });
    };

    it('builds when the literal values fit the schema', () => {
      // Act
      const built = build({ ALLOWED_ORIGINS: '' });

      // Assess
      expect(built.function.node.id).toBe('Function');
    });

    it('refuses a number variable that is not a number, naming it', () => {
      // Act
      const notANumber = () => build({ ALLOWED_ORIGINS: '', MAX_BODY_BYTES: 'lots' });

      // Assess
      expect(notANumber).toThrow(/MAX_BODY_BYTES/);
    });
  });
});
