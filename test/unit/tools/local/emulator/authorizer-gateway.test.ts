/**
 * A Lambda REQUEST authorizer in front of methods, end to end: its outcomes (Allow, Deny, an
 * implicit deny, `Unauthorized`, any other error, malformed output), the missing-identity 401,
 * the result cache keyed on the identity sources for the template's TTL on the gateway's clock,
 * one cached policy evaluated again for each method and path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECHO, type Served, serve, TestApi } from '../../../../support/test-api';

/** The token's part before `#` picks the answer; what follows makes it a fresh cache key. */
const AUTHORIZER = `
exports.handler = async (event) => {
  const token = (event.headers.Authorization || event.headers.authorization || '').replace(/^Bearer /, '');
  console.log('AUTHORIZER', token);
  const kind = token.split('#')[0];
  const stageArn = event.methodArn.split('/').slice(0, 2).join('/');
  const policy = (effect, resource, context) => ({
    principalId: 'user-' + kind,
    policyDocument: { Version: '2012-10-17', Statement: [{ Effect: effect, Action: 'execute-api:Invoke', Resource: resource }] },
    ...(context ? { context } : {}),
  });
  switch (kind) {
    case 'allow-all': return policy('Allow', stageArn + '/*', { role: 'admin', n: 1, ok: true, methodArn: event.methodArn, type: event.type });
    case 'allow-one': return policy('Allow', event.methodArn);
    case 'deny': return policy('Deny', stageArn + '/*', { requiredScopes: 'mcp/tools mcp/admin' });
    case 'unauthorized': throw new Error('Unauthorized');
    case 'almost': throw new Error('Unauthorized: token expired');
    case 'object-context': return policy('Allow', '*', { nested: { a: 1 } });
    case 'no-policy': return { principalId: 'x' };
    default: throw new Error('unknown token');
  }
};
`;

let now = 1_000_000;
let served: Served;
let authLogGroup: string;

function build(): TestApi {
  const api = new TestApi();
  api.function('Echo', ECHO);
  api.function('Auth', AUTHORIZER);
  api.function('Unpermitted', AUTHORIZER);
  const byToken = 'method.request.header.Authorization';
  api.authorizer('Cached', 'Auth', { identitySource: byToken, ttl: 300 });
  api.authorizer('Uncached', 'Auth', { identitySource: byToken, ttl: 0 });
  api.authorizer('TwoSources', 'Auth', {
    identitySource: `${byToken}, method.request.querystring.tenant`,
    ttl: 300,
  });
  api.authorizer('NoPermission', 'Unpermitted', {
    identitySource: byToken,
    ttl: 0,
    noPermission: true,
  });
  api.method('/mcp', 'POST', { function: 'Echo', authorizer: 'Cached' });
  api.method('/mcp', 'GET', { function: 'Echo', authorizer: 'Cached' });
  api.method('/other', 'GET', { function: 'Echo', authorizer: 'Cached' });
  api.method('/uncached', 'GET', { function: 'Echo', authorizer: 'Uncached' });
  api.method('/tenant', 'GET', { function: 'Echo', authorizer: 'TwoSources' });
  api.method('/unpermitted', 'GET', { function: 'Echo', authorizer: 'NoPermission' });
  api.gatewayResponse('UNAUTHORIZED', {
    statusCode: '401',
    headers: {
      'WWW-Authenticate': `'Bearer resource_metadata="https://x.example/.well-known/oauth-protected-resource"'`,
    },
    templates: { 'application/json': '{"message":"Unauthorized"}' },
  });
  api.gatewayResponse('ACCESS_DENIED', {
    statusCode: '403',
    templates: { 'application/json': '{"requiredScopes":"$context.authorizer.requiredScopes"}' },
  });
  return api;
}

beforeAll(async () => {
  served = await serve(build(), { now: () => now });
  authLogGroup = served.emulator.lambda.definition('Auth').logGroupName;
});
afterAll(() => served.stop());

let fresh = 0;
/** A token of a kind no earlier test has used (a cache miss). */
function token(kind: string): string {
  fresh += 1;
  return `${kind}#${fresh}`;
}

function call(path: string, bearer?: string, init: RequestInit = {}): Promise<Response> {
  return served.fetch(path, {
    ...init,
    headers: bearer === undefined ? {} : { Authorization: `Bearer ${bearer}` },
  });
}

/** How many times the authorizer ran for `bearer`. */
function calls(bearer: string): number {
  return served.emulator.logs
    .events(authLogGroup)
    .filter((event) => event.message.endsWith(`\tAUTHORIZER ${bearer}`)).length;
}

