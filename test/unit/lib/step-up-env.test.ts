/**
 * The MCP function learns what its narrowed-scope refusal (-32003 with `requiredScopes` and
 * `resourceMetadata`) names from the stack: the metadata URL the gateway's 401 names, the
 * required scope and one scope per permission of the policy.
 */
import { describe, expect, it } from 'vitest';
import { FIXTURE_POLICY } from '../../support/fixture-deployment';
import { synthStack } from '../../support/stack-fixture';
import { render, resourcesOf } from '../../support/template-helpers';

describe('the MCP function environment for narrowed-scope refusals', () => {
  const { template } = synthStack();
  const mcp = Object.values(resourcesOf(template, 'AWS::Lambda::Function')).find(
    (fn) =>
      (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
        ?.POWERTOOLS_SERVICE_NAME === 'mcp-server',
  );
  const variables =
    (mcp?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables ?? {};
  const unauthorized = Object.values(
    resourcesOf(template, 'AWS::ApiGateway::GatewayResponse'),
  ).find((response) => response.Properties.ResponseType === 'UNAUTHORIZED');

  it('names the same metadata URL as the gateway 401 challenge', () => {
    // Prepare: the 401 names it inside a quoted header value
    const challenge = render(
      ((unauthorized?.Properties.ResponseParameters ?? {}) as Record<string, unknown>)[
        'gatewayresponse.header.WWW-Authenticate'
      ],
    );

    // Assess
    const url = render(variables.RESOURCE_METADATA_URL);
    expect(url).toMatch(/^https:\/\/.+\/\.well-known\/oauth-protected-resource$/);
    expect(challenge).toContain(`resource_metadata="${url}"`);
  });

  it('names the required scope and one scope per permission', () => {
    const scopes = render(variables.PERMISSION_SCOPES).split(',');
    expect(render(variables.REQUIRED_SCOPE)).toMatch(/\/tools$/);
    expect(scopes.map((scope) => scope.slice(scope.lastIndexOf('/') + 1))).toEqual(
      Object.keys(FIXTURE_POLICY.permissions),
    );
  });
});
