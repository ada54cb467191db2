import { describe, expect, it } from 'vitest';
import type { McpModule } from '../../../lambda/mcp/module-kit';
import {
  assertValidRules,
  formatProblem,
  RulesValidationError,
  rulesProblems,
} from '../../../lib/rules-validation';
import { FIXTURE_ROLE_NAMES, FIXTURE_RULES, fixtureModule } from '../../support/fixture-deployment';

const QUERY = 'action == Mcp::Action::"tool:query_customer_data"';
const PUT = 'action == Mcp::Action::"tool:put_record"';
const OPTIONS = { roles: FIXTURE_ROLE_NAMES, claims: ['custom:department'] };

/** The fixture module with these rules. */
const withRules = (rules: string): McpModule => ({ ...fixtureModule, rules }) as McpModule;

/** The problems of one module's rules, as `cdk synth` would print them. */
const problemsOf = (rules: string) => rulesProblems([withRules(rules)], OPTIONS).map(formatProblem);

describe('rules validation', () => {
  it('passes rules that validate against the schema generated from the module', () => {
    expect(rulesProblems([withRules(FIXTURE_RULES)], OPTIONS)).toEqual([]);
  });

  it('needs no Cedar at all when no module has rules', () => {
    // Prepare
    const cedar = () => {
      throw new Error('Cedar was loaded');
    };

    // Act and Assess
    expect(rulesProblems([fixtureModule], { cedar })).toEqual([]);
  });
});