describe('the identity sources', () => {
  it('answer 401 through the UNAUTHORIZED gateway response, its header as configured, without calling the authorizer', async () => {
    const before = served.emulator.logs.events(authLogGroup).length;

    const response = await call('/mcp', undefined, { method: 'POST' });

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer resource_metadata="https://x.example/.well-known/oauth-protected-resource"',
    );
    expect(response.headers.get('x-amzn-remapped-www-authenticate')).toBeNull();
    expect(served.emulator.logs.events(authLogGroup).length).toBe(before);
  });

  it('answer 401 for an empty identity header too', async () => {
    const response = await served.fetch('/mcp', { method: 'POST', headers: { Authorization: '' } });

    expect(response.status).toBe(401);
  });

  it('answer 401 when one of two sources is missing', async () => {
    expect((await call('/tenant', token('allow-all'))).status).toBe(401);
  });

  it('are checked with caching off as well (the API reference: whenever they are set)', async () => {
    expect((await call('/uncached')).status).toBe(401);
  });
});

describe("the authorizer's outcomes", () => {
  it('an Allow reaches the function, its context stringified and the principal added', async () => {
    const bearer = token('allow-all');

    const response = await call('/mcp', bearer, { method: 'POST' });
    const event = (await response.json()) as {
      requestContext: { authorizer: Record<string, unknown> };
    };

    expect(response.status).toBe(200);
    expect(event.requestContext.authorizer).toEqual({
      role: 'admin',
      n: '1',
      ok: 'true',
      type: 'REQUEST',
      methodArn: `arn:aws:execute-api:us-east-1:123456789012:${served.emulator.api.apiId}/prod/POST/mcp`,
      principalId: 'user-allow-all',
      integrationLatency: 0,
    });
  });

  it('an error whose message is exactly Unauthorized is a 401', async () => {
    expect((await call('/mcp', token('unauthorized'), { method: 'POST' })).status).toBe(401);
  });

  it.each([
    ['any other error', 'almost'],
    ['a context value that is an object', 'object-context'],
    ['no policy document', 'no-policy'],
  ])('%s is a 500 AUTHORIZER_CONFIGURATION_ERROR with a null message', async (_name, kind) => {
    const response = await call('/mcp', token(kind), { method: 'POST' });

    expect(response.status).toBe(500);
    expect(response.headers.get('x-amzn-errortype')).toBe('AuthorizerConfigurationException');
    expect(await response.json()).toEqual({ message: null });
  });

  it("a Deny is a 403 through ACCESS_DENIED, whose template reads the Deny's context", async () => {
    const response = await call('/mcp', token('deny'), { method: 'POST' });

    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ requiredScopes: 'mcp/tools mcp/admin' });
  });

  it('an authorizer API Gateway may not invoke (no permission) is a 500', async () => {
    expect((await call('/unpermitted', token('allow-all'))).status).toBe(500);
  });
});

describe('the result cache', () => {
  it('reuses an Allow for every method and path it covers, within the TTL', async () => {
    const bearer = token('allow-all');

    const statuses = [
      (await call('/mcp', bearer, { method: 'POST' })).status,
      (await call('/mcp', bearer)).status,
      (await call('/other', bearer)).status,
    ];

    expect(statuses).toEqual([200, 200, 200]);
    expect(calls(bearer)).toBe(1);
  });

  it("evaluates a cached policy again for each method ARN: one method's Allow is another's implicit deny", async () => {
    const bearer = token('allow-one');

    const allowed = await call('/mcp', bearer, { method: 'POST' });
    const other = await call('/other', bearer);

    expect([allowed.status, other.status]).toEqual([200, 403]);
    expect(calls(bearer)).toBe(1);
  });

  it('holds a Deny as it holds an Allow', async () => {
    const bearer = token('deny');

    await call('/mcp', bearer, { method: 'POST' });
    const again = await call('/other', bearer);

    expect(again.status).toBe(403);
    expect(calls(bearer)).toBe(1);
  });

  it('holds neither a 401 nor an error', async () => {
    const unauthorized = token('unauthorized');
    const failing = token('almost');

    for (let i = 0; i < 2; i += 1) {
      await call('/mcp', unauthorized, { method: 'POST' });
      await call('/mcp', failing, { method: 'POST' });
    }

    expect([calls(unauthorized), calls(failing)]).toEqual([2, 2]);
  });

  it("expires after the template's TTL on the gateway clock", async () => {
    const bearer = token('allow-all');
    await call('/other', bearer);

    now += 299_000;
    await call('/other', bearer);
    const withinTtl = calls(bearer);
    now += 1_000;
    await call('/other', bearer);

    expect([withinTtl, calls(bearer)]).toEqual([1, 2]);
  });

  it('is keyed on every identity source: another query value is another key', async () => {
    const bearer = token('allow-all');

    await call('/tenant?tenant=a', bearer);
    await call('/tenant?tenant=a', bearer);
    await call('/tenant?tenant=b', bearer);

    expect(calls(bearer)).toBe(2);
  });

  it('is off with a TTL of 0: the authorizer runs for every request', async () => {
    const bearer = token('allow-all');

    await call('/uncached', bearer);
    await call('/uncached', bearer);

    expect(calls(bearer)).toBe(2);
  });
});
