/**
 * cdk-nag's AwsSolutions pack over the real stack, in its default shape and in the other shape
 * a team is likely to deploy (WAF off, CORS on, an alarm e-mail): nothing unacknowledged, error
 * or warning. And every acknowledgement names one finding, on one construct, with a reason.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Stack, Validations } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { synthStack } from '../../support/stack-fixture';

/**
 * `AwsSolutions-<RULE><n>`, with the finding in brackets where the rule reports several, or
 * `cdk-validator-cfnguard::<rule_name>` for a Control Tower (cfn-guard) rule.
 */
const FINDING_ID = /^(AwsSolutions-[A-Z]+\d+(\[[^\]]+\])?|cdk-validator-cfnguard::[a-z0-9_]+)$/;
/** Rules that report one finding per policy or wildcard: acknowledge each finding on its own. */
const MULTI_FINDING_RULES = /^AwsSolutions-IAM[45]/;
const MIN_REASON_LENGTH = 40;

interface Acknowledgement {
  readonly where: string;
  readonly id: string;
  readonly reason: string;
}

/** Every `acknowledge({ id, reason })` call in lib/, read from the source text. */
function acknowledgementsInSource(): { calls: number; parsed: Acknowledgement[] } {
  const root = fileURLToPath(new URL('../../../lib', import.meta.url));
  let calls = 0;
  const parsed: Acknowledgement[] = [];
  for (const file of readdirSync(root).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(root, file), 'utf8');
    calls += source.match(/\.acknowledge\(/g)?.length ?? 0;
    for (const [, body] of source.matchAll(/\.acknowledge\(\{([\s\S]*?)\}\);/g)) {
      const text = body as string;
      const string = (key: string) =>
        new RegExp(`\\b${key}:\\s*(['"\`])((?:\\\\.|(?!\\1)[^\\\\])*)\\1`).exec(text)?.[2] ?? '';
      parsed.push({ where: file, id: string('id'), reason: string('reason') });
    }
  }
  return { calls, parsed };
}

/** The acknowledgements recorded on the constructs of a synthesized stack. */
function acknowledgementsInTree(stack: Stack): Acknowledgement[] {
  const found: Acknowledgement[] = [];
  for (const construct of stack.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({
          where: construct.node.path,
          id: id.replace(/^Annotation::/, ''),
          reason,
        });
      }
    }
  }
  return found;
}

const VARIANTS = [
  { variant: 'the default stack', overrides: {} },
  {
    variant: 'the stack with WAF off, CORS on, an alarm e-mail and an operator role',
    overrides: {
      enableWaf: 'false',
      allowedOrigins: 'https://app.example.com',
      alarmEmail: 'ops@example.com',
      operatorRoleArn: 'arn:aws:iam::123456789012:role/mcp-key-operators',
    },
  },
];

describe('cdk-nag AwsSolutions', () => {
  it.each(VARIANTS)('reports no unacknowledged error or warning on $variant', ({ overrides }) => {
    // Prepare
    const { app, stack } = synthStack(overrides);

    // Act
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    const findings = report.violations.map((violation) => ({
      rule: violation.ruleName,
      severity: violation.severity,
      at: violation.violatingResources.map((resource) => resource.constructPath),
    }));

    // Assess
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('reports an unacknowledged finding in the same app, so a clean report means something', () => {
    // Prepare: an unencrypted topic that allows plain HTTP, next to the real stack.
    const { app } = synthStack();
    const bare = new Stack(app, 'Bare');
    new sns.Topic(bare, 'PlainTopic');

    // Act
    const report = new AwsSolutionsChecks(app).validateScope(bare);

    // Assess
    expect(report.success).toBe(false);
    expect(report.violations.map((violation) => violation.ruleName)).toContain('AwsSolutions-SNS3');
  });
});

describe('acknowledgements', () => {
  const source = acknowledgementsInSource();
  const { stack } = synthStack({ enableWaf: 'false', allowedOrigins: 'https://app.example.com' });
  const tree = acknowledgementsInTree(stack);

  it('are all written as acknowledge({ id, reason }) literals that this test can read', () => {
    // Assess
    expect(source.calls).toBeGreaterThan(0);
    expect(source.parsed).toHaveLength(source.calls);
  });

  it('each name one specific AwsSolutions finding or Control Tower rule in lib/', () => {
    // Act
    const vague = source.parsed.filter(
      ({ id }) => !FINDING_ID.test(id) || (MULTI_FINDING_RULES.test(id) && !id.includes('[')),
    );

    // Assess
    expect(vague).toEqual([]);
  });

  it(`each give a reason of at least ${MIN_REASON_LENGTH} characters in lib/`, () => {
    // Act
    const thin = source.parsed.filter(({ reason }) => reason.trim().length < MIN_REASON_LENGTH);

    // Assess
    expect(thin).toEqual([]);
  });

  it('sit on the constructs they excuse, never on the stack or the app as a whole', () => {
    // Assess
    expect(tree.length).toBeGreaterThan(0);
    for (const { where } of tree) expect(where.startsWith(`${stack.node.path}/`)).toBe(true);
  });

  it('reach the construct tree with a specific id and a real reason', () => {
    // Act
    const weak = tree.filter(
      ({ id, reason }) =>
        !FINDING_ID.test(id) ||
        (MULTI_FINDING_RULES.test(id) && !id.includes('[')) ||
        reason.trim().length < MIN_REASON_LENGTH,
    );

    // Assess
    expect(weak).toEqual([]);
  });
});
