/**
 * The authorizer is told the deployment's roles by the stack (`API_KEY_ROLES`), not by an
 * import of `modules/roles.ts`: a deployment with other roles gets its own, and a role name
 * the variable could not carry is refused at synth.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { moduleKit } from '../../../lambda/mcp/module-kit';
import { authorizerEnvSchema } from '../../../lambda/shared/env';
import { PolicyError } from '../../../lambda/shared/policy';
import { synthStack } from '../../support/stack-fixture';
import { functionOf } from '../../support/template-helpers';

const define = moduleKit<Record<string, never>>();
const fixture = define.module({
  name: 'fixture',
  permissions: { read_things: 'Read things' },
  tools: [
    define.tool({
      name: 'read_thing',
      title: 'Read thing',
      description: 'Read a thing.',
      permission: 'read_things',
      annotations: { readOnlyHint: true },
      input: z.object({}),
      output: z.object({ ok: z.boolean() }),
      run: async () => ({ ok: true }),
      summarize: () => 'ok',
    }),
  ],
  dependencies: () => ({}),
});

const deployment = (roles: Record<string, readonly string[]>) => ({
  list: [fixture],
  infra: { fixture: null },
  roles,
});

describe("the authorizer's roles", () => {
  it("are the deployment's roles, as the stack was given them", () => {
    // Act
    const { template } = synthStack(
      {},
      { modules: deployment({ reader: ['read_things'], 'night-shift': ['read_things'] }) },
    );

    // Assess
    const { variables } = functionOf(template, 'mcp-authorizer');
    expect(variables.API_KEY_ROLES).toBe('reader,night-shift');
    const env = authorizerEnvSchema.shape.API_KEY_ROLES.parse(variables.API_KEY_ROLES);
    expect(env).toEqual(['reader', 'night-shift']);
  });

  it('refuses a role name the authorizer could not be told (a comma, a space)', () => {
    expect(() => synthStack({}, { modules: deployment({ 'a,b': ['read_things'] }) })).toThrow(
      PolicyError,
    );
    expect(() => synthStack({}, { modules: deployment({ 'night shift': [] }) })).toThrow(
      /Role "night shift" must be letters, digits and _ \. -/,
    );
  });
});
