import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  cedarTypeOf,
  inputTypeOf,
  principalEntity,
  ruleContext,
  rulesSchema,
  ruleTargets,
  toCedarValue,
  UnrepresentableInputError,
} from '../../../lambda/mcp/rules-schema';
import { fixtureModule } from '../../support/fixture-deployment';

describe('cedarTypeOf', () => {
  it('maps JSON Schema types as AgentCore Policy documents: integer Long, number decimal', () => {
    expect(cedarTypeOf({ type: 'string' })).toEqual({ type: 'String' });
    expect(cedarTypeOf({ type: 'integer' })).toEqual({ type: 'Long' });
    expect(cedarTypeOf({ type: 'number' })).toEqual({ type: 'Extension', name: 'decimal' });
    expect(cedarTypeOf({ type: 'boolean' })).toEqual({ type: 'Boolean' });
    expect(cedarTypeOf({ type: 'array', items: { type: 'string' } })).toEqual({
      type: 'Set',
      element: { type: 'String' },
    });
  });

  it('has no type for what Cedar cannot hold: unions, nullable values, maps', () => {
    expect(cedarTypeOf({ anyOf: [{ type: 'string' }, { type: 'null' }] })).toBeUndefined();
    expect(
      cedarTypeOf({ type: 'object', additionalProperties: { type: 'string' } }),
    ).toBeUndefined();
    expect(cedarTypeOf({ type: 'null' })).toBeUndefined();
  });
});

describe('inputTypeOf', () => {
  it('types what the item gets: an argument with a default is required, an optional one is not', () => {
    // Prepare
    const schema = z.strictObject({
      limit: z.number().int().default(10),
      note: z.string().optional(),
      either: z.union([z.string(), z.number()]).optional(),
    });

    // Act
    const type = inputTypeOf(schema);

    // Assess: the union is left out, so no rule can name it.
    expect(type.attributes).toEqual({
      limit: { type: 'Long', required: true },
      note: { type: 'String', required: false },
    });
  });
});

describe('toCedarValue', () => {
  const type = inputTypeOf(
    z.object({ amount: z.number(), count: z.number().int(), tags: z.array(z.string()) }),
  );

  it('writes numbers as exact decimals with four places and keeps only typed attributes', () => {
    expect(toCedarValue(type, { amount: 12.5, count: 3, tags: ['a'], extra: 'dropped' })).toEqual({
      amount: { __extn: { fn: 'decimal', arg: '12.5000' } },
      count: 3,
      tags: ['a'],
    });
  });

  it('refuses a number Cedar would have to round: 1000.00001 must not reach a rule as 1000', () => {
    expect(() => toCedarValue(type, { amount: 1000.00001, count: 1, tags: [] })).toThrow(
      UnrepresentableInputError,
    );
  });

  it('refuses a value of another type than its schema says, and a missing required one', () => {
    expect(() => toCedarValue(type, { amount: 1, count: '1', tags: [] })).toThrow(
      /input.count is not a Long/,
    );
    expect(() => toCedarValue(type, { amount: 1, tags: [] })).toThrow(/input.count is missing/);
    expect(() => toCedarValue(type, { amount: 1, count: 2 ** 60, tags: [] })).toThrow(
      UnrepresentableInputError,
    );
  });
});

describe('ruleTargets', () => {
  it('makes one action per tool, resource, prompt and completion target of a module', () => {
    // Act
    const actions = ruleTargets([fixtureModule]).map((target) => target.action);

    // Assess
    expect(actions).toEqual(
      expect.arrayContaining([
        'tool:query_customer_data',
        'tool:put_record',
        'resource:record_schema',
        'resource:segment_summary',
        'completion:resource:segment_summary',
        'prompt:customer_summary',
        'completion:prompt:customer_summary',
      ]),
    );
  });

  it('parses arguments as the item gets them: defaults applied, schema refusals refused', () => {
    // Prepare
    const query = ruleTargets([fixtureModule]).find(
      (target) => target.action === 'tool:query_customer_data',
    );

    // Act
    const defaulted = query?.parse({});
    const refused = query?.parse({ limit: '30' });

    // Assess
    expect(defaulted).toEqual({ ok: true, input: { limit: 10 } });
    expect(refused).toEqual({ ok: false });
  });

  it("reads a resource template's variables from the URI", () => {
    // Prepare
    const template = ruleTargets([fixtureModule]).find(
      (target) => target.action === 'resource:segment_summary',
    );

    // Act and Assess
    expect(template?.parse({ uri: 'customers://segments/retail/summary' })).toEqual({
      ok: true,
      input: { segment: 'retail' },
    });
    expect(template?.input().attributes.segment).toEqual({ type: 'String', required: true });
  });

  it('refuses two items that would be one action', () => {
    expect(() => ruleTargets([fixtureModule, { ...fixtureModule, name: 'copy' }])).toThrow(
      /Module copy: two items are the rules' action Mcp::Action::"tool:get_record"/,
    );
  });
});

describe('the request Cedar sees', () => {
  it('makes the caller an Mcp::User with groups, scopes and the handed-on claims as tags', () => {
    // Act
    const entity = principalEntity({
      principalId: 'user-1',
      authMethod: 'cognito',
      groups: ['analyst'],
      scopes: ['mcp/tools'],
      keyId: '',
      claims: { 'custom:department': 'finance' },
    });

    // Assess
    expect(entity).toEqual({
      uid: { type: 'Mcp::User', id: 'user-1' },
      attrs: {
        id: 'user-1',
        authMethod: 'cognito',
        groups: ['analyst'],
        scopes: ['mcp/tools'],
        keyId: '',
      },
      parents: [],
      tags: { 'custom:department': 'finance' },
    });
  });

  it('puts the time in context.system.now as a datetime', () => {
    const context = ruleContext(
      { type: 'Record', attributes: {} },
      {},
      new Date('2027-01-02T03:04:05.000Z'),
    );
    expect(context.system).toEqual({
      now: { __extn: { fn: 'datetime', arg: '2027-01-02T03:04:05.000Z' } },
    });
  });

  it('describes every action in the schema it validates rules against', () => {
    // Act
    const schema = rulesSchema(ruleTargets([fixtureModule]));

    // Assess
    const actions = schema.Mcp?.actions as Record<string, { appliesTo: unknown }>;
    expect(actions['tool:query_customer_data']?.appliesTo).toMatchObject({
      principalTypes: ['User'],
      resourceTypes: ['Server'],
      context: {
        attributes: {
          input: { attributes: { limit: { type: 'Long', required: true } } },
          system: { attributes: { now: { type: 'Extension', name: 'datetime' } } },
        },
      },
    });
  });
});
