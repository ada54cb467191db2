/**
 * The optional custom domain: the API mapped at the root of `customDomainName`, so the MCP URL
 * is `https://<domain>/mcp` and the RFC 9728 / RFC 8414 well-known URIs sit where the specs put
 * them. Every URL a client is handed (outputs, 401 challenge, discovery documents) must follow.
 */
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { synthStack } from '../../support/stack-fixture';
import { render, resourcesOf } from '../../support/template-helpers';

const DOMAIN = 'mcp.example.com';
const CERTIFICATE =
  'arn:aws:acm:eu-west-1:123456789012:certificate/0b6f1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
const WITH_DOMAIN = { customDomainName: DOMAIN, customDomainCertificateArn: CERTIFICATE };

/** The JSON documents served by mock integrations (the public discovery routes). */
function servedDocuments(template: ReturnType<typeof synthStack>['template']) {
  return Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'))
    .filter((method) => method.Properties.AuthorizationType === 'NONE')
    .flatMap((method) => {
      const integration = method.Properties.Integration as {
        Type: string;
        IntegrationResponses?: { ResponseTemplates?: Record<string, unknown> }[];
      };
      const body = integration.IntegrationResponses?.[0]?.ResponseTemplates?.['application/json'];
      return integration.Type === 'MOCK' && body !== undefined
        ? [JSON.parse(render(body)) as Record<string, unknown>]
        : [];
    });
}

describe('custom domain', () => {
  const { app, stack, template } = synthStack(WITH_DOMAIN);
  const outputs = template.findOutputs('*');

  it('creates a regional TLS 1.2 domain with the configured certificate', () => {
    // Assess
    const domains = Object.values(resourcesOf(template, 'AWS::ApiGateway::DomainName'));
    expect(domains).toHaveLength(1);
    expect(domains[0]?.Properties).toEqual({
      DomainName: DOMAIN,
      RegionalCertificateArn: CERTIFICATE,
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'TLS_1_2',
    });
  });

  it('maps the root of the domain (no base path) to the API stage', () => {
    // Assess
    const mappings = Object.values(resourcesOf(template, 'AWS::ApiGateway::BasePathMapping'));
    expect(mappings).toHaveLength(1);
    const mapping = mappings[0]?.Properties ?? {};
    expect(mapping.BasePath).toBeUndefined();
    expect(render(mapping.RestApiId)).toMatch(/^<Api\w+>$/);
    expect(render(mapping.Stage)).toMatch(/^<Api\w*DeploymentStage\w+>$/);
  });

  it('hands clients the custom-domain MCP URL and the DNS target to point it at', () => {
    // Assess
    expect(render(outputs.McpEndpoint?.Value)).toBe(`https://${DOMAIN}/mcp`);
    expect(render(outputs.CustomDomainTarget?.Value)).toMatch(
      /^<ApiCustomDomain\w+\.RegionalDomainName>$/,
    );
    expect(render(outputs.CustomDomainHostedZoneId?.Value)).toMatch(
      /^<ApiCustomDomain\w+\.RegionalHostedZoneId>$/,
    );
  });

  it('names the root metadata URL of the domain in the 401 challenge', () => {
    // Assess
    const unauthorized = Object.values(
      resourcesOf(template, 'AWS::ApiGateway::GatewayResponse', { ResponseType: 'UNAUTHORIZED' }),
    )[0]?.Properties.ResponseParameters as Record<string, unknown>;
    expect(render(unauthorized['gatewayresponse.header.WWW-Authenticate'])).toMatch(
      new RegExp(
        `^'Bearer resource_metadata="https://${DOMAIN.replaceAll('.', '\\.')}/\\.well-known/oauth-protected-resource", scope="[^"]+"'$`,
      ),
    );
  });

  it('serves discovery documents whose resource, authorization server and issuer are the domain', () => {
    // Act
    const documents = servedDocuments(template);
    const prm = documents.filter((d) => 'authorization_servers' in d);
    const as = documents.filter((d) => 'code_challenge_methods_supported' in d);

    // Assess
    expect(prm.length).toBeGreaterThan(0);
    expect(as.length).toBeGreaterThan(0);
    for (const document of prm) {
      expect(document).toMatchObject({
        resource: `https://${DOMAIN}/mcp`,
        authorization_servers: [`https://${DOMAIN}`],
      });
    }
    for (const document of as) expect(document.issuer).toBe(`https://${DOMAIN}`);
  });

  it('turns the execute-api URL off, so the domain (TLS 1.2, OAuth metadata) is the only door', () => {
    // Assess
    const apis = Object.values(resourcesOf(template, 'AWS::ApiGateway::RestApi'));
    expect(apis.map((api) => api.Properties.DisableExecuteApiEndpoint)).toEqual([true]);
  });

  it('keeps the execute-api URL on with -c keepExecuteApiEndpoint=true', () => {
    // Act
    const { template: kept } = synthStack({ ...WITH_DOMAIN, keepExecuteApiEndpoint: 'true' });

    // Assess
    const apis = Object.values(resourcesOf(kept, 'AWS::ApiGateway::RestApi'));
    expect(apis.map((api) => api.Properties.DisableExecuteApiEndpoint ?? false)).toEqual([false]);
  });

  it.each([
    ['the domain alone', {}, [DOMAIN]],
    [
      'the domain and the execute-api name, while it is kept',
      { keepExecuteApiEndpoint: 'true' },
      [DOMAIN, 'execute-api'],
    ],
  ])('lets the MCP function answer %s (Host)', (_, extra, expected) => {
    // Act
    const { template: built } = synthStack({ ...WITH_DOMAIN, ...extra });
    const mcp = Object.values(resourcesOf(built, 'AWS::Lambda::Function')).find(
      (fn) =>
        (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
          ?.Variables?.POWERTOOLS_SERVICE_NAME === 'mcp-server',
    );
    const variables = (mcp?.Properties.Environment as { Variables?: Record<string, unknown> })
      ?.Variables;
    const hosts = render(variables?.ALLOWED_HOSTS).split(',');

    // Assess
    expect(hosts.map((host) => (host.includes('.execute-api.') ? 'execute-api' : host))).toEqual(
      expected,
    );
  });

  it('reports no unacknowledged cdk-nag finding', () => {
    // Act
    const report = new AwsSolutionsChecks(app).validateScope(stack);

    // Assess
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('without a custom domain', () => {
  const { template } = synthStack();

  it('creates no domain, no mapping and no DNS output, and leaves execute-api on', () => {
    // Assess
    const apis = Object.values(resourcesOf(template, 'AWS::ApiGateway::RestApi'));
    expect(apis.map((api) => api.Properties.DisableExecuteApiEndpoint ?? false)).toEqual([false]);
    expect(resourcesOf(template, 'AWS::ApiGateway::DomainName')).toEqual({});
    expect(resourcesOf(template, 'AWS::ApiGateway::BasePathMapping')).toEqual({});
    expect(Object.keys(template.findOutputs('*'))).not.toContain('CustomDomainTarget');
  });
});
