/**
 * The OAuth metadata checker (oauth-metadata-rules.ts) on documents written here: each rule of
 * RFC 9728, RFC 8414, RFC 7591 and the RFC 6750 challenge fires on a document that breaks it and
 * on no other, and the well-known URLs are built as the RFCs and MCP order them. The project's
 * own documents are checked against these rules in
 * test/integration/conformance/oauth-metadata.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  authorizationServerMetadataUrls,
  authorizationServerViolations,
  bearerChallengeViolations,
  type JsonObject,
  parseBearerChallenge,
  protectedResourceMetadataUrls,
  protectedResourceViolations,
  type RegistrationAnswer,
  registrationResponseViolations,
  resourceForWellKnownUrl,
  type ServedResponse,
} from './oauth-metadata-rules';

const OK: ServedResponse = { status: 200, contentType: 'application/json' };

describe('the RFC 9728 checker', () => {
  const mcpUrl = 'https://mcp.example.com/mcp';
  const pathInserted = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
  const good = {
    resource: mcpUrl,
    authorization_servers: ['https://mcp.example.com'],
    scopes_supported: ['mcp/tools'],
    bearer_methods_supported: ['header'],
    resource_name: 'Example',
  };
  const at = (
    fetchedFrom: string,
    extra: Partial<{ resource: string; challengeUrl: string }> = {},
  ) => ({
    fetchedFrom,
    resource: mcpUrl,
    response: OK,
    ...extra,
  });

  it('finds nothing wrong with a conformant document at its path-inserted well-known URL', () => {
    expect(protectedResourceViolations(good, at(pathInserted))).toEqual([]);
  });

  it('accepts the MCP URL as resource at the root well-known URL, as MCP 2025-11-25 allows', () => {
    expect(
      protectedResourceViolations(
        good,
        at('https://mcp.example.com/.well-known/oauth-protected-resource'),
      ),
    ).toEqual([]);
  });

  it('accepts any URL the 401 challenge names, if resource is the URL the client requested', () => {
    const challengeUrl = 'https://x.example.com/prod/meta';
    expect(protectedResourceViolations(good, at(challengeUrl, { challengeUrl }))).toEqual([]);
  });

  it('accepts plain http on a loopback host, as local mode serves', () => {
    const local = 'http://127.0.0.1:3000/mcp';
    const doc = { ...good, resource: local, authorization_servers: ['http://127.0.0.1:3000'] };
    expect(
      protectedResourceViolations(doc, {
        fetchedFrom: 'http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp',
        resource: local,
      }),
    ).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, ReturnType<typeof at>, string[]]>([
    [
      'resource missing',
      { ...good, resource: undefined },
      at(pathInserted),
      ['RFC 9728 §2: resource is REQUIRED'],
    ],
    [
      'resource with a fragment',
      { ...good, resource: `${mcpUrl}#frag` },
      at('https://x.example.com/meta', {
        challengeUrl: 'https://x.example.com/meta',
        resource: `${mcpUrl}#frag`,
      }),
      ['RFC 9728 §1.2: resource must have no fragment component'],
    ],
    [
      'resource over http on a host that is not loopback',
      { ...good, resource: 'http://mcp.example.com/mcp' },
      at('https://x.example.com/meta', {
        challengeUrl: 'https://x.example.com/meta',
        resource: 'http://mcp.example.com/mcp',
      }),
      ['RFC 9728 §1.2: resource must use https (plain http only on a loopback host)'],
    ],
    [
      'resource with a query',
      { ...good, resource: `${mcpUrl}?tenant=1` },
      at(`${pathInserted}?tenant=1`, { resource: `${mcpUrl}?tenant=1` }),
      ['RFC 9728 §1.2 (RFC 8707 §2): resource SHOULD NOT have a query component'],
    ],
    [
      'resource not the one whose well-known URL served it',
      good,
      at('https://mcp.example.com/.well-known/oauth-protected-resource/other'),
      [
        'RFC 9728 §3.3: served at https://mcp.example.com/.well-known/oauth-protected-resource/other, which is the well-known URL of https://mcp.example.com/other, but resource is https://mcp.example.com/mcp',
      ],
    ],
    [
      'resource of another origin at a root well-known URL',
      good,
      at('https://other.example.com/.well-known/oauth-protected-resource'),
      [
        'RFC 9728 §3.3: served at https://other.example.com/.well-known/oauth-protected-resource, which is the well-known URL of https://other.example.com, but resource is https://mcp.example.com/mcp',
      ],
    ],
    [
      'a URL that is neither well-known nor named by the challenge',
      good,
      at('https://mcp.example.com/prod/.well-known/oauth-protected-resource/mcp'),
      [
        expect.stringMatching(
          /^RFC 9728 §3: served at https:\/\/mcp\.example\.com\/prod\/\.well-known\/oauth-protected-resource\/mcp, which is neither a well-known URL/,
        ),
      ],
    ],
    [
      'resource not the MCP URL',
      { ...good, resource: 'https://mcp.example.com/other' },
      at('https://mcp.example.com/.well-known/oauth-protected-resource/other'),
      [
        'MCP 2025-11-25 authorization / RFC 9728 §3.3: resource must be the exact MCP URL https://mcp.example.com/mcp, got https://mcp.example.com/other',
      ],
    ],
    [
      'no authorization server',
      { ...good, authorization_servers: undefined },
      at(pathInserted),
      [
        'MCP 2025-11-25 authorization: authorization_servers must list at least one authorization server',
      ],
    ],
    [
      'an empty authorization server list',
      { ...good, authorization_servers: [] },
      at(pathInserted),
      [
        'RFC 9728 §3.2: authorization_servers has zero values and must be omitted instead',
        'MCP 2025-11-25 authorization: authorization_servers must list at least one authorization server',
      ],
    ],
    [
      'an authorization server with a query',
      { ...good, authorization_servers: ['https://mcp.example.com?x=1'] },
      at(pathInserted),
      ['RFC 9728 §2 (RFC 8414 §2 issuer): authorization_servers[0] must have no query component'],
    ],
    [
      'scopes_supported as a string',
      { ...good, scopes_supported: 'mcp/tools' },
      at(pathInserted),
      ['RFC 9728 §2: scopes_supported must be a JSON array of strings'],
    ],
    [
      'a scope that is not a scope-token',
      { ...good, scopes_supported: ['mcp "tools"'] },
      at(pathInserted),
      ['RFC 6749 §3.3: scopes_supported has "mcp \\"tools\\"", not a scope-token'],
    ],
    [
      'an unknown bearer method',
      { ...good, bearer_methods_supported: ['header', 'cookie'] },
      at(pathInserted),
      ['RFC 9728 §2: bearer_methods_supported has unknown method cookie'],
    ],
    [
      'bearer methods without the Authorization header',
      { ...good, bearer_methods_supported: ['query'] },
      at(pathInserted),
      ['MCP 2025-11-25 authorization: bearer_methods_supported must include header'],
    ],
    [
      'a jwks_uri over http',
      { ...good, jwks_uri: 'http://mcp.example.com/jwks.json' },
      at(pathInserted),
      ['RFC 9728 §2: jwks_uri must use https (plain http only on a loopback host)'],
    ],
    [
      'the none signing algorithm',
      { ...good, resource_signing_alg_values_supported: ['none'] },
      at(pathInserted),
      ['RFC 9728 §2: resource_signing_alg_values_supported must not include none'],
    ],
  ])('reports %s', (_name, doc, context, expected) => {
    expect(protectedResourceViolations(doc, context)).toEqual(expected);
  });

  it('reports an answer that is not a 200 application/json one', () => {
    expect(
      protectedResourceViolations(good, {
        ...at(pathInserted),
        response: { status: 203, contentType: 'text/html' },
      }),
    ).toEqual([
      'RFC 9728 §3.2: the answer must be HTTP 200, got 203',
      'RFC 9728 §3.2: the answer must be application/json, got text/html',
    ]);
  });

  it('builds the well-known URLs as RFC 9728 section 3.1 and MCP order them, and inverts them', () => {
    expect(protectedResourceMetadataUrls('https://h.example.com/prod/mcp')).toEqual([
      'https://h.example.com/.well-known/oauth-protected-resource/prod/mcp',
      'https://h.example.com/.well-known/oauth-protected-resource',
    ]);
    expect(protectedResourceMetadataUrls('https://h.example.com/')).toEqual([
      'https://h.example.com/.well-known/oauth-protected-resource',
    ]);
    expect(
      resourceForWellKnownUrl(
        'https://h.example.com/.well-known/oauth-protected-resource/prod/mcp',
      ),
    ).toBe('https://h.example.com/prod/mcp');
    expect(
      resourceForWellKnownUrl('https://h.example.com/.well-known/oauth-protected-resource'),
    ).toBe('https://h.example.com');
    expect(
      resourceForWellKnownUrl('https://h.example.com/prod/.well-known/oauth-protected-resource'),
    ).toBeUndefined();
  });
});

describe('the RFC 8414 checker', () => {
  const issuer = 'https://mcp.example.com';
  const rfc8414 = `${issuer}/.well-known/oauth-authorization-server`;
  const good = {
    issuer,
    authorization_endpoint: 'https://auth.example.com/oauth2/authorize',
    token_endpoint: 'https://auth.example.com/oauth2/token',
    registration_endpoint: `${issuer}/register`,
    revocation_endpoint: 'https://auth.example.com/oauth2/revoke',
    scopes_supported: ['mcp/tools', 'openid'],
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none'],
    code_challenge_methods_supported: ['S256'],
  };
  const openId = {
    ...good,
    jwks_uri: 'https://auth.example.com/jwks.json',
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  };
  const at = (fetchedFrom: string, expectedIssuer = issuer) => ({
    fetchedFrom,
    issuer: expectedIssuer,
    response: OK,
  });

  it('finds nothing wrong with a conformant document at its RFC 8414 location', () => {
    expect(authorizationServerViolations(good, at(rfc8414))).toEqual([]);
  });

  it.each([
    ['RFC 8414 insertion', 'https://h.example.com/.well-known/oauth-authorization-server/prod'],
    ['OIDC insertion', 'https://h.example.com/.well-known/openid-configuration/prod'],
    ['OIDC appending', 'https://h.example.com/prod/.well-known/openid-configuration'],
  ])('accepts an issuer with a path at its %s location', (_name, location) => {
    const withPath = 'https://h.example.com/prod';
    expect(
      authorizationServerViolations({ ...openId, issuer: withPath }, at(location, withPath)),
    ).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, ReturnType<typeof at>, string[]]>([
    [
      'an issuer other than the one the URL was formed from',
      { ...good, issuer: 'https://evil.example.com' },
      at(rfc8414),
      [
        'RFC 8414 §3.3: issuer must be identical to https://mcp.example.com, the issuer the metadata URL was formed from; got https://evil.example.com',
      ],
    ],
    [
      'an issuer with a query',
      { ...good, issuer: `${issuer}?tenant=1` },
      at(rfc8414, `${issuer}?tenant=1`),
      ['RFC 8414 §2: issuer must have no query component'],
    ],
    [
      'an issuer with a fragment',
      { ...good, issuer: `${issuer}#x` },
      at(rfc8414, `${issuer}#x`),
      ['RFC 8414 §2: issuer must have no fragment component'],
    ],
    [
      'an issuer over http on a host that is not loopback',
      { ...good, issuer: 'http://mcp.example.com' },
      at('http://mcp.example.com/.well-known/oauth-authorization-server', 'http://mcp.example.com'),
      ['RFC 8414 §2: issuer must use https (plain http only on a loopback host)'],
    ],
    [
      'a location appended to an issuer with a path',
      { ...good, issuer: `${issuer}/prod` },
      at(`${issuer}/prod/.well-known/oauth-authorization-server`, `${issuer}/prod`),
      [
        'RFC 8414 §3 / §3.3: served at https://mcp.example.com/prod/.well-known/oauth-authorization-server, which neither RFC 8414 §3.1 (suffix inserted) nor OpenID Connect Discovery §4 (appended or, as MCP tries, inserted) forms from the issuer https://mcp.example.com/prod',
      ],
    ],
    [
      'a missing issuer',
      { ...good, issuer: undefined },
      at(rfc8414),
      ['RFC 8414 §2: issuer is REQUIRED'],
    ],
    [
      'a missing code_challenge_methods_supported',
      { ...good, code_challenge_methods_supported: undefined },
      at(rfc8414),
      [
        'MCP 2025-11-25 authorization: code_challenge_methods_supported must be present (absent means no PKCE)',
      ],
    ],
    [
      'PKCE without S256',
      { ...good, code_challenge_methods_supported: ['plain'] },
      at(rfc8414),
      [
        'MCP 2025-11-25 authorization: code_challenge_methods_supported must include S256',
        'OAuth 2.1 §4.1.1 (S256 only): code_challenge_methods_supported must not include plain',
      ],
    ],
    [
      'plain next to S256',
      { ...good, code_challenge_methods_supported: ['S256', 'plain'] },
      at(rfc8414),
      ['OAuth 2.1 §4.1.1 (S256 only): code_challenge_methods_supported must not include plain'],
    ],
    [
      'a missing response_types_supported',
      { ...good, response_types_supported: undefined },
      at(rfc8414),
      ['RFC 8414 §2: response_types_supported is REQUIRED'],
    ],
    [
      'response types without code',
      { ...good, response_types_supported: ['token'] },
      at(rfc8414),
      ['MCP 2025-11-25 authorization: response_types_supported must include code'],
    ],
    [
      'a missing authorization_endpoint',
      { ...good, authorization_endpoint: undefined },
      at(rfc8414),
      ['RFC 8414 §2: authorization_endpoint is REQUIRED (a grant type uses it)'],
    ],
    [
      'a missing token_endpoint',
      { ...good, token_endpoint: undefined },
      at(rfc8414),
      ['RFC 8414 §2: token_endpoint is REQUIRED (not only the implicit grant)'],
    ],
    [
      'a token endpoint with a fragment',
      { ...good, token_endpoint: 'https://auth.example.com/oauth2/token#x' },
      at(rfc8414),
      ['RFC 8414 §2 (RFC 6749 §3.2): token_endpoint must have no fragment component'],
    ],
    [
      'a registration endpoint that is not absolute',
      { ...good, registration_endpoint: '/register' },
      at(rfc8414),
      ['RFC 8414 §2: registration_endpoint must be an absolute URL'],
    ],
    [
      'the none signing algorithm for the token endpoint',
      { ...good, token_endpoint_auth_signing_alg_values_supported: ['none'] },
      at(rfc8414),
      ['RFC 8414 §2: token_endpoint_auth_signing_alg_values_supported must not include none'],
    ],
    [
      'an empty array',
      { ...good, scopes_supported: [] },
      at(rfc8414),
      ['RFC 8414 §3.2: scopes_supported has zero values and must be omitted instead'],
    ],
    [
      'an OIDC location without the OpenID provider fields',
      good,
      at(`${issuer}/.well-known/openid-configuration`),
      [
        'OpenID Connect Discovery 1.0 §3: jwks_uri is REQUIRED',
        'OpenID Connect Discovery 1.0 §3: subject_types_supported is REQUIRED',
        'OpenID Connect Discovery 1.0 §3: id_token_signing_alg_values_supported is REQUIRED and must include RS256',
      ],
    ],
    [
      'an OIDC document whose scopes lack openid',
      { ...openId, scopes_supported: ['mcp/tools'] },
      at(`${issuer}/.well-known/openid-configuration`),
      ['OpenID Connect Discovery 1.0 §3: scopes_supported must include openid'],
    ],
  ])('reports %s', (_name, doc, context, expected) => {
    expect(authorizationServerViolations(doc, context)).toEqual(expected);
  });

  it('lists the locations an MCP client tries for an issuer, in its order', () => {
    expect(
      authorizationServerMetadataUrls('https://h.example.com/prod/').map((c) => c.url),
    ).toEqual([
      'https://h.example.com/.well-known/oauth-authorization-server/prod',
      'https://h.example.com/.well-known/openid-configuration/prod',
      'https://h.example.com/prod/.well-known/openid-configuration',
    ]);
    expect(authorizationServerMetadataUrls('https://h.example.com').map((c) => c.url)).toEqual([
      'https://h.example.com/.well-known/oauth-authorization-server',
      'https://h.example.com/.well-known/openid-configuration',
    ]);
  });
});

describe('the RFC 7591 checker', () => {
  const request = {
    redirect_uris: ['https://client.example.com/cb'],
    token_endpoint_auth_method: 'none',
    client_name: 'Example',
  };
  const client = {
    client_id: 'abc',
    client_id_issued_at: 1_767_225_600,
    redirect_uris: ['https://client.example.com/cb'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    client_name: 'Example',
  };
  const created = (body: unknown): RegistrationAnswer => ({
    status: 201,
    contentType: 'application/json',
    body,
  });
  const refused = (body: unknown, status = 400): RegistrationAnswer => ({
    status,
    contentType: 'application/json',
    body,
  });

  it('finds nothing wrong with a registered public client or a described refusal', () => {
    expect(registrationResponseViolations(created(client), request)).toEqual([]);
    expect(
      registrationResponseViolations(
        refused({ error: 'invalid_redirect_uri', error_description: 'redirect_uris[0] is bad' }),
        request,
      ),
    ).toEqual([]);
  });

  it.each<[string, RegistrationAnswer, JsonObject, string[]]>([
    [
      'a missing client_id',
      created({ ...client, client_id: undefined }),
      request,
      ['RFC 7591 §3.2.1: client_id is REQUIRED (a string)'],
    ],
    [
      'a client_secret for a public client',
      created({ ...client, client_secret: 's', client_secret_expires_at: 0 }),
      request,
      ['RFC 7591 §2: a "none" (public) client must get no client_secret'],
    ],
    [
      'a client_secret without its expiry',
      created({ ...client, token_endpoint_auth_method: 'client_secret_post', client_secret: 's' }),
      { ...request, token_endpoint_auth_method: 'client_secret_post' },
      ['RFC 7591 §3.2.1: client_secret_expires_at is REQUIRED with a client_secret'],
    ],
    [
      'no auth method and no secret (the default method needs one)',
      created({ ...client, token_endpoint_auth_method: undefined }),
      { ...request, token_endpoint_auth_method: undefined },
      [
        'RFC 7591 §2: token_endpoint_auth_method client_secret_basic (the default) needs a client_secret, and none was issued',
      ],
    ],
    [
      'client_id_issued_at in milliseconds',
      created({ ...client, client_id_issued_at: 1_767_225_600_000 }),
      request,
      ['RFC 7591 §3.2.1: client_id_issued_at must be whole seconds since the epoch'],
    ],
    [
      'client_id_issued_at as a fraction',
      created({ ...client, client_id_issued_at: 1_767_225_600.5 }),
      request,
      ['RFC 7591 §3.2.1: client_id_issued_at must be whole seconds since the epoch'],
    ],
    [
      'requested metadata left out of the answer',
      created({ ...client, client_name: undefined }),
      request,
      ['RFC 7591 §3.2.1: client_name was requested but is not in the answer'],
    ],
    [
      'redirect URIs other than the requested ones',
      created({ ...client, redirect_uris: ['https://other.example.com/cb'] }),
      request,
      ['RFC 7591 §3.2.1: redirect_uris must be the registered (requested) URIs'],
    ],
    [
      'inconsistent grant and response types',
      created({ ...client, response_types: ['token'] }),
      request,
      [
        'RFC 7591 §2.1: grant type authorization_code and response type code must be registered together',
        'RFC 7591 §2.1: grant type implicit and response type token must be registered together',
      ],
    ],
    [
      'a success that is not 201',
      { ...created(client), status: 200 },
      request,
      ['RFC 7591 §3.2.1: the answer must be HTTP 201, got 200'],
    ],
    [
      'an error code RFC 7591 does not define',
      refused({ error: 'invalid_request' }),
      request,
      [
        'RFC 7591 §3.2.2: error must be one of invalid_redirect_uri, invalid_client_metadata, invalid_software_statement, unapproved_software_statement; got "invalid_request"',
      ],
    ],
    [
      'a missing error code',
      refused({ error_description: 'no' }),
      request,
      [
        'RFC 7591 §3.2.2: error must be one of invalid_redirect_uri, invalid_client_metadata, invalid_software_statement, unapproved_software_statement; got undefined',
      ],
    ],
    [
      'an error description that is not ASCII',
      refused({ error: 'invalid_client_metadata', error_description: 'client_name trop long…' }),
      request,
      ['RFC 7591 §3.2.2: error_description must be printable ASCII text'],
    ],
    [
      'a registration error on a status other than 400',
      refused({ error: 'invalid_client_metadata' }, 415),
      request,
      ['RFC 7591 §3.2.2: the answer must be HTTP 400, got 415'],
    ],
    [
      'an error answer that is not JSON',
      { status: 400, contentType: 'text/plain', body: { error: 'invalid_client_metadata' } },
      request,
      ['RFC 7591 §3.2.2: the answer must be application/json, got text/plain'],
    ],
  ])('reports %s', (_name, answer, sent, expected) => {
    expect(registrationResponseViolations(answer, sent)).toEqual(expected);
  });
});

describe('the 401 challenge checker', () => {
  it('reads a Bearer challenge and accepts one that names the metadata', () => {
    const header =
      'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="mcp/tools"';
    expect(bearerChallengeViolations(header)).toEqual([]);
    expect(parseBearerChallenge(header)).toEqual({
      resource_metadata: 'https://mcp.example.com/.well-known/oauth-protected-resource',
      scope: 'mcp/tools',
    });
  });

  it.each([
    [
      'Bearer realm="mcp"',
      ['RFC 9728 §5.1 / MCP 2025-11-25 authorization: the challenge must name resource_metadata'],
    ],
    [
      'Basic realm="mcp"',
      ['RFC 6750 §3: the challenge must use the Bearer scheme, got Basic realm="mcp"'],
    ],
    [null, ['RFC 6750 §3: the challenge must use the Bearer scheme, got null']],
  ])('reports %s', (header, expected) => {
    expect(bearerChallengeViolations(header)).toEqual(expected);
  });
});
