import { describe, expect, it } from 'vitest';
import {
  buildPolicyTable,
  decide,
  effectivePermissions,
  findItem,
  PolicyError,
  type PolicyModule,
  permissionsFor,
  permittedItems,
} from '../../../lambda/shared/policy';

/** A small table of its own: the rules, not the deployment's choices. */
const notes: PolicyModule = {
  name: 'notes',
  permissions: { read_notes: 'Read notes', write_notes: 'Write notes' },
  tools: [
    { name: 'get_note', permission: 'read_notes' },
    { name: 'put_note', permission: 'write_notes' },
  ],
  resources: [{ name: 'note_index', uri: 'notes://index', permission: 'read_notes' }],
  resourceTemplates: [{ name: 'note', uriTemplate: 'notes://note/{id}', permission: 'read_notes' }],
  prompts: [{ name: 'summarize_note', permission: 'read_notes' }],
};
const table = buildPolicyTable({
  roles: { editor: ['read_notes', 'write_notes'], reader: ['read_notes'] },
  modules: [notes],
});

describe('buildPolicyTable', () => {
  it('keeps every item of every kind, with its module and permission', () => {
    expect(findItem(table, 'tool', 'put_note')).toEqual({
      kind: 'tool',
      name: 'put_note',
      permission: 'write_notes',
      module: 'notes',
    });
    expect(findItem(table, 'resourceTemplate', 'note')?.uri).toBe('notes://note/{id}');
    expect(findItem(table, 'resource', 'note_index')?.uri).toBe('notes://index');
  });

  it('refuses an item needing a permission its module does not declare', () => {
    expect(() =>
      buildPolicyTable({
        roles: {},
        modules: [{ ...notes, tools: [{ name: 'x', permission: 'delete_notes' }] }],
      }),
    ).toThrow(/tool x needs permission delete_notes, which the module does not declare/);
  });

  it('refuses a role granting a permission no module declares', () => {
    expect(() => buildPolicyTable({ roles: { admin: ['everything'] }, modules: [notes] })).toThrow(
      PolicyError,
    );
  });

  it('refuses two tools of one name, even from two modules', () => {
    expect(() =>
      buildPolicyTable({ roles: {}, modules: [notes, { ...notes, name: 'notes-2' }] }),
    ).toThrow(/Two tools are named get_note/);
  });

  it('refuses a module listed twice and a permission that could not be a scope', () => {
    expect(() => buildPolicyTable({ roles: {}, modules: [notes, notes] })).toThrow(/twice/);
    expect(() =>
      buildPolicyTable({
        roles: {},
        modules: [{ name: 'm', permissions: { 'Read/All': 'x' } }],
      }),
    ).toThrow(/lower case/);
  });
});

describe('permissionsFor', () => {
  it('gives the union of the permissions of several groups', () => {
    expect([...permissionsFor(table, ['reader', 'editor'])].sort()).toEqual([
      'read_notes',
      'write_notes',
    ]);
  });

  it('grants nothing for unknown groups, prototype keys or no groups', () => {
    for (const groups of [['Editor'], ['__proto__', 'constructor', 'toString'], []]) {
      expect(permissionsFor(table, groups).size).toBe(0);
    }
  });
});

describe('decide', () => {
  it('allows an item whose permission is granted', () => {
    const item = findItem(table, 'tool', 'get_note');
    expect(decide(item, new Set(['read_notes']))).toEqual({ allowed: true, item });
  });

  it('names the missing permission for a known item not permitted', () => {
    const item = findItem(table, 'prompt', 'summarize_note');
    expect(decide(item, new Set(['write_notes']))).toEqual({
      allowed: false,
      reason: 'missing_permission',
      item,
    });
  });

  it('reports an item that is not in the table as unknown, not as forbidden', () => {
    expect(decide(undefined, new Set(['read_notes', 'write_notes']))).toEqual({
      allowed: false,
      reason: 'unknown',
    });
  });
});

describe('permittedItems', () => {
  it('lists exactly the items of a kind whose permission the caller holds', () => {
    const reader = permissionsFor(table, ['reader']);
    expect(permittedItems(table, 'tool', reader).map((item) => item.name)).toEqual(['get_note']);
    expect(permittedItems(table, 'prompt', reader).map((item) => item.name)).toEqual([
      'summarize_note',
    ]);
  });

  it('gives a caller with no recognised role nothing of any kind', () => {
    for (const kind of ['tool', 'resource', 'resourceTemplate', 'prompt'] as const) {
      expect(permittedItems(table, kind, permissionsFor(table, ['guest']))).toEqual([]);
    }
  });
});

describe('effectivePermissions', () => {
  it('narrows the roles to the permissions the token scopes name', () => {
    expect([...effectivePermissions(table, ['editor'], ['notes-api/read_notes'])]).toEqual([
      'read_notes',
    ]);
  });

  it('never adds a permission the roles do not grant', () => {
    expect([...effectivePermissions(table, ['reader'], ['x/write_notes', 'x/read_notes'])]).toEqual(
      ['read_notes'],
    );
  });

  it('leaves the roles alone when the token names no permission scope', () => {
    expect(effectivePermissions(table, ['editor'], ['notes-api/tools']).size).toBe(2);
    expect(effectivePermissions(table, ['editor'], ['notes-api/tools', 'openid']).size).toBe(2);
  });

  it('narrows to nothing a token whose only narrowing scope names a permission the table lacks', () => {
    // A token narrowed to a permission removed since it was issued must not get all its roles.
    expect([
      ...effectivePermissions(table, ['editor'], ['notes-api/tools', 'notes-api/old_perm']),
    ]).toEqual([]);
  });

  it('ignores an unknown permission scope next to a known one', () => {
    expect([
      ...effectivePermissions(table, ['editor'], ['notes-api/read_notes', 'notes-api/old_perm']),
    ]).toEqual(['read_notes']);
  });

  it('refuses a permission named like the base scope every token carries', () => {
    expect(() =>
      buildPolicyTable({
        roles: {},
        modules: [{ name: 'clash', permissions: { tools: 'would narrow nothing' } }],
      }),
    ).toThrow(/base scope/);
  });
});
