/**
 * The RFC 7591 validator shared by the registration Lambda and local mode: every field rule,
 * both error codes, the success shape, and no attacker input in any error description.
 */
import { describe, expect, it } from 'vitest';
import {
  ClientRegistrationError,
  describeRegistrationRequest,
  isLoopbackHost,
  MAX_CLIENT_NAME_LENGTH,
  MAX_REDIRECT_URIS,
  OAuthError,
  type RegistrationPolicy,
  validateRegistration,
} from '../../../lambda/shared/client-registration';

const ALLOWED = [
  'http://localhost:8080/callback',
  'http://127.0.0.1:6276/oauth/callback',
  'https://claude.ai/api/mcp/auth_callback',
];
const NOW = Date.UTC(2026, 0, 1);

const policy: RegistrationPolicy = {
  allowRedirectUri: (uri) => ALLOWED.includes(uri),
  supportedScopes: ['mcp/tools', 'mcp/read_data', 'openid', 'email'],
  defaultScopes: ['mcp/tools'],
  grantTypes: ['authorization_code', 'refresh_token'],
  now: () => NOW,
};

const minimal = { redirect_uris: ['http://localhost:8080/callback'] };

/** The error `validateRegistration` throws for `body`, or fails the test. */
function refusal(body: unknown, against: RegistrationPolicy = policy): ClientRegistrationError {
  try {
    validateRegistration(body, against);
  } catch (error) {
    if (error instanceof ClientRegistrationError) return error;
    throw error;
  }
  throw new Error('expected the registration to be refused');
}

describe('validateRegistration answers', () => {
  it('with the RFC 7591 fields (the id is minted from them by the caller), no secret', () => {
    // Act
    const client = validateRegistration(
      {
        redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
        client_name: 'Claude',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        scope: 'mcp/tools openid',
      },
      policy,
    );

    // Assess
    expect(client).toEqual({
      client_id_issued_at: NOW / 1000,
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'mcp/tools openid',
      client_name: 'Claude',
    });
  });

  it('with the defaults for every optional field a client leaves out', () => {
    // Act
    const client = validateRegistration(minimal, policy);

    // Assess
    expect(client).toEqual({
      client_id_issued_at: NOW / 1000,
      redirect_uris: minimal.redirect_uris,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'mcp/tools',
    });
  });

  it('with only the grant types the server issues', () => {
    // Act
    const client = validateRegistration(
      { ...minimal, grant_types: ['refresh_token', 'authorization_code'] },
      { ...policy, grantTypes: ['authorization_code'] },
    );

    // Assess
    expect(client.grant_types).toEqual(['authorization_code']);
  });

  it('without the informational fields it checks but does not register', () => {
    // Act
    const client = validateRegistration(
      {
        ...minimal,
        client_uri: 'https://example.com',
        logo_uri: 'https://example.com/logo.png',
        tos_uri: 'https://example.com/tos',
        policy_uri: 'https://example.com/privacy',
        contacts: ['ops@example.com'],
        software_id: '4NRB1-0XZABZI9E6-5SM3R',
        software_version: '2.1',
      },
      policy,
    );

    // Assess
    expect(Object.keys(client).sort()).toEqual([
      'client_id_issued_at',
      'grant_types',
      'redirect_uris',
      'response_types',
      'scope',
      'token_endpoint_auth_method',
    ]);
  });

  it('ignoring fields it does not know, as RFC 7591 section 2 requires', () => {
    // Act
    const client = validateRegistration(
      { ...minimal, software_statement: 'eyJ.x.y', jwks: { keys: [] }, 'client_name#fr': 'x' },
      policy,
    );

    // Assess
    expect(client).not.toHaveProperty('software_statement');
    expect(client).not.toHaveProperty('jwks');
    expect(client).not.toHaveProperty('client_name#fr');
  });

  it('deduplicating repeated scopes and grant types', () => {
    // Act
    const client = validateRegistration(
      {
        ...minimal,
        scope: 'mcp/tools  mcp/tools openid',
        grant_types: ['authorization_code', 'authorization_code'],
      },
      policy,
    );

    // Assess
    expect(client.scope).toBe('mcp/tools openid');
    expect(client.grant_types).toEqual(['authorization_code']);
  });

  it('for up to ten allowed redirect URIs, exactly as sent', () => {
    // Act
    const client = validateRegistration({ redirect_uris: [...ALLOWED, ALLOWED[0]] }, policy);

    // Assess
    expect(client.redirect_uris).toEqual([...ALLOWED, ALLOWED[0]]);
  });
});

