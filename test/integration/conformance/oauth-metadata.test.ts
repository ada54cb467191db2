/**
 * "The metadata documents validate against their RFCs": every discovery document the project
 * serves, locally and in AWS, and every registration answer, run through one checker of the
 * RFC 9728, RFC 8414 and RFC 7591 rules (`support/oauth-metadata-rules.ts`), at the URL a
 * client fetches it from. The checker itself is tested beside it
 * (`support/oauth-metadata-rules.test.ts`): each rule fires on a document that breaks it and on
 * no other.
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
  type ServedResponse,
} from '../../support/oauth-metadata-rules';
import { synthStack } from '../../support/stack-fixture';
import { onlyId, render, resourcesOf } from '../../support/template-helpers';

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
