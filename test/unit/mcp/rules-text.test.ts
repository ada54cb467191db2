import { describe, expect, it } from 'vitest';
import { ALL_ACTIONS, RuleSyntaxError, splitRules } from '../../../lambda/mcp/rules-text';

describe('splitRules', () => {
  it('splits a text into its policies, each with its id, effect, line and own text', () => {
    // Prepare
    const text = `
// A comment; with a semicolon
@id("first")
forbid (principal, action == Mcp::Action::"tool:a", resource)
when { context.input.note == "a; b" };

@id("second") @advice("x")
permit (principal, action, resource);`;

    // Act
    const rules = splitRules(text);

    // Assess
    expect(rules.map(({ id, effect, line }) => ({ id, effect, line }))).toEqual([
      { id: 'first', effect: 'forbid', line: 3 },
      { id: 'second', effect: 'permit', line: 7 },
    ]);
    expect(rules[0]?.text).toBe(
      '@id("first")\nforbid (principal, action == Mcp::Action::"tool:a", resource)\nwhen { context.input.note == "a; b" };',
    );
  });

  it('reads the actions a scope names with ==, with in [...], and none for a bare action', () => {
    // Act
    const rules = splitRules(`
@id("one") forbid (principal, action == Mcp::Action::"tool:a", resource);
@id("two") forbid (principal, action in [Mcp::Action::"tool:a", Mcp::Action::"prompt:b"], resource);
@id("all") forbid (principal, action, resource);`);

    // Assess
    expect(rules.map((rule) => rule.actions)).toEqual([
      ['tool:a'],
      ['tool:a', 'prompt:b'],
      ALL_ACTIONS,
    ]);
  });

  it('reads a scope it cannot follow (an action group, another namespace) as naming every action', () => {
    // Act
    const rules = splitRules(`
@id("group") forbid (principal, action in Mcp::Action::"readers", resource);
@id("other") forbid (principal, action == Other::Action::"tool:a", resource);`);

    // Assess: the only harm is loading Cedar for more items; validation refuses both anyway.
    expect(rules[0]?.actions).toEqual(['readers']);
    expect(rules[1]?.actions).toBe(ALL_ACTIONS);
  });

  it('undoes string escapes in ids and action names', () => {
    // Act
    const [rule] = splitRules(
      '@id("a\\u{2d}b") forbid (principal, action == Mcp::Action::"tool:\\x41", resource);',
    );

    // Assess
    expect(rule?.id).toBe('a-b');
    expect(rule?.actions).toEqual(['tool:A']);
  });

  it('leaves the id undefined when a policy has no @id', () => {
    expect(splitRules('forbid (principal, action, resource);')[0]?.id).toBeUndefined();
  });

  it.each([
    ['an unterminated string', 'forbid (principal, action, resource) when { "a };', /unterminated/],
    ['a missing semicolon', 'forbid (principal, action, resource)', /missing ;/],
    ['no effect', '@id("x") allow (principal, action, resource);', /expected permit or forbid/],
    [
      'unbalanced brackets',
      'forbid (principal, action, resource) when { (a };',
      /unbalanced|unclosed/,
    ],
    ['a bad escape', 'forbid (principal, action, resource) when { "\\q" };', /unknown escape/],
  ])('refuses %s', (_, text, message) => {
    expect(() => splitRules(text)).toThrow(RuleSyntaxError);
    expect(() => splitRules(text)).toThrow(message);
  });
});