describe('validateRegistration refuses with invalid_redirect_uri', () => {
  it.each([
    ['no redirect_uris', {}],
    ['an empty list', { redirect_uris: [] }],
    ['a string instead of a list', { redirect_uris: 'http://localhost:8080/callback' }],
    ['a number in the list', { redirect_uris: [42] }],
    [
      `more than ${MAX_REDIRECT_URIS}`,
      { redirect_uris: Array(MAX_REDIRECT_URIS + 1).fill(ALLOWED[0]) },
    ],
    ['a relative URI', { redirect_uris: ['/callback'] }],
    ['a fragment', { redirect_uris: ['http://localhost:8080/callback#x'] }],
    ['an empty fragment', { redirect_uris: ['http://localhost:8080/callback#'] }],
    ['user info', { redirect_uris: ['https://user@claude.ai/api/mcp/auth_callback'] }],
    ['plain http off loopback', { redirect_uris: ['http://claude.ai/api/mcp/auth_callback'] }],
    ['a lookalike loopback host', { redirect_uris: ['http://localhost.attacker.example/cb'] }],
    ['javascript:', { redirect_uris: ['javascript:alert(1)'] }],
    ['a custom scheme', { redirect_uris: ['com.example.app:/callback'] }],
    ['spaces around it', { redirect_uris: [' http://localhost:8080/callback'] }],
    ['a control character', { redirect_uris: ['http://localhost:8080/call\nback'] }],
    ['an overlong URI', { redirect_uris: [`https://claude.ai/${'a'.repeat(2100)}`] }],
    ['an attacker host', { redirect_uris: ['https://attacker.example/callback'] }],
    ['a different port', { redirect_uris: ['http://localhost:8081/callback'] }],
    ['a different path', { redirect_uris: ['http://localhost:8080/callback/'] }],
    ['a different case', { redirect_uris: ['http://LOCALHOST:8080/callback'] }],
    [
      'one disallowed among allowed ones',
      { redirect_uris: [ALLOWED[0], 'https://attacker.example/callback'] },
    ],
  ])('for %s', (_, body) => {
    // Act
    const error = refusal(body);

    // Assess
    expect(error.error).toBe('invalid_redirect_uri');
    expect(error.field).toBe('redirect_uris');
    expect(error.status).toBe(400);
  });

  it.each([
    ['a backslash the parser reads as a slash', 'http://localhost\\@attacker.example/cb'],
    ['a short IPv4 loopback', 'http://127.1:8080/callback'],
    ['an upper-case scheme', 'HTTP://localhost:8080/callback'],
    ['a percent-encoded host', 'http://%6cocalhost:8080/callback'],
    ['a default port written out', 'https://claude.ai:443/api/mcp/auth_callback'],
    ['no path', 'http://localhost:8080'],
    ['a dot segment', 'http://localhost:8080/./callback'],
  ])('for %s: every URI must be in the one form a URL parser writes', (_, uri) => {
    // Act: the policy would allow anything, so only the form can refuse it.
    const error = refusal({ redirect_uris: [uri] }, { ...policy, allowRedirectUri: () => true });

    // Assess
    expect(error.error).toBe('invalid_redirect_uri');
    expect(error.description).toMatch(/canonical form/);
  });

  it('names the index of the URI at fault', () => {
    // Act
    const error = refusal({ redirect_uris: [ALLOWED[0], 'https://attacker.example/cb'] });

    // Assess
    expect(error.description).toContain('redirect_uris[1]');
  });

  it('checks the policy only after the form of every URI', () => {
    // Prepare
    const seen: string[] = [];
    const spying = {
      ...policy,
      allowRedirectUri: (uri: string) => {
        seen.push(uri);
        return true;
      },
    };

    // Act
    refusal({ redirect_uris: [ALLOWED[0], 'http://evil.example/cb'] }, spying);

    // Assess
    expect(seen).toEqual([]);
  });
});

