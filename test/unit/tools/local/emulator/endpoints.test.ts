/**
 * The names an API answers by and how a request finds its method: every path of the
 * execute-api name is under the stage ("https://{restapi_id}.execute-api.{region}.amazonaws.com/
 * {stage_name}/"), a custom domain strips its base path (an empty one is the domain's root),
 * a disabled default endpoint answers 403, and a path or method the API does not define is
 * 403 `Missing Authentication Token`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API,
  ECHO,
  mockIntegration,
  type Served,
  STAGE,
  serve,
  TestApi,
} from '../../../../support/test-api';

const ref = (logicalId: string) => ({ Ref: logicalId });

const DOCUMENT = mockIntegration('{"document":true}');

function build(
  domain: { name: string; basePath?: string } | undefined,
  disableExecuteApi = false,
): TestApi {
  const api = new TestApi({ api: disableExecuteApi ? { DisableExecuteApiEndpoint: true } : {} });
  api.function('Echo', ECHO);
  api.method('/', 'GET', { function: 'Echo' });
  api.method('/echo', 'GET', { function: 'Echo' });
  api.method('/echo', 'POST', { function: 'Echo' });
  api.method('/any', 'ANY', { function: 'Echo' });
  api.method('/any', 'GET', { mock: DOCUMENT });
  api.method('/.well-known/oauth-protected-resource', 'GET', { mock: DOCUMENT });
  if (domain !== undefined) {
    api.add('Domain', {
      Type: 'AWS::ApiGateway::DomainName',
      Properties: {
        DomainName: domain.name,
        EndpointConfiguration: { Types: ['REGIONAL'] },
        RegionalCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x',
      },
    });
    api.add('Mapping', {
      Type: 'AWS::ApiGateway::BasePathMapping',
      Properties: {
        DomainName: ref('Domain'),
        RestApiId: ref(API),
        Stage: ref(STAGE),
        ...(domain.basePath === undefined ? {} : { BasePath: domain.basePath }),
      },
    });
  }
  return api;
}

interface EchoedEvent {
  resource: string;
  path: string;
  httpMethod: string;
  headers: Record<string, string>;
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
  body: string | null;
  isBase64Encoded: boolean;
  requestContext: {
    path: string;
    stage: string;
    domainName: string;
    resourceId: string;
    resourcePath: string;
  };
}

describe('the execute-api name, and a custom domain mapped at its root', () => {
  let served: Served;
  let origin: string;
  let domainOrigin: string;
  beforeAll(async () => {
    served = await serve(build({ name: 'api.example.com' }));
    origin = served.emulator.executeApiOrigin;
    domainOrigin = served.emulator.customDomainOrigin as string;
  });
  afterAll(() => served.stop());

  it('serves every path under the stage, passing the function the path without it', async () => {
    const response = await fetch(`${origin}/prod/echo?a=1&a=2&b=x`);
    const event = (await response.json()) as EchoedEvent;

    expect(event).toMatchObject({
      resource: '/echo',
      path: '/echo',
      httpMethod: 'GET',
      queryStringParameters: { a: '2', b: 'x' },
      multiValueQueryStringParameters: { a: ['1', '2'], b: ['x'] },
      body: null,
      isBase64Encoded: false,
      requestContext: {
        path: '/prod/echo',
        stage: 'prod',
        resourcePath: '/echo',
        domainName: `${served.emulator.api.apiId}.execute-api.us-east-1.amazonaws.com`,
        resourceId: served.emulator.resolver.ref('ApiechoResource'),
      },
    });
  });

  it("answers the stage's own URL with the root resource", async () => {
    const event = (await (await fetch(`${origin}/prod`)).json()) as EchoedEvent;

    expect(event.resource).toBe('/');
  });

  it('answers 403 Forbidden outside the stage: the root, a root /.well-known path, another first segment', async () => {
    const answers = await Promise.all(
      ['/', '/echo', '/.well-known/oauth-protected-resource', '/prodx/echo'].map(async (path) => {
        const response = await fetch(`${origin}${path}`);
        return [response.status, await response.json()];
      }),
    );

    expect(answers).toEqual(Array(4).fill([403, { message: 'Forbidden' }]));
  });

  it('answers an undefined resource or method with 403 Missing Authentication Token', async () => {
    const unknownPath = await fetch(`${origin}/prod/nope`);
    const unknownMethod = await fetch(`${origin}/prod/echo`, { method: 'DELETE' });

    for (const response of [unknownPath, unknownMethod]) {
      expect(response.status).toBe(403);
      expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
      expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
    }
  });

  it('routes a method the resource lacks to its ANY method, and its own method before ANY', async () => {
    const patched = (await (
      await fetch(`${origin}/prod/any`, { method: 'PATCH' })
    ).json()) as EchoedEvent;
    const got = await (await fetch(`${origin}/prod/any`)).json();

    expect(patched.httpMethod).toBe('PATCH');
    expect(got).toEqual({ document: true });
  });

  it('serves the custom domain from its root, /.well-known included', async () => {
    const event = (await (await fetch(`${domainOrigin}/echo`)).json()) as EchoedEvent;
    const document = await fetch(`${domainOrigin}/.well-known/oauth-protected-resource`);

    expect(event.path).toBe('/echo');
    expect(event.requestContext.domainName).toBe('api.example.com');
    expect(document.status).toBe(200);
    expect(await document.json()).toEqual({ document: true });
  });

  it('does not put the stage in the custom domain path: /prod/echo there is no resource', async () => {
    const response = await fetch(`${domainOrigin}/prod/echo`);

    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
  });
});

describe('a custom domain with a base path, the default endpoint disabled', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serve(build({ name: 'api.example.com', basePath: 'v1' }, true));
  });
  afterAll(() => served.stop());

  it('strips the base path', async () => {
    const response = await fetch(`${served.emulator.customDomainOrigin}/v1/echo`);
    const event = (await response.json()) as EchoedEvent;

    expect(event.path).toBe('/echo');
    expect(event.requestContext.path).toBe('/v1/echo');
  });

  it('answers 403 Forbidden outside the base path', async () => {
    const response = await fetch(`${served.emulator.customDomainOrigin}/echo`);

    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Forbidden' });
  });

  it('answers 403 on the disabled execute-api name ("they will receive a 403 Forbidden status code")', async () => {
    const response = await fetch(`${served.url}/echo`);

    expect(response.status).toBe(403);
  });
});
