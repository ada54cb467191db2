/**
 * "The metadata documents validate against their RFCs": every discovery document the project
 * serves, locally and in AWS, and every registration answer, run through one checker of the
 * RFC 9728, RFC 8414 and RFC 7591 rules (`support/oauth-metadata-rules.ts`), at the URL a
 * client fetches it from. The checker itself is tested first: each rule fires on a document
 * that breaks it and on no other.
 *
 * Known deviations are pinned as such (the exact violation the checker reports), so a fix shows
 * up as a failing test to flip to "no violations".
 */
import { describe, expect, it } from 'vitest';
import { AesSealer } from '../../../lambda/oauth-proxy/aes-sealer';
import { answerRegistration } from '../../../lambda/registration/handler';
import { dcrClientIdMinter } from '../../../lambda/registration/mint';
import type { RegistrationPolicy } from '../../../lambda/shared/client-registration';
import { LOCAL_SCOPE } from '../../../tools/local/identity';
import { proxyEvent } from '../../support/apigw-events';
import { useLocalGateway } from '../../support/local-gateway-fixture';
import {
  AUTHORIZATION_SERVER_WELL_KNOWN,
  authorizationServerMetadataUrls,
  authorizationServerViolations,
  bearerChallengeViolations,
  type JsonObject,
  OPENID_CONFIGURATION_WELL_KNOWN,
  PROTECTED_RESOURCE_WELL_KNOWN,
  parseBearerChallenge,
  protectedResourceMetadataUrls,
  protectedResourceViolations,
  type RegistrationAnswer,
  registrationResponseViolations,
  resourceForWellKnownUrl,
  type ServedResponse,
} from '../../support/oauth-metadata-rules';
import { synthStack } from '../../support/stack-fixture';
import { onlyId, render, resourcesOf } from '../../support/template-helpers';

const OK: ServedResponse = { status: 200, contentType: 'application/json' };

// -----------------------------------------------------------------------------------------------
// The checker
// -----------------------------------------------------------------------------------------------

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

// -----------------------------------------------------------------------------------------------
// Local mode: the embedded authorization server, over HTTP
// -----------------------------------------------------------------------------------------------

interface Fetched extends ServedResponse {
  readonly url: string;
  readonly body: unknown;
}

async function fetchJson(url: string, init?: RequestInit): Promise<Fetched> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text, and the checker says so.
  }
  return { url, status: response.status, contentType: response.headers.get('content-type'), body };
}

/** A protected-resource document's authorization servers (none if it is not one). */
function authorizationServersOf(document: unknown): string[] {
  const servers = (document as JsonObject | undefined)?.authorization_servers;
  return Array.isArray(servers) ? servers.map(String) : [];
}