describe('validateRegistration refuses with invalid_client_metadata', () => {
  it.each([
    ['a JSON array body', [minimal], 'body'],
    ['a JSON string body', 'hello', 'body'],
    ['a null body', null, 'body'],
    ['a confidential client', { ...minimal, token_endpoint_auth_method: 'client_secret_basic' }],
    ['private_key_jwt', { ...minimal, token_endpoint_auth_method: 'private_key_jwt' }],
    ['a non-string auth method', { ...minimal, token_endpoint_auth_method: ['none'] }],
    ['the implicit grant', { ...minimal, grant_types: ['authorization_code', 'implicit'] }],
    ['client credentials', { ...minimal, grant_types: ['client_credentials'] }],
    ['refresh_token alone', { ...minimal, grant_types: ['refresh_token'] }],
    ['no grant type', { ...minimal, grant_types: [] }],
    ['grant_types as a string', { ...minimal, grant_types: 'authorization_code' }],
    ['the token response type', { ...minimal, response_types: ['code', 'token'] }],
    ['no response type', { ...minimal, response_types: [] }],
    ['response_types as a string', { ...minimal, response_types: 'code' }],
    ['an unsupported scope', { ...minimal, scope: 'mcp/tools admin' }],
    ['offline_access', { ...minimal, scope: 'offline_access' }],
    ['an empty scope', { ...minimal, scope: ' ' }],
    ['scope as a list', { ...minimal, scope: ['mcp/tools'] }],
    ['a scope with a quote', { ...minimal, scope: 'mcp/"tools' }],
    ['an overlong scope', { ...minimal, scope: 'mcp/tools '.repeat(200) }],
    ['a client name that is not a string', { ...minimal, client_name: 7 }],
    ['an empty client name', { ...minimal, client_name: '' }],
    [
      'an overlong client name',
      { ...minimal, client_name: 'n'.repeat(MAX_CLIENT_NAME_LENGTH + 1) },
    ],
    ['a newline in the client name', { ...minimal, client_name: 'Claude\nlevel=ERROR' }],
    ['a bidi override in the client name', { ...minimal, client_name: 'evil\u202Egnp.exe' }],
    ['a C1 control in the client name', { ...minimal, client_name: 'a\u0085b' }],
    ['an http client_uri', { ...minimal, client_uri: 'http://example.com' }],
    ['a javascript: logo_uri', { ...minimal, logo_uri: 'javascript:alert(1)' }],
    ['a data: logo_uri', { ...minimal, logo_uri: 'data:image/png;base64,AAAA' }],
    ['a relative tos_uri', { ...minimal, tos_uri: '/tos' }],
    ['a policy_uri with a fragment', { ...minimal, policy_uri: 'https://example.com/p#x' }],
    ['an overlong client_uri', { ...minimal, client_uri: `https://e.com/${'a'.repeat(2100)}` }],
    ['contacts as a string', { ...minimal, contacts: 'ops@example.com' }],
    ['eleven contacts', { ...minimal, contacts: Array(11).fill('ops@example.com') }],
    ['a number among contacts', { ...minimal, contacts: [1] }],
    ['an overlong contact', { ...minimal, contacts: [`${'a'.repeat(300)}@example.com`] }],
    ['a software_id that is not a string', { ...minimal, software_id: 1 }],
    ['an overlong software_version', { ...minimal, software_version: 'v'.repeat(256) }],
    ['a control character in software_id', { ...minimal, software_id: 'a\u0000b' }],
  ])('for %s', (_, body, field?: string) => {
    // Act
    const error = refusal(body);

    // Assess
    expect(error.error).toBe('invalid_client_metadata');
    expect(error.status).toBe(400);
    if (field !== undefined) expect(error.field).toBe(field);
  });

  it('names the field at fault', () => {
    // Act
    const error = refusal({ ...minimal, logo_uri: 'http://example.com/logo.png' });

    // Assess
    expect(error.field).toBe('logo_uri');
    expect(error.description).toContain('logo_uri');
  });

  it('are OAuthErrors with the RFC 7591 error body', () => {
    // Act
    const error = refusal({ ...minimal, response_types: ['token'] });

    // Assess
    expect(error).toBeInstanceOf(OAuthError);
    expect(error.name).toBe('ClientRegistrationError');
    expect(error.toBody()).toEqual({
      error: 'invalid_client_metadata',
      error_description: error.description,
    });
  });
});

describe('error descriptions', () => {
  const MARKER = 'ZZmarkerZZ';
  it.each([
    ['redirect_uris', { redirect_uris: [`https://${MARKER}.example/cb`] }],
    ['a malformed redirect URI', { redirect_uris: [`${MARKER} not a url`] }],
    ['scope', { ...minimal, scope: `mcp/tools ${MARKER}` }],
    ['client_name', { ...minimal, client_name: `${MARKER}\u0007` }],
    ['client_uri', { ...minimal, client_uri: `http://${MARKER}.example` }],
    ['grant_types', { ...minimal, grant_types: [MARKER] }],
    ['token_endpoint_auth_method', { ...minimal, token_endpoint_auth_method: MARKER }],
    ['contacts', { ...minimal, contacts: [`${MARKER}\n`] }],
  ])('never repeat what the client sent in %s', (_, body) => {
    // Act
    const error = refusal(body);

    // Assess
    expect(error.description).not.toContain(MARKER);
    expect(error.message).not.toContain(MARKER);
    expect(error.description.length).toBeLessThan(160);
  });
});

describe('describeRegistrationRequest', () => {
  it('gives counts and lengths only', () => {
    // Act
    const described = describeRegistrationRequest({
      redirect_uris: ['a', 'b', 'c'],
      client_name: 'Cläude',
      contacts: ['secret@example.com'],
    });

    // Assess
    expect(described).toEqual({ redirectUriCount: 3, clientNameLength: 6 });
  });

  it('gives nothing for a body that is not an object', () => {
    // Assess
    expect(describeRegistrationRequest([1, 2])).toEqual({});
    expect(describeRegistrationRequest('x')).toEqual({});
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['[::1]', true],
    ['localhost.attacker.example', false],
    ['127.0.0.2', false],
    ['0.0.0.0', false],
  ])('%s -> %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
