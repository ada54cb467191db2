/**
 * Gateway responses: each type's default status and body, the template's customization of a
 * type or of its DEFAULT_4XX/DEFAULT_5XX fallback, headers exactly as mapped.
 */
import { describe, expect, it } from 'vitest';
import type { ApiModel, GatewayResponseModel } from '../../../../../tools/local/emulator/api-model';
import {
  type GatewayResponseContext,
  type GatewayResponseType,
  renderGatewayResponse,
} from '../../../../../tools/local/emulator/gateway-responses';

function apiWith(...responses: Partial<GatewayResponseModel>[]): ApiModel {
  return {
    gatewayResponses: new Map(
      responses.map((response) => [
        response.type as string,
        { responseParameters: {}, responseTemplates: {}, ...response } as GatewayResponseModel,
      ]),
    ),
  } as unknown as ApiModel;
}

const CONTEXT: GatewayResponseContext = {
  requestHeaders: { origin: 'https://app.example', 'X-Client': 'c1' },
  query: { q: 'v' },
  context: { requestId: 'req-1', 'authorizer.requiredScopes': 'mcp/tools mcp/admin' },
  stageVariables: { env: 'local' },
};

function render(
  api: ApiModel,
  type: GatewayResponseType,
  extra: Partial<GatewayResponseContext> = {},
) {
  return renderGatewayResponse(api, type, { ...CONTEXT, ...extra });
}

describe('each type answers with its documented default status when the template does not customize it', () => {
  // "Gateway response types for API Gateway" (supported-gateway-response-types.html).
  it.each([
    ['ACCESS_DENIED', 403],
    ['API_CONFIGURATION_ERROR', 500],
    ['AUTHORIZER_CONFIGURATION_ERROR', 500],
    ['AUTHORIZER_FAILURE', 500],
    ['BAD_REQUEST_BODY', 400],
    ['BAD_REQUEST_PARAMETERS', 400],
    ['INTEGRATION_FAILURE', 504],
    ['INTEGRATION_TIMEOUT', 504],
    ['MISSING_AUTHENTICATION_TOKEN', 403],
    ['REQUEST_TOO_LARGE', 413],
    ['THROTTLED', 429],
    ['UNAUTHORIZED', 401],
    ['UNSUPPORTED_MEDIA_TYPE', 415],
    ['WAF_FILTERED', 403],
  ] as const)('%s: %i', (type, status) => {
    expect(render(apiWith(), type).statusCode).toBe(status);
  });
});

describe('a default answer', () => {
  it('is {"message": <the error message>} with its x-amzn-ErrorType', () => {
    const response = render(apiWith(), 'MISSING_AUTHENTICATION_TOKEN');

    expect(JSON.parse(response.body)).toEqual({ message: 'Missing Authentication Token' });
    expect(response.headers).toContainEqual([
      'x-amzn-ErrorType',
      'MissingAuthenticationTokenException',
    ]);
  });

  it('writes a null message as null, as the authorizer-configuration error does', () => {
    const response = render(apiWith(), 'AUTHORIZER_CONFIGURATION_ERROR', { message: null });

    expect(response.body).toBe('{"message":null}');
  });

  it('carries no CORS header: only what the template maps is added', () => {
    const response = render(apiWith(), 'UNAUTHORIZED');

    expect(response.headers.map(([name]) => name.toLowerCase())).not.toContain(
      'access-control-allow-origin',
    );
  });
});

describe('a customized type', () => {
  const api = apiWith({
    type: 'UNAUTHORIZED',
    statusCode: '401',
    responseParameters: {
      'gatewayresponse.header.WWW-Authenticate': `'Bearer resource_metadata="https://x/.well-known/oauth-protected-resource"'`,
      'gatewayresponse.header.Access-Control-Allow-Origin': 'method.request.header.Origin',
      'gatewayresponse.header.X-From-Query': 'method.request.querystring.q',
      'gatewayresponse.header.X-Absent': 'method.request.header.X-Not-Sent',
    },
    responseTemplates: {
      'application/json':
        '{"message":"Unauthorized","id":"$context.requestId","env":"$stageVariables.env"}',
    },
  });

  it('sends its headers exactly as mapped: static values and request parameters, a missing one not at all', () => {
    const response = render(api, 'UNAUTHORIZED');

    expect(response.headers).toEqual([
      ['x-amzn-ErrorType', 'UnauthorizedException'],
      [
        'WWW-Authenticate',
        'Bearer resource_metadata="https://x/.well-known/oauth-protected-resource"',
      ],
      ['Access-Control-Allow-Origin', 'https://app.example'],
      ['X-From-Query', 'v'],
      ['Content-Type', 'application/json'],
    ]);
  });

  it('substitutes $context and $stageVariables in its template', () => {
    expect(JSON.parse(render(api, 'UNAUTHORIZED').body)).toEqual({
      message: 'Unauthorized',
      id: 'req-1',
      env: 'local',
    });
  });

  it("makes $context.authorizer values a Deny returned available to ACCESS_DENIED's template", () => {
    const denied = apiWith({
      type: 'ACCESS_DENIED',
      statusCode: '403',
      responseTemplates: {
        'application/json': '{"requiredScopes":"$context.authorizer.requiredScopes"}',
      },
    });

    expect(JSON.parse(render(denied, 'ACCESS_DENIED').body)).toEqual({
      requiredScopes: 'mcp/tools mcp/admin',
    });
  });
});

describe('the DEFAULT_4XX and DEFAULT_5XX fallbacks', () => {
  const api = apiWith(
    {
      type: 'DEFAULT_4XX',
      responseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'*'" },
      responseTemplates: { 'application/json': '{"error":$context.error.messageString}' },
    },
    {
      type: 'DEFAULT_5XX',
      statusCode: '503',
      responseTemplates: { 'application/json': '{"error":"down"}' },
    },
    {
      type: 'THROTTLED',
      statusCode: '429',
      responseTemplates: { 'application/json': '{"slow":"down"}' },
    },
  );

  it('stand in for a 4xx type the template leaves alone', () => {
    const response = render(api, 'MISSING_AUTHENTICATION_TOKEN');

    expect(response.statusCode).toBe(403);
    expect(response.body).toBe('{"error":"Missing Authentication Token"}');
    expect(response.headers).toContainEqual(['Access-Control-Allow-Origin', '*']);
  });

  it("give a 5xx type the fallback's status: changing DEFAULT_5XX's status changes every 5XX's", () => {
    const response = render(api, 'INTEGRATION_TIMEOUT');

    expect(response.statusCode).toBe(503);
    expect(response.body).toBe('{"error":"down"}');
  });

  it('do not touch a type customized on its own: its headers and body are only its own', () => {
    const response = render(api, 'THROTTLED');

    expect(response.body).toBe('{"slow":"down"}');
    expect(response.headers.map(([name]) => name)).not.toContain('Access-Control-Allow-Origin');
  });

  it('never apply to REQUEST_TOO_LARGE, whose customization AWS does not support', () => {
    const custom = apiWith(
      {
        type: 'REQUEST_TOO_LARGE',
        statusCode: '400',
        responseTemplates: { 'application/json': '{}' },
      },
      { type: 'DEFAULT_4XX', statusCode: '418', responseTemplates: { 'application/json': '{}' } },
    );

    const response = render(custom, 'REQUEST_TOO_LARGE');

    expect(response.statusCode).toBe(413);
    expect(JSON.parse(response.body)).toEqual({ message: 'Request Too Long' });
  });
});
