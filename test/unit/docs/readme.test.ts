import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createGate, gatedRequest, isMalformed, judge } from '../../../lambda/mcp/gate';
import { jsonRpcErrorFor } from '../../../lambda/mcp/http';
import { effectivePermissions } from '../../../lambda/shared/policy';
import { POLICY } from '../../../modules/policy';

describe('README', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

  it('gives the command that runs the tests', () => {
    expect(readme).toContain('npm test');
  });

  it("shows the refusal the policy gate gives an analyst's curl of delete_record", () => {
    // Prepare: the request the README sends just before the answer it shows
    const [before = '', marked = ''] = readme.split('<!-- refusal:start -->');
    const sent = [...before.matchAll(/-d '(\{.*\})'/g)].at(-1)?.[1];
    const shown = /```json\n([\s\S]*?)\n```\n<!-- refusal:end -->/.exec(marked)?.[1];
    const token = /--sub alice --groups (\w+)\)/.exec(before)?.[1];
    expect(sent).toBeDefined();
    expect(shown).toBeDefined();
    expect(token).toBe('analyst');
    const body: unknown = JSON.parse(sent ?? '{}');
    const request = gatedRequest(body);
    if (request === undefined || isMalformed(request)) throw new Error('the README sends no call');

    // Act: the gate's verdict for that caller, answered as the MCP function answers it
    const granted = effectivePermissions(POLICY, [token ?? ''], ['secure-mcp/tools']);
    const verdict = judge(createGate(POLICY), request, granted, 'legacy');
    if (!('refusal' in verdict)) throw new Error('the gate allowed the call the README refuses');
    const { code, message, data } = verdict.refusal;
    const answer = jsonRpcErrorFor((body as { id?: unknown }).id, code, message, data);

    // Assess
    expect(JSON.parse(shown ?? 'null')).toEqual(JSON.parse(answer.body));
  });
});
