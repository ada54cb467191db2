import { describe, expect, it } from 'vitest';
import {
  checkToolAccess,
  effectivePermissions,
  permissionsFor,
  permittedTools,
  ROLE_PERMISSIONS,
  scopePermissions,
  TOOL_NAMES,
  TOOL_PERMISSIONS,
} from '../lambda/shared/policy';

describe('permissionsFor', () => {
  it('grants the seed permissions to each default role', () => {
    expect([...permissionsFor(['admin'])].sort()).toEqual([
      'delete_data',
      'read_data',
      'run_reports',
      'write_data',
    ]);
    expect([...permissionsFor(['analyst'])].sort()).toEqual(['read_data', 'run_reports']);
    expect([...permissionsFor(['readonly'])]).toEqual(['read_data']);
  });

  it('gives the union of the permissions of several groups', () => {
    expect([...permissionsFor(['readonly', 'analyst'])].sort()).toEqual([
      'read_data',
      'run_reports',
    ]);
  });

  it('grants nothing for unknown groups, prototype keys or no groups', () => {
    expect(permissionsFor([]).size).toBe(0);
    expect(
      permissionsFor(['Admin', 'superuser', 'constructor', '__proto__', 'toString']).size,
    ).toBe(0);
  });
});

describe('checkToolAccess', () => {
  it('allows a tool whose permission is granted', () => {
    expect(checkToolAccess('get_record', permissionsFor(['readonly']))).toEqual({
      allowed: true,
      tool: 'get_record',
      permission: 'read_data',
    });
  });

  it('names the missing permission when a known tool is not permitted', () => {
    expect(checkToolAccess('delete_record', permissionsFor(['analyst']))).toEqual({
      allowed: false,
      reason: 'missing_permission',
      tool: 'delete_record',
      permission: 'delete_data',
    });
  });

  it('reports an unknown tool as unknown, not as forbidden', () => {
    expect(checkToolAccess('drop_tables', permissionsFor(['admin']))).toMatchObject({
      allowed: false,
      reason: 'unknown_tool',
    });
    expect(checkToolAccess('hasOwnProperty', permissionsFor(['admin']))).toMatchObject({
      reason: 'unknown_tool',
    });
  });
});

describe('permittedTools', () => {
  it('lists exactly the tools whose permission a role holds, for every role', () => {
    for (const [role, permissions] of Object.entries(ROLE_PERMISSIONS)) {
      const expected = TOOL_NAMES.filter((tool) =>
        (permissions as readonly string[]).includes(TOOL_PERMISSIONS[tool]),
      );
      expect(permittedTools(permissionsFor([role]))).toEqual(expected);
    }
  });

  it('gives a caller with no recognised role no tools at all', () => {
    expect(permittedTools(permissionsFor(['guest']))).toEqual([]);
  });

  it('matches the seed table for analysts', () => {
    expect(permittedTools(permissionsFor(['analyst']))).toEqual([
      'get_record',
      'query_customer_data',
      'run_report',
    ]);
  });
});

describe('effectivePermissions', () => {
  it('narrows the roles to the permissions the token scopes name', () => {
    const granted = effectivePermissions(['admin'], ['secure-mcp/tools', 'secure-mcp/read_data']);
    expect([...granted]).toEqual(['read_data']);
  });

  it('never adds a permission the roles do not grant', () => {
    const granted = effectivePermissions(
      ['readonly'],
      ['secure-mcp/tools', 'secure-mcp/delete_data'],
    );
    expect(granted.size).toBe(0);
  });

  it('leaves the roles alone when the token names no permission scope', () => {
    expect([...effectivePermissions(['analyst'], ['secure-mcp/tools', 'openid'])].sort()).toEqual([
      'read_data',
      'run_reports',
    ]);
  });

  it('ignores scopes whose last segment is not a permission', () => {
    expect(scopePermissions(['secure-mcp/tools', 'openid', 'read_data_extra'])).toBeUndefined();
  });
});