describe('rules that cdk synth and npm test refuse', () => {
  it('refuses text that does not parse, naming the module and line', () => {
    const problems = problemsOf(
      `@id("a") forbid (principal, ${QUERY}, resource)\nwhen { context.input.limit > };`,
    );
    expect(problems.join('\n')).toMatch(/rule "a", line 2 of its rules: .*unexpected token `\}`/);
  });

  it('refuses a rule without an @id (a denial must name it)', () => {
    expect(problemsOf(`forbid (principal, ${QUERY}, resource);`).join('\n')).toMatch(
      /line 1: it needs an @id/,
    );
  });

  it('refuses two rules with one id, and an id that cannot be logged as it is', () => {
    expect(
      problemsOf(
        `@id("a") forbid (principal, ${QUERY}, resource);\n@id("a") forbid (principal, ${PUT}, resource);`,
      ).join('\n'),
    ).toMatch(/a second rule is @id\("a"\)/);
    expect(problemsOf(`@id("a b") forbid (principal, ${QUERY}, resource);`).join('\n')).toMatch(
      /must be 1-64 letters, digits/,
    );
  });

  it('refuses an unknown action, suggesting the nearest', () => {
    expect(
      problemsOf(
        '@id("a") forbid (principal, action == Mcp::Action::"tool:query_customer", resource);',
      ).join('\n'),
    ).toMatch(/unrecognized action `Mcp::Action::"tool:query_customer"`.*did you mean/);
  });

  it('refuses an unknown argument, suggesting the nearest', () => {
    expect(
      problemsOf(
        `@id("a") forbid (principal, ${QUERY}, resource) when { context.input.limt > 20 };`,
      ).join('\n'),
    ).toMatch(/attribute `input.limt` in context .* not found \(did you mean `limit`\?\)/);
  });

  it('refuses an argument compared with a value of another type', () => {
    expect(
      problemsOf(
        `@id("a") forbid (principal, ${QUERY}, resource) when { context.input.limit > "20" };`,
      ).join('\n'),
    ).toMatch(/rule "a".*unexpected type/);
  });

  it('refuses an optional argument read without asking whether it is there', () => {
    expect(
      problemsOf(
        `@id("a") forbid (principal, ${QUERY}, resource) when { context.input.segment == "retail" };`,
      ).join('\n'),
    ).toMatch(/optional attribute `input.segment`.*context.input has segment/);
  });

  it('refuses a rule Cedar can tell is impossible', () => {
    expect(
      problemsOf(`@id("a") forbid (principal, ${QUERY}, resource) when { false };`).join('\n'),
    ).toMatch(
      /rule "a".*policy is impossible: the policy expression evaluates to false for all valid requests/,
    );
    expect(
      problemsOf(`@id("a") forbid (principal is Mcp::Server, ${QUERY}, resource);`).join('\n'),
    ).toMatch(/unable to find an applicable action given the policy scope constraints/);
  });

  it('refuses a value the schema never gives: a case variant in a string set', () => {
    // A forbid naming "Closed" would never match a real "closed": it would let it through.
    expect(
      problemsOf(
        `@id("a") forbid (principal, ${PUT}, resource) when { ["suspended", "Closed"].contains(context.input.status) };`,
      ),
    ).toEqual([
      'module fixture-records, rule "a", line 1 of its rules: context.input.status is never "Closed": its schema allows only "active", "suspended", "closed", so this comparison can never be true',
    ]);
  });

  it('refuses a bound the schema rules out', () => {
    expect(
      problemsOf(
        `@id("a") forbid (principal, ${QUERY}, resource) when { context.input.limit > 50 };`,
      ),
    ).toEqual([
      'module fixture-records, rule "a", line 1 of its rules: context.input.limit > 50 can never be true: its schema keeps it at least 1 and at most 50',
    ]);
  });

  it('refuses a group no role is named, such as a case variant of one', () => {
    expect(
      problemsOf(
        `@id("a") forbid (principal, ${QUERY}, resource) when { principal.groups.contains("Analyst") };`,
      ).join('\n'),
    ).toMatch(/principal.groups never contains "Analyst": no role of this deployment is named so/);
  });

  it('refuses a tag the authorizer does not hand on', () => {
    expect(
      problemsOf(
        `@id("a") forbid (principal, ${QUERY}, resource) when { principal.hasTag("department") && principal.getTag("department") == "sales" };`,
      ).join('\n'),
    ).toMatch(
      /never has the tag "department": the authorizer hands on only the claims named by -c ruleClaims \("custom:department"\)/,
    );
  });

  it('refuses a policy template', () => {
    expect(
      problemsOf(`@id("a") forbid (principal == ?principal, ${QUERY}, resource);`).join('\n'),
    ).toMatch(/templates .* are not supported/);
  });

  it('throws one error listing every problem, for cdk synth to print', () => {
    // Act
    const act = () =>
      assertValidRules(
        [
          withRules(
            `@id("a") forbid (principal, ${QUERY}, resource) when { context.input.limt > 1 };`,
          ),
        ],
        OPTIONS,
      );

    // Assess
    expect(act).toThrow(RulesValidationError);
    expect(act).toThrow(
      /do not validate:\n {2}- module fixture-records, rule "a", line 1 of its rules: .*limt/,
    );
    expect(act).toThrow(/npm run policy -- schema/);
  });
});

describe('rules that validate', () => {
  it.each([
    ['a numeric bound', `when { context.input.limit > 20 }`, QUERY],
    ['a string set', `when { ["suspended", "closed"].contains(context.input.status) }`, PUT],
    ['a decimal bound', `when { context.input.balance.greaterThan(decimal("1000000.0")) }`, PUT],
    ['a group', `when { principal.groups.contains("analyst") }`, QUERY],
    [
      'a handed-on claim',
      `when { principal.hasTag("custom:department") && principal.getTag("custom:department") == "sales" }`,
      QUERY,
    ],
    ['the time', `when { context.system.now.toTime() > duration("18h") }`, PUT],
    [
      'an optional argument asked for first',
      `when { context.input has country && context.input.country == "DE" }`,
      QUERY,
    ],
  ])('accepts %s', (_, condition, action) => {
    expect(problemsOf(`@id("a") forbid (principal, ${action}, resource) ${condition};`)).toEqual(
      [],
    );
  });
});