describe('local mode: the stack in the local emulator, on its execute-api URL', () => {
  const local = useLocalGateway('mcp-conformance-');
  const REDIRECT = 'http://127.0.0.1:6276/oauth/callback';

  /** What an MCP client reads before it signs in: the challenge, then every metadata URL. */
  async function discover() {
    const unauthorized = await fetch(local.gateway.mcpUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    const challenge = unauthorized.headers.get('www-authenticate');
    const challengeUrl = parseBearerChallenge(challenge ?? '')?.resource_metadata ?? '';
    const prmUrls = [
      ...new Set([challengeUrl, ...protectedResourceMetadataUrls(local.gateway.mcpUrl)]),
    ];
    const prm = await Promise.all(prmUrls.map((url) => fetchJson(url)));
    return { status: unauthorized.status, challenge, challengeUrl, prm };
  }

  it('answers an unauthenticated MCP request with a 401 whose challenge names the metadata', async () => {
    const { status, challenge } = await discover();
    expect(status).toBe(401);
    expect(bearerChallengeViolations(challenge)).toEqual([]);
  });

  it('serves conformant protected-resource metadata at the URL the challenge names, its only way in', async () => {
    // Act
    const { challengeUrl, prm } = await discover();

    // Assess: the challenge names the stage's copy; the RFC 9728 well-known URLs of
    // `.../prod/mcp` sit on the host, outside the stage, where API Gateway serves nothing.
    expect(challengeUrl).toBe(`${local.gateway.url}${PROTECTED_RESOURCE_WELL_KNOWN}`);
    const host = new URL(local.gateway.url).origin;
    expect(prm.map((d) => [d.url, d.status, d.body])).toEqual([
      [challengeUrl, 200, expect.anything()],
      [`${host}${PROTECTED_RESOURCE_WELL_KNOWN}/prod/mcp`, 403, { message: 'Forbidden' }],
      [`${host}${PROTECTED_RESOURCE_WELL_KNOWN}`, 403, { message: 'Forbidden' }],
    ]);
    expect(
      protectedResourceViolations(prm[0]?.body, {
        fetchedFrom: challengeUrl,
        resource: local.gateway.mcpUrl,
        challengeUrl,
        response: prm[0] as Fetched,
      }),
    ).toEqual([]);
  });

  it('serves conformant authorization-server metadata where OIDC discovery appends to the issuer', async () => {
    // Prepare: the issuer is the stage's URL.
    const { prm } = await discover();
    const issuers = authorizationServersOf(prm[0]?.body);
    expect(issuers).toEqual([local.gateway.url]);
    const issuer = issuers[0] as string;

    // Act: every location the client may try, in its order.
    const candidates = authorizationServerMetadataUrls(issuer);
    const answers = await Promise.all(candidates.map((c) => fetchJson(c.url)));

    // Assess: only the appended OIDC location is inside the stage; the RFC 8414 and inserted
    // OIDC locations are on the host, where API Gateway answers 403.
    expect(candidates.map((c, i) => [c.construction, answers[i]?.status])).toEqual([
      ['rfc8414', 403],
      ['oidc-inserted', 403],
      ['oidc-appended', 200],
    ]);
    const served = answers[2] as Fetched;
    expect(
      authorizationServerViolations(served.body, {
        fetchedFrom: served.url,
        issuer,
        response: served,
      }),
    ).toEqual([]);
  });

  const register = (body: string, contentType = 'application/json') =>
    fetchJson(`${local.gateway.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': contentType },
      body,
    });

  it.each<[string, JsonObject]>([
    ['only redirect URIs', { redirect_uris: [REDIRECT] }],
    [
      'a web client’s https redirect URI',
      { redirect_uris: ['https://claude.ai/api/mcp/auth_callback'] },
    ],
    [
      'every field a client commonly sends',
      {
        redirect_uris: [REDIRECT, 'http://localhost:6276/oauth/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        scope: LOCAL_SCOPE,
        client_name: 'Conformance client',
        client_uri: 'https://client.example.com',
        contacts: ['dev@example.com'],
      },
    ],
  ])('registers a client that sends %s with a conformant 201', async (_name, request) => {
    // Act
    const answer = await register(JSON.stringify(request));

    // Assess
    expect(answer.status).toBe(201);
    expect(registrationResponseViolations(answer, request)).toEqual([]);
  });

  it.each<[string, string, string]>([
    ['no redirect URI', '{}', 'invalid_redirect_uri'],
    [
      'a redirect URI over plain http off loopback',
      JSON.stringify({ redirect_uris: ['http://attacker.example.com/cb'] }),
      'invalid_redirect_uri',
    ],
    [
      'a redirect URI with a fragment',
      JSON.stringify({ redirect_uris: [`${REDIRECT}#x`] }),
      'invalid_redirect_uri',
    ],
    [
      'a confidential auth method',
      JSON.stringify({
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
      'invalid_client_metadata',
    ],
    [
      'the implicit grant',
      JSON.stringify({ redirect_uris: [REDIRECT], grant_types: ['implicit'] }),
      'invalid_client_metadata',
    ],
    [
      'an unknown scope',
      JSON.stringify({ redirect_uris: [REDIRECT], scope: 'admin' }),
      'invalid_client_metadata',
    ],
    [
      'a client_uri over http',
      JSON.stringify({ redirect_uris: [REDIRECT], client_uri: 'http://client.example.com' }),
      'invalid_client_metadata',
    ],
    ['a JSON array', '[]', 'invalid_client_metadata'],
    ['a body that is not JSON', 'redirect_uris=x', 'invalid_client_metadata'],
  ])('refuses %s with a conformant RFC 7591 error', async (_name, body, error) => {
    // Act
    const answer = await register(body);

    // Assess
    expect(answer.body).toMatchObject({ error });
    expect(registrationResponseViolations(answer, {})).toEqual([]);
  });

  it('answers a non-JSON Content-Type with a conformant 400 invalid_client_metadata', async () => {
    const answer = await register(JSON.stringify({ redirect_uris: [REDIRECT] }), 'text/plain');
    expect(answer.body).toMatchObject({ error: 'invalid_client_metadata' });
    expect(registrationResponseViolations(answer, {})).toEqual([]);
  });

  it('answers an oversized body with a conformant 400 invalid_client_metadata', async () => {
    const answer = await register(
      JSON.stringify({ redirect_uris: [REDIRECT], pad: 'x'.repeat(20_000) }),
    );
    expect(answer.body).toMatchObject({ error: 'invalid_client_metadata' });
    expect(registrationResponseViolations(answer, {})).toEqual([]);
  });
});

// -----------------------------------------------------------------------------------------------
// AWS: the documents API Gateway serves, read from the synthesized template
// -----------------------------------------------------------------------------------------------

type Template = ReturnType<typeof synthStack>['template'];
const REGION = 'eu-west-1';
const DOMAIN = 'mcp.example.com';
const CERTIFICATE =
  'arn:aws:acm:eu-west-1:123456789012:certificate/0b6f1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b';

/**
 * A rendered template value with its `<placeholders>` made concrete: pseudo parameters as the
 * stack's environment has them, every other reference its own lowercase name, so a document
 * that named the wrong resource would show a different host.
 */
function concrete(text: string): string {
  const value = text
    .replaceAll('<AWS::Region>', REGION)
    .replaceAll('<AWS::URLSuffix>', 'amazonaws.com')
    .replaceAll('<AWS::Partition>', 'aws')
    .replaceAll('<AWS::AccountId>', '123456789012')
    .replace(/<(\w+)(?:\.(\w+))?>/g, (_match, id: string, attribute?: string) =>
      (attribute === undefined ? id : `${id}-${attribute}`).toLowerCase(),
    );
  if (value.includes('<')) throw new Error(`An unresolved placeholder in ${value}`);
  return value;
}

/** The resource path API Gateway serves a resource at, from its parent chain. */
function resourcePath(template: Template, resourceId: unknown): string {
  const resources = resourcesOf(template, 'AWS::ApiGateway::Resource');
  const parts: string[] = [];
  let id = (resourceId as { Ref?: string }).Ref;
  while (id !== undefined) {
    const resource = resources[id];
    if (resource === undefined) throw new Error(`No API Gateway resource ${id}`);
    parts.unshift(String(resource.Properties.PathPart));
    id = (resource.Properties.ParentId as { Ref?: string }).Ref;
  }
  return `/${parts.join('/')}`;
}

interface AwsSite {
  /** Where the stage's paths are served: the execute-api stage URL or the domain's root. */
  readonly base: string;
  readonly mcpUrl: string;
  readonly challenge: string;
  /** Every public GET document: its URL, as API Gateway serves it, and its answer. */
  readonly documents: { url: string; body: unknown; response: ServedResponse }[];
}

function awsSite(template: Template, domain?: string): AwsSite {
  const apiId = onlyId(template, 'AWS::ApiGateway::RestApi');
  const stage = Object.values(resourcesOf(template, 'AWS::ApiGateway::Stage'))[0];
  const mappings = Object.values(resourcesOf(template, 'AWS::ApiGateway::BasePathMapping'));
  const basePath = mappings[0]?.Properties.BasePath;
  const base =
    domain === undefined
      ? `https://${apiId.toLowerCase()}.execute-api.${REGION}.amazonaws.com/${String(stage?.Properties.StageName)}`
      : `https://${domain}${basePath === undefined ? '' : `/${String(basePath)}`}`;

  const methods = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'));
  const mcpMethod = methods.find((m) => m.Properties.AuthorizationType === 'CUSTOM');
  // The documents API Gateway serves itself; the OAuth proxy's GET /authorize and /callback
  // are a Lambda's.
  const documents = methods
    .filter(
      (m) =>
        m.Properties.AuthorizationType === 'NONE' &&
        m.Properties.HttpMethod === 'GET' &&
        (m.Properties.Integration as { Type?: string }).Type === 'MOCK',
    )
    .map((method) => {
      const integration = method.Properties.Integration as {
        Type: string;
        IntegrationResponses: {
          StatusCode: string;
          SelectionPattern?: string;
          ResponseTemplates: Record<string, unknown>;
          ResponseParameters: Record<string, string>;
        }[];
      };
      const answer = integration.IntegrationResponses.find((r) => r.SelectionPattern === undefined);
      const path = resourcePath(template, method.Properties.ResourceId);
      const body = render(answer?.ResponseTemplates['application/json']);
      // The body is a VTL template: `$` or `#` would be evaluated, not served as written.
      if (integration.Type !== 'MOCK' || /[$#]/.test(body)) {
        throw new Error(`Cannot read what ${path} serves`);
      }
      const contentType = answer?.ResponseParameters['method.response.header.Content-Type'];
      return {
        url: `${base}${path}`,
        body: JSON.parse(concrete(body)) as unknown,
        response: {
          status: Number(answer?.StatusCode),
          contentType: contentType?.replace(/^'(.*)'$/, '$1') ?? null,
        },
      };
    });

  const unauthorized = Object.values(
    resourcesOf(template, 'AWS::ApiGateway::GatewayResponse', { ResponseType: 'UNAUTHORIZED' }),
  )[0]?.Properties.ResponseParameters as Record<string, unknown>;
  return {
    base,
    mcpUrl: `${base}${resourcePath(template, mcpMethod?.Properties.ResourceId)}`,
    // A header mapping value is a quoted literal.
    challenge: concrete(render(unauthorized['gatewayresponse.header.WWW-Authenticate'])).replace(
      /^'(.*)'$/,
      '$1',
    ),
    documents,
  };
}

/** The violations of each served document, by URL, checked as a client fetching it would. */
function siteViolations(site: AwsSite): Record<string, string[]> {
  const challengeUrl = parseBearerChallenge(site.challenge)?.resource_metadata;
  const issuers = site.documents.flatMap((d) =>
    d.url.includes(PROTECTED_RESOURCE_WELL_KNOWN) ? authorizationServersOf(d.body) : [],
  );
  return Object.fromEntries(
    site.documents.map((d) => {
      if (d.url.includes(PROTECTED_RESOURCE_WELL_KNOWN)) {
        return [
          d.url,
          protectedResourceViolations(d.body, {
            fetchedFrom: d.url,
            resource: site.mcpUrl,
            challengeUrl,
            response: d.response,
          }),
        ];
      }
      if (
        d.url.includes(AUTHORIZATION_SERVER_WELL_KNOWN) ||
        d.url.includes(OPENID_CONFIGURATION_WELL_KNOWN)
      ) {
        return [
          d.url,
          authorizationServerViolations(d.body, {
            fetchedFrom: d.url,
            issuer: issuers[0] ?? '',
            response: d.response,
          }),
        ];
      }
      return [d.url, [`not a discovery location: ${d.url}`]];
    }),
  );
}

describe('AWS stack on its execute-api URL', () => {
  const { template, stack } = synthStack();
  const site = awsSite(template);
  const violations = siteViolations(site);
  const mcpEndpoint = concrete(render(template.findOutputs('McpEndpoint').McpEndpoint?.Value));

  it('hands clients the MCP URL that API Gateway serves', () => {
    expect(site.mcpUrl).toBe(
      `https://${onlyId(template, 'AWS::ApiGateway::RestApi').toLowerCase()}.execute-api.${REGION}.amazonaws.com/prod/mcp`,
    );
    expect(mcpEndpoint).toBe(site.mcpUrl);
    expect(stack.region).toBe(REGION);
  });

  it('answers 401 with a challenge naming a served metadata URL', () => {
    expect(bearerChallengeViolations(site.challenge)).toEqual([]);
    expect(site.documents.map((d) => d.url)).toContain(
      parseBearerChallenge(site.challenge)?.resource_metadata,
    );
  });

  it('serves conformant protected-resource metadata at the URL the challenge names, its only way in', () => {
    // Prepare
    const challengeUrl = parseBearerChallenge(site.challenge)?.resource_metadata ?? '';
    const served = new Set(site.documents.map((d) => d.url));

    // Assess: the well-known URLs RFC 9728 §3.1 derives from `.../prod/mcp` sit on the host,
    // outside the stage, so a client finds the metadata through the 401 challenge alone.
    expect(challengeUrl).toBe(`${site.base}${PROTECTED_RESOURCE_WELL_KNOWN}`);
    expect(violations[challengeUrl]).toEqual([]);
    expect(protectedResourceMetadataUrls(site.mcpUrl).filter((u) => served.has(u))).toEqual([]);
  });

  it('serves conformant authorization-server metadata where OIDC discovery appends to the issuer', () => {
    // Prepare: the issuer has the stage as its path, so RFC 8414's own location
    // (`/.well-known/oauth-authorization-server/prod` on the host) is outside the stage.
    const issuer = site.base;
    const served = new Set(site.documents.map((d) => d.url));

    // Act
    const found = authorizationServerMetadataUrls(issuer).filter((c) => served.has(c.url));

    // Assess
    expect(found.map((c) => c.construction)).toEqual(['oidc-appended']);
    expect(violations[found[0]?.url ?? '']).toEqual([]);
  });

  it('also serves stage-relative copies at URLs no RFC construction forms (known deviation)', () => {
    expect(violations).toEqual({
      [`${site.base}${PROTECTED_RESOURCE_WELL_KNOWN}`]: [],
      [`${site.base}${OPENID_CONFIGURATION_WELL_KNOWN}`]: [],
      [`${site.base}${PROTECTED_RESOURCE_WELL_KNOWN}/mcp`]: [
        expect.stringMatching(
          /^RFC 9728 §3: served at \S+\/prod\/\.well-known\/oauth-protected-resource\/mcp, which is neither a well-known URL/,
        ),
      ],
      [`${site.base}${AUTHORIZATION_SERVER_WELL_KNOWN}`]: [
        expect.stringMatching(
          /^RFC 8414 §3 \/ §3\.3: served at \S+\/prod\/\.well-known\/oauth-authorization-server, which neither/,
        ),
      ],
    });
  });
});

describe('AWS stack on a custom domain', () => {
  const { template } = synthStack({
    customDomainName: DOMAIN,
    customDomainCertificateArn: CERTIFICATE,
  });
  const site = awsSite(template, DOMAIN);

  it('serves the API at the root of the domain', () => {
    expect(site.base).toBe(`https://${DOMAIN}`);
    expect(site.mcpUrl).toBe(`https://${DOMAIN}/mcp`);
    expect(concrete(render(template.findOutputs('McpEndpoint').McpEndpoint?.Value))).toBe(
      site.mcpUrl,
    );
  });

  it('answers 401 with a challenge naming a served metadata URL', () => {
    expect(bearerChallengeViolations(site.challenge)).toEqual([]);
    expect(site.documents.map((d) => d.url)).toContain(
      parseBearerChallenge(site.challenge)?.resource_metadata,
    );
  });

  it('serves every discovery document conformantly, each at a URL a client constructs', () => {
    expect(siteViolations(site)).toEqual({
      [`https://${DOMAIN}${PROTECTED_RESOURCE_WELL_KNOWN}`]: [],
      [`https://${DOMAIN}${PROTECTED_RESOURCE_WELL_KNOWN}/mcp`]: [],
      [`https://${DOMAIN}${AUTHORIZATION_SERVER_WELL_KNOWN}`]: [],
      [`https://${DOMAIN}${OPENID_CONFIGURATION_WELL_KNOWN}`]: [],
    });
  });

  it('serves metadata at every well-known URL an MCP client tries, so it needs no challenge', () => {
    const served = new Set(site.documents.map((d) => d.url));
    const issuer = authorizationServersOf(
      site.documents.find((d) => d.url.includes(PROTECTED_RESOURCE_WELL_KNOWN))?.body,
    )[0] as string;
    expect(protectedResourceMetadataUrls(site.mcpUrl).filter((u) => !served.has(u))).toEqual([]);
    expect(authorizationServerMetadataUrls(issuer).filter((c) => !served.has(c.url))).toEqual([]);
  });
});

// -----------------------------------------------------------------------------------------------
// AWS: the registration Lambda's answers
// -----------------------------------------------------------------------------------------------

describe('the registration Lambda', () => {
  const callback = 'https://claude.ai/api/mcp/auth_callback';
  // As `lambda/registration/index.ts` configures it, with the stack's kind of values.
  const policy: RegistrationPolicy = {
    allowRedirectUri: () => true,
    supportedScopes: ['secure-mcp/tools', 'openid', 'email'],
    defaultScopes: ['secure-mcp/tools'],
    grantTypes: ['authorization_code', 'refresh_token'],
  };
  const mint = dcrClientIdMinter(new AesSealer());
  const answer = async (
    body: string,
    contentType = 'application/json',
  ): Promise<RegistrationAnswer> => {
    const { response } = await answerRegistration(
      proxyEvent({ path: '/register', headers: { 'Content-Type': contentType }, body }),
      policy,
      mint,
    );
    return {
      status: response.statusCode,
      contentType: String(response.headers?.['Content-Type'] ?? ''),
      body: JSON.parse(response.body) as unknown,
    };
  };

  it('registers a client with a conformant 201', async () => {
    const request = {
      redirect_uris: [callback],
      grant_types: ['authorization_code', 'refresh_token'],
      client_name: 'Claude',
      scope: 'secure-mcp/tools openid',
    };
    const registered = await answer(JSON.stringify(request));
    expect(registered.status).toBe(201);
    expect(registrationResponseViolations(registered, request)).toEqual([]);
  });

  it.each([
    [
      'a redirect URI over plain http off loopback',
      { redirect_uris: ['http://attacker.example.com/cb'] },
    ],
    [
      'a confidential client',
      { redirect_uris: [callback], token_endpoint_auth_method: 'private_key_jwt' },
    ],
    ['an unknown scope', { redirect_uris: [callback], scope: 'aws.cognito.signin.user.admin' }],
  ])('refuses %s with a conformant RFC 7591 error', async (_name, request) => {
    const refused = await answer(JSON.stringify(request));
    expect(refused.status).toBe(400);
    expect(registrationResponseViolations(refused, request)).toEqual([]);
  });

  it('answers a non-JSON Content-Type with a conformant 400 invalid_client_metadata', async () => {
    expect(registrationResponseViolations(await answer('{}', 'text/plain'), {})).toEqual([]);
  });
});
