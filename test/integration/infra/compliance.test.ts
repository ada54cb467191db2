/**
 * The synthesized stack against AWS Control Tower's proactive controls (cfn-guard, run offline
 * by @cdklabs/cdk-validator-cfnguard) as `npm run synth` runs them: no finding but the two
 * acknowledged with a reason; a violation fails the synth; and what the stack does to pass the
 * others (a log key, a year of retention, grants for AWS services only).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { addValidationPlugins, CFN_GUARD_PLUGIN } from '../../../lib/compliance';
import { loadConfig } from '../../../lib/config';
import { SecureMcpStack } from '../../../lib/secure-mcp-stack';
import { synthStack } from '../../support/stack-fixture';
import { onlyId, type Properties, render, resourcesOf } from '../../support/template-helpers';

/** The Guard rules the stack cannot pass as written, each acknowledged in lib/ with a reason. */
const ACKNOWLEDGED_GUARD_RULES = [
  'lambda_function_public_access_prohibited_check',
  'lambda_inside_vpc_check',
];

interface PluginReport {
  readonly pluginName: string;
  readonly conclusion: string;
  readonly violations: readonly { readonly ruleName: string }[];
  readonly suppressedViolations?: readonly {
    readonly ruleName: string;
    readonly acknowledgedId: string;
    readonly reason?: string;
  }[];
}

/** The real stack in an app with the validation plugins of bin/app.ts, bundling skipped. */
function appWithPlugins(overrides: Record<string, unknown> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  addValidationPlugins(app);
  new SecureMcpStack(app, 'GuardedStack', {
    config: loadConfig((key) => overrides[key]),
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  return app;
}

function guardReport(directory: string): PluginReport {
  const report = JSON.parse(readFileSync(join(directory, 'validation-report.json'), 'utf8')) as {
    pluginReports: PluginReport[];
  };
  const guard = report.pluginReports.find((r) => r.pluginName === CFN_GUARD_PLUGIN);
  if (guard === undefined) throw new Error('cfn-guard did not report');
  return guard;
}

interface KeyStatement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Principal: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

function keyStatements(template: Template, keyId: string): KeyStatement[] {
  const policy = resourcesOf(template, 'AWS::KMS::Key')[keyId]?.Properties.KeyPolicy;
  return ((policy as Properties | undefined)?.Statement ?? []) as KeyStatement[];
}

describe('AWS Control Tower proactive controls (cfn-guard)', () => {
  it.each([
    { variant: 'the default stack', overrides: {} },
    {
      variant: 'the stack with WAF off, CORS on and an operator role',
      overrides: {
        enableWaf: 'false',
        allowedOrigins: 'https://app.example.com',
        operatorRoleArn: 'arn:aws:iam::123456789012:role/mcp-key-operators',
      },
    },
  ])('pass on $variant, with only the acknowledged rules suppressed', ({ overrides }) => {
    // Act
    const assembly = appWithPlugins(overrides).synth();
    const report = guardReport(assembly.directory);

    // Assess: the KMS, log encryption and retention rules pass outright.
    expect(report.violations).toEqual([]);
    expect(report.conclusion).toBe('success');
    const suppressed = new Set(report.suppressedViolations?.map((v) => v.ruleName));
    expect([...suppressed].sort()).toEqual(ACKNOWLEDGED_GUARD_RULES);
    for (const violation of report.suppressedViolations ?? []) {
      expect(violation.acknowledgedId).toBe(`${CFN_GUARD_PLUGIN}::${violation.ruleName}`);
      expect(violation.reason?.length ?? 0).toBeGreaterThanOrEqual(40);
    }
  });

  it('fail the synth, naming the rule, when a resource breaks one next to acknowledged findings', () => {
    // Prepare: next to the real stack (and its acknowledgements), a plain 90-day log group.
    const app = appWithPlugins();
    const bare = new Stack(app, 'Bare');
    new logs.LogGroup(bare, 'Plain', { retention: logs.RetentionDays.THREE_MONTHS });

    // Act & Assess
    expect(() => app.synth()).toThrow(/cloudwatch_log_group_encrypted_check/);
  });
});

describe('what the stack does to pass them', () => {
  const { template } = synthStack();
  const logKeyId = onlyId(template, 'AWS::KMS::Key', {
    Description: 'Encrypts the MCP server log groups (audit records and access logs)',
  });

  it('encrypts every log group of the stack with its log key', () => {
    // Act
    const keys = Object.values(resourcesOf(template, 'AWS::Logs::LogGroup')).map(
      (group) => group.Properties.KmsKeyId,
    );

    // Assess
    expect(keys.length).toBeGreaterThanOrEqual(6);
    for (const key of keys) expect(key).toEqual({ 'Fn::GetAtt': [logKeyId, 'Arn'] });
  });

  it("lets CloudWatch Logs use the log key for this account's log groups in this region only", () => {
    // Act
    const statement = keyStatements(template, logKeyId).find(
      (s) => s.Sid === 'AllowCloudWatchLogsForThisAccountsLogGroups',
    );

    // Assess
    expect(statement).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
    });
    expect(render(statement?.Condition?.ArnLike?.['kms:EncryptionContext:aws:logs:arn'])).toBe(
      'arn:<AWS::Partition>:logs:eu-west-1:123456789012:log-group:*',
    );
    expect(statement?.Action).not.toContain('kms:*');
    expect(statement?.Action).not.toContain('kms:CreateGrant');
  });

  it('keeps the log key when the stack goes: a year of logs would be unreadable without it', () => {
    // Assess
    expect(template.toJSON().Resources[logKeyId]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
  });

  it('lets no principal create a grant on any KMS key unless it is for an AWS resource', () => {
    // Act
    const keyIds = Object.keys(resourcesOf(template, 'AWS::KMS::Key'));

    // Assess
    expect(keyIds.length).toBeGreaterThanOrEqual(3);
    for (const keyId of keyIds) {
      expect(keyStatements(template, keyId), keyId).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'kms:CreateGrant',
          Principal: { AWS: '*' },
          Resource: '*',
          Condition: {
            BoolIfExists: {
              'kms:GrantIsForAWSResource': 'false',
              'aws:PrincipalIsAWSService': 'false',
            },
          },
        }),
      );
    }
  });

  it('keeps every log group a year by default', () => {
    // Assess
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });
});
