import { describe, expect, it } from 'vitest';
import { synthStack } from '../../support/stack-fixture';
import { onlyId, type Properties, render, resourcesOf } from '../../support/template-helpers';

const { template } = synthStack();

/** The discovery documents as served: the mock integration's response template, rendered. */
function servedDocuments() {
  return Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'))
    .filter(
      // Public GETs API Gateway answers itself: registration (a POST and its CORS preflight)
      // and the OAuth proxy's GET /authorize and /callback (a Lambda) are not documents.
      (method) =>
        method.Properties.AuthorizationType === 'NONE' &&
        method.Properties.HttpMethod === 'GET' &&
        (method.Properties.Integration as { Type?: string }).Type === 'MOCK',
    )
    .map((method) => {
      const integration = method.Properties.Integration as {
        Type: string;
        IntegrationResponses: {
          ResponseTemplates: Record<string, unknown>;
          ResponseParameters: Record<string, string>;
        }[];
      };
      const response = integration.IntegrationResponses[0];
      return {
        type: integration.Type,
        method: method.Properties.HttpMethod,
        headers: response?.ResponseParameters,
        document: JSON.parse(render(response?.ResponseTemplates['application/json'])) as Record<
          string,
          unknown
        >,
      };
    });
}

describe('OAuthDiscovery', () => {
  const documents = servedDocuments();
  const prm = documents.filter((d) => 'authorization_servers' in d.document);
  const as = documents.filter((d) => 'code_challenge_methods_supported' in d.document);

  it('serves the protected-resource metadata twice and the authorization-server metadata twice, from API Gateway alone', () => {
    expect({ prm: prm.length, as: as.length }).toEqual({ prm: 2, as: 2 });
    expect(documents.every((d) => d.type === 'MOCK' && d.method === 'GET')).toBe(true);
  });

  it('names the exact MCP URL as the resource and the stage URL as its authorization server', () => {
    const document = prm[0]?.document ?? {};
    expect(document.resource).toMatch(
      /^https:\/\/<Api\w+>\.execute-api\.<AWS::Region>\.<AWS::URLSuffix>\/prod\/mcp$/,
    );
    expect(document.authorization_servers).toEqual([
      String(document.resource).replace(/\/mcp$/, ''),
    ]);
    expect(document.bearer_methods_supported).toEqual(['header']);
    expect(document.scopes_supported).toEqual([
      expect.stringMatching(/McpResourceServer.*\/tools$/),
    ]);
  });

  it('advertises the stage URL as issuer and the OAuth proxy under it: PKCE S256, iss, CIMD, public clients', () => {
    const document = as[0]?.document ?? {};
    const issuer = ((prm[0]?.document.authorization_servers ?? []) as string[])[0];
    expect(document).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      response_types_supported: ['code'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
    });
    // Cognito is the proxy's upstream only: clients never see its endpoints.
    expect(JSON.stringify(document)).not.toMatch(/amazoncognito\.com|HostedLogin/);
    expect(document).not.toHaveProperty('revocation_endpoint');
  });

  it('advertises the registration endpoint under the issuer, where POST /register is served', () => {
    // Prepare
    const issuer = String(as[0]?.document.issuer);
    const registerId = onlyId(template, 'AWS::ApiGateway::Resource', { PathPart: 'register' });

    // Act
    const endpoints = as.map((d) => d.document.registration_endpoint);

    // Assess
    expect(endpoints).toEqual([`${issuer}/register`, `${issuer}/register`]);
    expect(
      resourcesOf(template, 'AWS::ApiGateway::Resource')[registerId]?.Properties.ParentId,
    ).toEqual({ 'Fn::GetAtt': [onlyId(template, 'AWS::ApiGateway::RestApi'), 'RootResourceId'] });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      ResourceId: { Ref: registerId },
    });
  });

  it('lets any origin read the public documents, and caches them briefly', () => {
    for (const document of documents) {
      expect(document.headers).toMatchObject({
        'method.response.header.Access-Control-Allow-Origin': "'*'",
        'method.response.header.Cache-Control': "'public, max-age=300'",
      });
    }
  });

  it('answers a browser preflight on every document for any origin, allowing the MCP-Protocol-Version header', () => {
    // Prepare: each resource that serves a document, and the OPTIONS methods on it.
    const methods = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'));
    const documentResources = methods
      .filter(
        (m) =>
          m.Properties.HttpMethod === 'GET' &&
          m.Properties.AuthorizationType === 'NONE' &&
          JSON.stringify(m.Properties.Integration).includes('_supported'),
      )
      .map((m) => JSON.stringify(m.Properties.ResourceId));

    // Act
    const preflights = documentResources.map((resource) => {
      const options = methods.find(
        (m) =>
          m.Properties.HttpMethod === 'OPTIONS' &&
          JSON.stringify(m.Properties.ResourceId) === resource,
      );
      const integration = options?.Properties.Integration as
        | { Type: string; IntegrationResponses: { ResponseParameters: Properties }[] }
        | undefined;
      return {
        type: integration?.Type,
        authorization: options?.Properties.AuthorizationType,
        headers: integration?.IntegrationResponses[0]?.ResponseParameters,
      };
    });

    // Assess
    expect(preflights).toHaveLength(4);
    for (const preflight of preflights) {
      expect(preflight).toMatchObject({
        type: 'MOCK',
        authorization: 'NONE',
        headers: {
          'method.response.header.Access-Control-Allow-Origin': "'*'",
          'method.response.header.Access-Control-Allow-Methods': "'GET'",
          'method.response.header.Access-Control-Allow-Headers':
            "'Content-Type,MCP-Protocol-Version'",
        },
      });
    }
  });
});
