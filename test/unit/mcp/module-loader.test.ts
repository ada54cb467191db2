import { describe, expect, it } from 'vitest';
import {
  declaresApproval,
  destructiveToolNames,
  isDestructive,
} from '../../../lambda/mcp/module-loader';

describe('isDestructive (MCP annotation defaults)', () => {
  it.each([
    [{}, true],
    [{ annotations: {} }, true],
    [{ annotations: { destructiveHint: true } }, true],
    [{ annotations: { readOnlyHint: false } }, true],
    [{ annotations: { readOnlyHint: true } }, false],
    [{ annotations: { destructiveHint: false } }, false],
    [{ annotations: { readOnlyHint: true, destructiveHint: true } }, false],
  ])('takes %j as destructive: %s', (tool, destructive) => {
    expect(isDestructive(tool)).toBe(destructive);
  });

  it('makes a tool without annotations need approval, unless it declares approval: false', () => {
    expect(declaresApproval({})).toBe(true);
    expect(declaresApproval({ approval: false })).toBe(false);
    expect(declaresApproval({ annotations: { readOnlyHint: true }, approval: true })).toBe(true);
  });

  it('gives quotas and approvals one answer for every tool', () => {
    // Prepare
    const tools = [
      { name: 'bare' },
      { name: 'reader', annotations: { readOnlyHint: true } },
      { name: 'harmless', annotations: { destructiveHint: false } },
      { name: 'eraser', annotations: { destructiveHint: true } },
    ];

    // Act
    const quotas = destructiveToolNames([{ tools }]);
    const approvals = tools.filter((tool) => declaresApproval(tool)).map((tool) => tool.name);

    // Assess
    expect([...quotas]).toEqual(['bare', 'eraser']);
    expect(approvals).toEqual(['bare', 'eraser']);
  });
});
