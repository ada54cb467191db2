/**
 * The RFC rules the OAuth discovery and registration answers must follow, as pure checkers:
 * each takes a document (and where it was fetched from) and returns the violations, one string
 * per broken rule, led by the section it breaks. An empty list means conformant.
 *
 * - RFC 9728 (protected-resource metadata), with the MCP 2025-11-25 authorization profile;
 * - RFC 8414 (authorization-server metadata), OpenID Connect Discovery 1.0 where the document
 *   is served at an `openid-configuration` location, and the MCP profile (PKCE S256);
 * - RFC 7591 (dynamic client registration) answers, success and error;
 * - RFC 6750 / RFC 9728 section 5.1 `WWW-Authenticate` challenges.
 *
 * Written from the RFCs, not from the code under test: nothing here imports the project.
 * Plain http is accepted only on a loopback host, where local mode serves; every other URL
 * must use https as the RFCs require.
 */

/** A JSON object as parsed. */
export type JsonObject = Record<string, unknown>;

/** The HTTP answer a document came with. */
export interface ServedResponse {
  readonly status: number;
  readonly contentType: string | null;
}

export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';
export const AUTHORIZATION_SERVER_WELL_KNOWN = '/.well-known/oauth-authorization-server';
export const OPENID_CONFIGURATION_WELL_KNOWN = '/.well-known/openid-configuration';

/** RFC 9728 section 2: the ways a client may present a bearer token (RFC 6750 section 2). */
const BEARER_METHODS = ['header', 'body', 'query'];
/** RFC 7591 section 3.2.2: the registration error codes. */
export const REGISTRATION_ERROR_CODES = [
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'invalid_software_statement',
  'unapproved_software_statement',
] as const;
/** RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** Token endpoint auth methods that authenticate with a client secret (RFC 7591 section 2). */
const SECRET_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt'];
/** Beyond this, a "seconds since the epoch" value is really milliseconds (year 5138). */
const MAX_PLAUSIBLE_EPOCH_SECONDS = 1e11;

/**
 * Loopback hosts (RFC 8252 section 7.3, RFC 6761 `localhost`): the one place plain http stays
 * on the machine, and so the one place local mode may serve metadata over it.
 */
export function isLoopbackHostname(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

interface UrlRule {
  /** Forbid a query component (issuer identifiers, RFC 8414 section 2). */
  readonly noQuery?: boolean;
}

/**
 * What is wrong with a URL value, or undefined: an absolute https URL (http on loopback only)
 * with no fragment, and no query when the rule says so. Checked on the raw text: the WHATWG
 * parser drops an empty `#` or `?`, which still makes a fragment or query component.
 */
function urlProblem(value: unknown, rule: UrlRule = {}): string | undefined {
  if (typeof value !== 'string') return 'must be a URL string';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHostname(url.hostname)))
    return 'must use https (plain http only on a loopback host)';
  if (value.includes('#')) return 'must have no fragment component';
  if (rule.noQuery === true && value.includes('?')) return 'must have no query component';
  return undefined;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The path without its terminating slash, as RFC 8414 section 3.1 inserts it. */
function trimmedPath(url: URL): string {
  return url.pathname.replace(/\/+$/, '');
}

/** A URL string in its serialised form, for comparing locations; undefined if unparseable. */
function normalized(value: string): string | undefined {
  try {
    return new URL(value).href;
  } catch {
    return undefined;
  }
}

/** Collects violations, each led by the rule's source. */
class Findings {
  readonly list: string[] = [];
  add(source: string, message: string): void {
    this.list.push(`${source}: ${message}`);
  }
  url(source: string, field: string, value: unknown, rule?: UrlRule): void {
    const problem = urlProblem(value, rule);
    if (problem !== undefined) this.add(source, `${field} ${problem}`);
  }
  /**
   * An optional array of strings; with `zeroRule`, one that must be omitted rather than empty
   * (section 3.2 of RFC 8414 and RFC 9728).
   */
  stringArray(
    source: string,
    doc: JsonObject,
    field: string,
    options: { readonly zeroRule?: string } = {},
  ): string[] | undefined {
    const value = doc[field];
    if (value === undefined) return undefined;
    if (!isStringArray(value)) {
      this.add(source, `${field} must be a JSON array of strings`);
      return undefined;
    }
    if (value.length === 0 && options.zeroRule !== undefined) {
      this.add(options.zeroRule, `${field} has zero values and must be omitted instead`);
    }
    return value;
  }
  response(source: string, response: ServedResponse | undefined, status: number): void {
    if (response === undefined) return;
    if (response.status !== status) {
      this.add(source, `the answer must be HTTP ${status}, got ${response.status}`);
    }
    const mediaType = response.contentType?.split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/json') {
      this.add(source, `the answer must be application/json, got ${response.contentType}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 9728: protected-resource metadata
// ---------------------------------------------------------------------------------------------

/**
 * RFC 9728 section 3.1 and the MCP 2025-11-25 fallback order: the well-known URLs a client
 * builds from the resource identifier, the path-inserted one first, then the root one.
 */
export function protectedResourceMetadataUrls(resource: string): string[] {
  const url = new URL(resource);
  const root = `${url.origin}${PROTECTED_RESOURCE_WELL_KNOWN}`;
  // Only the slash right after the host goes; a path keeps its spelling (trailing slash too).
  const path = url.pathname === '/' ? '' : url.pathname;
  return path === '' && url.search === '' ? [root] : [`${root}${path}${url.search}`, root];
}

/**
 * The inverse of RFC 9728 section 3.1: the resource identifier whose well-known URL this is,
 * or undefined when the URL is not a well-known URL (the suffix must sit right after the host).
 */
export function resourceForWellKnownUrl(location: string): string | undefined {
  const url = new URL(location);
  if (url.pathname === PROTECTED_RESOURCE_WELL_KNOWN) return `${url.origin}${url.search}`;
  if (!url.pathname.startsWith(`${PROTECTED_RESOURCE_WELL_KNOWN}/`)) return undefined;
  return `${url.origin}${url.pathname.slice(PROTECTED_RESOURCE_WELL_KNOWN.length)}${url.search}`;
}

export interface ProtectedResourceContext {
  /** The URL the document was fetched from. */
  readonly fetchedFrom: string;
  /** The MCP endpoint the client wants to call: the URL it sent its first request to. */
  readonly resource: string;
  /** The `resource_metadata` URL of the server's 401 challenge, if it sends one. */
  readonly challengeUrl?: string;
  readonly response?: ServedResponse;
}

/** Every RFC 9728 (and MCP 2025-11-25) rule the document at `fetchedFrom` breaks. */
export function protectedResourceViolations(
  doc: unknown,
  context: ProtectedResourceContext,
): string[] {
  const findings = new Findings();
  // Section 3.2: a 200 answer, a JSON object, as application/json.
  findings.response('RFC 9728 §3.2', context.response, 200);
  if (!isObject(doc)) {
    findings.add('RFC 9728 §3.2', 'the document must be a JSON object');
    return findings.list;
  }

  // Section 2 / 1.2: `resource` REQUIRED, an https URL with no fragment, no query (SHOULD).
  const resource = doc.resource;
  const resourceProblem = urlProblem(resource);
  if (resource === undefined) {
    findings.add('RFC 9728 §2', 'resource is REQUIRED');
  } else if (resourceProblem !== undefined) {
    findings.add('RFC 9728 §1.2', `resource ${resourceProblem}`);
  } else if (String(resource).includes('?')) {
    findings.add('RFC 9728 §1.2 (RFC 8707 §2)', 'resource SHOULD NOT have a query component');
  }
  if (typeof resource === 'string' && resourceProblem === undefined) {
    resourceLocationViolations(findings, resource, context);
  }

  // Section 2: `authorization_servers`, issuer identifiers; MCP requires at least one.
  const servers = findings.stringArray('RFC 9728 §2', doc, 'authorization_servers', {
    zeroRule: 'RFC 9728 §3.2',
  });
  if (servers === undefined || servers.length === 0) {
    findings.add(
      'MCP 2025-11-25 authorization',
      'authorization_servers must list at least one authorization server',
    );
  }
  for (const [index, server] of (servers ?? []).entries()) {
    findings.url('RFC 9728 §2 (RFC 8414 §2 issuer)', `authorization_servers[${index}]`, server, {
      noQuery: true,
    });
  }

  const scopes = findings.stringArray('RFC 9728 §2', doc, 'scopes_supported', {
    zeroRule: 'RFC 9728 §3.2',
  });
  scopeTokenViolations(findings, scopes);

  // Section 2: an empty array is allowed here, meaning "no bearer method".
  const methods = findings.stringArray('RFC 9728 §2', doc, 'bearer_methods_supported');
  for (const method of methods ?? []) {
    if (!BEARER_METHODS.includes(method)) {
      findings.add('RFC 9728 §2', `bearer_methods_supported has unknown method ${method}`);
    }
  }
  if (methods !== undefined && !methods.includes('header')) {
    // MCP clients must send the token in the Authorization header, and only there.
    findings.add('MCP 2025-11-25 authorization', 'bearer_methods_supported must include header');
  }

  if (doc.jwks_uri !== undefined) findings.url('RFC 9728 §2', 'jwks_uri', doc.jwks_uri);
  for (const field of ['resource_documentation', 'resource_policy_uri', 'resource_tos_uri']) {
    if (doc[field] !== undefined) findings.url('RFC 9728 §2', field, doc[field]);
  }
  if (doc.resource_name !== undefined && typeof doc.resource_name !== 'string') {
    findings.add('RFC 9728 §2', 'resource_name must be a string');
  }
  const algorithms = findings.stringArray(
    'RFC 9728 §2',
    doc,
    'resource_signing_alg_values_supported',
    { zeroRule: 'RFC 9728 §3.2' },
  );
  if (algorithms?.includes('none')) {
    findings.add('RFC 9728 §2', 'resource_signing_alg_values_supported must not include none');
  }
  for (const field of [
    'authorization_details_types_supported',
    'dpop_signing_alg_values_supported',
  ]) {
    findings.stringArray('RFC 9728 §2', doc, field, { zeroRule: 'RFC 9728 §3.2' });
  }
  for (const field of [
    'tls_client_certificate_bound_access_tokens',
    'dpop_bound_access_tokens_required',
  ]) {
    if (doc[field] !== undefined && typeof doc[field] !== 'boolean') {
      findings.add('RFC 9728 §2', `${field} must be a boolean`);
    }
  }
  return findings.list;
}

/**
 * Section 3.3: the `resource` must be the identifier the client built the URL from (a
 * well-known URL) or the URL it requested (the 401's `resource_metadata`); MCP: the MCP URL.
 */
function resourceLocationViolations(
  findings: Findings,
  resource: string,
  context: ProtectedResourceContext,
): void {
  // MCP 2025-11-25: the resource is the MCP server's canonical URI. When the client came from
  // the challenge, this is also section 3.3's second rule (the URL the client requested).
  if (resource !== context.resource) {
    findings.add(
      'MCP 2025-11-25 authorization / RFC 9728 §3.3',
      `resource must be the exact MCP URL ${context.resource}, got ${resource}`,
    );
  }
  const location = normalized(context.fetchedFrom);
  const fromChallenge =
    context.challengeUrl !== undefined && location === normalized(context.challengeUrl);
  const derived = location === undefined ? undefined : resourceForWellKnownUrl(location);
  if (derived === undefined) {
    if (!fromChallenge) {
      findings.add(
        'RFC 9728 §3',
        `served at ${context.fetchedFrom}, which is neither a well-known URL (the suffix inserted right after the host) nor the 401 challenge's resource_metadata URL (§5.1): no client finds it there, and none can validate it (§3.3)`,
      );
    }
    return;
  }
  if (resource === derived) return;
  const origin = new URL(derived).origin;
  const atRoot = derived === origin || derived === `${origin}/`;
  // MCP 2025-11-25 lets an MCP server publish its metadata at the root well-known URL too
  // ("At the root: https://example.com/.well-known/oauth-protected-resource"), for a resource
  // with a path on the same origin; RFC 9728 alone would expect the origin as resource there.
  if (atRoot && new URL(resource).origin === origin && resource === context.resource) return;
  findings.add(
    'RFC 9728 §3.3',
    `served at ${context.fetchedFrom}, which is the well-known URL of ${derived}, but resource is ${resource}`,
  );
}

function scopeTokenViolations(findings: Findings, scopes: string[] | undefined): void {
  for (const scope of scopes ?? []) {
    if (!SCOPE_TOKEN.test(scope)) {
      findings.add(
        'RFC 6749 §3.3',
        `scopes_supported has ${JSON.stringify(scope)}, not a scope-token`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 8414: authorization-server metadata (and OpenID Connect Discovery 1.0)
// ---------------------------------------------------------------------------------------------

/** How a client turns an issuer into a metadata URL. */
export type AuthorizationServerConstruction =
  /** RFC 8414 section 3.1: `/.well-known/oauth-authorization-server` inserted before the path. */
  | 'rfc8414'
  /** MCP 2025-11-25: `/.well-known/openid-configuration` inserted before the path. */
  | 'oidc-inserted'
  /** OpenID Connect Discovery 1.0 section 4.1 (RFC 8414 section 5): appended to the issuer. */
  | 'oidc-appended';

/**
 * The metadata URLs an MCP 2025-11-25 client tries for an issuer, in its priority order. For an
 * issuer without a path, inserting and appending give the same OIDC URL (listed once).
 */
export function authorizationServerMetadataUrls(
  issuer: string,
): { url: string; construction: AuthorizationServerConstruction }[] {
  const url = new URL(issuer);
  // Section 3.1: any terminating "/" is removed before inserting.
  const path = trimmedPath(url);
  const oauth = {
    url: `${url.origin}${AUTHORIZATION_SERVER_WELL_KNOWN}${path}`,
    construction: 'rfc8414' as const,
  };
  if (path === '') {
    return [
      oauth,
      { url: `${url.origin}${OPENID_CONFIGURATION_WELL_KNOWN}`, construction: 'oidc-appended' },
    ];
  }
  return [
    oauth,
    {
      url: `${url.origin}${OPENID_CONFIGURATION_WELL_KNOWN}${path}`,
      construction: 'oidc-inserted',
    },
    {
      url: `${url.origin}${path}${OPENID_CONFIGURATION_WELL_KNOWN}`,
      construction: 'oidc-appended',
    },
  ];
}

export interface AuthorizationServerContext {
  /** The URL the document was fetched from. */
  readonly fetchedFrom: string;
  /** The issuer identifier the client built that URL from (from the PRM's authorization_servers). */
  readonly issuer: string;
  readonly response?: ServedResponse;
}

/** Every RFC 8414 (OIDC Discovery, MCP 2025-11-25) rule the document at `fetchedFrom` breaks. */
export function authorizationServerViolations(
  doc: unknown,
  context: AuthorizationServerContext,
): string[] {
  const findings = new Findings();
  findings.response('RFC 8414 §3.2', context.response, 200);
  if (!isObject(doc)) {
    findings.add('RFC 8414 §3.2', 'the document must be a JSON object');
    return findings.list;
  }

  // Section 2: `issuer` REQUIRED, https, no query, no fragment.
  if (doc.issuer === undefined) findings.add('RFC 8414 §2', 'issuer is REQUIRED');
  else findings.url('RFC 8414 §2', 'issuer', doc.issuer, { noQuery: true });

  // Section 3.3: identical to the issuer the URL was formed from, at a URL formed from it.
  if (doc.issuer !== undefined && doc.issuer !== context.issuer) {
    findings.add(
      'RFC 8414 §3.3',
      `issuer must be identical to ${context.issuer}, the issuer the metadata URL was formed from; got ${String(doc.issuer)}`,
    );
  }
  const construction = locationConstruction(context.fetchedFrom, context.issuer);
  if (construction === undefined) {
    findings.add(
      'RFC 8414 §3 / §3.3',
      `served at ${context.fetchedFrom}, which neither RFC 8414 §3.1 (suffix inserted) nor OpenID Connect Discovery §4 (appended or, as MCP tries, inserted) forms from the issuer ${context.issuer}`,
    );
  }

  // Section 2: the grant types decide which endpoints are REQUIRED (default: code and implicit).
  const grants = findings.stringArray('RFC 8414 §2', doc, 'grant_types_supported', {
    zeroRule: 'RFC 8414 §3.2',
  }) ?? ['authorization_code', 'implicit'];
  const usesAuthorizationEndpoint = grants.some(
    (g) => g === 'authorization_code' || g === 'implicit',
  );
  if (doc.authorization_endpoint === undefined) {
    if (usesAuthorizationEndpoint) {
      findings.add('RFC 8414 §2', 'authorization_endpoint is REQUIRED (a grant type uses it)');
    }
  } else {
    // RFC 6749 section 3.1: no fragment; TLS required.
    findings.url(
      'RFC 8414 §2 (RFC 6749 §3.1)',
      'authorization_endpoint',
      doc.authorization_endpoint,
    );
  }
  if (doc.token_endpoint === undefined) {
    if (!grants.every((g) => g === 'implicit')) {
      findings.add('RFC 8414 §2', 'token_endpoint is REQUIRED (not only the implicit grant)');
    }
  } else {
    findings.url('RFC 8414 §2 (RFC 6749 §3.2)', 'token_endpoint', doc.token_endpoint);
  }
  for (const field of [
    'jwks_uri',
    'registration_endpoint',
    'revocation_endpoint',
    'introspection_endpoint',
    'service_documentation',
    'op_policy_uri',
    'op_tos_uri',
  ]) {
    if (doc[field] !== undefined) findings.url('RFC 8414 §2', field, doc[field]);
  }

  // Section 2: `response_types_supported` REQUIRED; MCP uses the authorization code flow.
  const responseTypes = findings.stringArray('RFC 8414 §2', doc, 'response_types_supported', {
    zeroRule: 'RFC 8414 §3.2',
  });
  if (doc.response_types_supported === undefined) {
    findings.add('RFC 8414 §2', 'response_types_supported is REQUIRED');
  } else if (responseTypes !== undefined && !responseTypes.includes('code')) {
    findings.add('MCP 2025-11-25 authorization', 'response_types_supported must include code');
  }

  const scopes = findings.stringArray('RFC 8414 §2', doc, 'scopes_supported', {
    zeroRule: 'RFC 8414 §3.2',
  });
  scopeTokenViolations(findings, scopes);
  for (const field of [
    'response_modes_supported',
    'ui_locales_supported',
    'revocation_endpoint_auth_methods_supported',
    'introspection_endpoint_auth_methods_supported',
  ]) {
    findings.stringArray('RFC 8414 §2', doc, field, { zeroRule: 'RFC 8414 §3.2' });
  }

  // Section 2: token endpoint authentication; "none" is no signing algorithm.
  const authMethods = findings.stringArray(
    'RFC 8414 §2',
    doc,
    'token_endpoint_auth_methods_supported',
    {
      zeroRule: 'RFC 8414 §3.2',
    },
  ) ?? ['client_secret_basic'];
  const signingAlgorithms = findings.stringArray(
    'RFC 8414 §2',
    doc,
    'token_endpoint_auth_signing_alg_values_supported',
    { zeroRule: 'RFC 8414 §3.2' },
  );
  if (signingAlgorithms?.includes('none')) {
    findings.add(
      'RFC 8414 §2',
      'token_endpoint_auth_signing_alg_values_supported must not include none',
    );
  }
  if (
    signingAlgorithms === undefined &&
    authMethods.some((m) => m === 'private_key_jwt' || m === 'client_secret_jwt')
  ) {
    findings.add(
      'RFC 8414 §2',
      'token_endpoint_auth_signing_alg_values_supported is REQUIRED with a *_jwt auth method',
    );
  }

  // MCP 2025-11-25: absent means no PKCE, and clients refuse; S256 is the method they use.
  // This server supports S256 only, so it must never advertise the weaker `plain`.
  const pkce = findings.stringArray('RFC 8414 §2', doc, 'code_challenge_methods_supported', {
    zeroRule: 'RFC 8414 §3.2',
  });
  if (doc.code_challenge_methods_supported === undefined) {
    findings.add(
      'MCP 2025-11-25 authorization',
      'code_challenge_methods_supported must be present (absent means no PKCE)',
    );
  } else if (pkce !== undefined && !pkce.includes('S256')) {
    findings.add(
      'MCP 2025-11-25 authorization',
      'code_challenge_methods_supported must include S256',
    );
  }
  if (pkce?.includes('plain')) {
    findings.add(
      'OAuth 2.1 §4.1.1 (S256 only)',
      'code_challenge_methods_supported must not include plain',
    );
  }

  if (construction === 'oidc-appended' || construction === 'oidc-inserted') {
    openIdProviderViolations(findings, doc, scopes);
  }
  return findings.list;
}

/** Which construction forms `location` from `issuer`, if any. */
function locationConstruction(
  location: string,
  issuer: string,
): AuthorizationServerConstruction | undefined {
  let candidates: ReturnType<typeof authorizationServerMetadataUrls>;
  try {
    candidates = authorizationServerMetadataUrls(issuer);
  } catch {
    return undefined;
  }
  const target = normalized(location);
  return candidates.find((candidate) => normalized(candidate.url) === target)?.construction;
}

/** OpenID Connect Discovery 1.0 section 3: what a document at an OIDC location must also hold. */
function openIdProviderViolations(
  findings: Findings,
  doc: JsonObject,
  scopes: string[] | undefined,
): void {
  const source = 'OpenID Connect Discovery 1.0 §3';
  if (doc.jwks_uri === undefined) findings.add(source, 'jwks_uri is REQUIRED');
  const subjects = findings.stringArray(source, doc, 'subject_types_supported');
  if (subjects === undefined || subjects.length === 0) {
    findings.add(source, 'subject_types_supported is REQUIRED');
  }
  const algorithms = findings.stringArray(source, doc, 'id_token_signing_alg_values_supported');
  if (algorithms === undefined || !algorithms.includes('RS256')) {
    findings.add(
      source,
      'id_token_signing_alg_values_supported is REQUIRED and must include RS256',
    );
  }
  if (scopes !== undefined && !scopes.includes('openid')) {
    findings.add(source, 'scopes_supported must include openid');
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 7591: client registration answers
// ---------------------------------------------------------------------------------------------

/** A registration answer as received. */
export interface RegistrationAnswer extends ServedResponse {
  readonly body: unknown;
}

/**
 * Client metadata a client asks for that the answer must carry back, as sent or as the server
 * replaced it (section 3.2.1: "all registered metadata about the client"): without them the
 * client cannot know what it registered.
 */
const ECHOED_FIELDS = [
  'redirect_uris',
  'token_endpoint_auth_method',
  'grant_types',
  'response_types',
  'scope',
  'client_name',
] as const;

/** Every RFC 7591 rule the answer to `request` breaks (section 3.2.1 or 3.2.2 by status). */
export function registrationResponseViolations(
  answer: RegistrationAnswer,
  request: JsonObject,
): string[] {
  return answer.status >= 200 && answer.status < 300
    ? registeredClientViolations(answer, request)
    : registrationErrorViolations(answer);
}

function registeredClientViolations(answer: RegistrationAnswer, request: JsonObject): string[] {
  const findings = new Findings();
  // Section 3.2.1: "HTTP 201 Created status code and a body of type application/json".
  findings.response('RFC 7591 §3.2.1', answer, 201);
  const client = answer.body;
  if (!isObject(client)) {
    findings.add('RFC 7591 §3.2.1', 'the body must be a JSON object');
    return findings.list;
  }
  if (typeof client.client_id !== 'string' || client.client_id === '') {
    findings.add('RFC 7591 §3.2.1', 'client_id is REQUIRED (a string)');
  }
  for (const field of ['client_id_issued_at', 'client_secret_expires_at']) {
    const value = client[field];
    if (
      value !== undefined &&
      (!Number.isInteger(value) ||
        (value as number) < 0 ||
        (value as number) > MAX_PLAUSIBLE_EPOCH_SECONDS)
    ) {
      findings.add('RFC 7591 §3.2.1', `${field} must be whole seconds since the epoch`);
    }
  }

  // Section 2: the default method authenticates with a secret; "none" has none.
  const method = client.token_endpoint_auth_method ?? 'client_secret_basic';
  if (typeof method !== 'string') {
    findings.add('RFC 7591 §2', 'token_endpoint_auth_method must be a string');
  } else if (method === 'none' && client.client_secret !== undefined) {
    findings.add('RFC 7591 §2', 'a "none" (public) client must get no client_secret');
  } else if (SECRET_AUTH_METHODS.includes(method) && client.client_secret === undefined) {
    findings.add(
      'RFC 7591 §2',
      `token_endpoint_auth_method ${method}${client.token_endpoint_auth_method === undefined ? ' (the default)' : ''} needs a client_secret, and none was issued`,
    );
  }
  if (client.client_secret !== undefined) {
    if (typeof client.client_secret !== 'string') {
      findings.add('RFC 7591 §3.2.1', 'client_secret must be a string');
    }
    if (client.client_secret_expires_at === undefined) {
      findings.add('RFC 7591 §3.2.1', 'client_secret_expires_at is REQUIRED with a client_secret');
    }
  }

  // Section 3.2.1: registered metadata comes back.
  for (const field of ECHOED_FIELDS) {
    if (request[field] !== undefined && client[field] === undefined) {
      findings.add('RFC 7591 §3.2.1', `${field} was requested but is not in the answer`);
    }
  }
  const uris = client.redirect_uris;
  if (uris !== undefined) {
    if (!isStringArray(uris)) {
      findings.add('RFC 7591 §2', 'redirect_uris must be an array of strings');
    } else if (
      isStringArray(request.redirect_uris) &&
      [...uris].sort().join(' ') !== [...request.redirect_uris].sort().join(' ')
    ) {
      findings.add('RFC 7591 §3.2.1', 'redirect_uris must be the registered (requested) URIs');
    }
  }
  const grants = findings.stringArray('RFC 7591 §2', client, 'grant_types') ?? [
    'authorization_code',
  ];
  const responses = findings.stringArray('RFC 7591 §2', client, 'response_types') ?? ['code'];
  // Section 2.1: authorization_code goes with code, implicit with token (SHOULD be consistent).
  for (const [grant, response] of [
    ['authorization_code', 'code'],
    ['implicit', 'token'],
  ] as const) {
    if (grants.includes(grant) !== responses.includes(response)) {
      findings.add(
        'RFC 7591 §2.1',
        `grant type ${grant} and response type ${response} must be registered together`,
      );
    }
  }
  for (const field of ['scope', 'client_name', 'software_id', 'software_version']) {
    if (client[field] !== undefined && typeof client[field] !== 'string') {
      findings.add('RFC 7591 §2', `${field} must be a string`);
    }
  }
  findings.stringArray('RFC 7591 §2', client, 'contacts');
  return findings.list;
}

function registrationErrorViolations(answer: RegistrationAnswer): string[] {
  const findings = new Findings();
  // Section 3.2.2: "HTTP 400 status code (unless otherwise specified)", application/json.
  findings.response('RFC 7591 §3.2.2', answer, 400);
  const body = answer.body;
  if (!isObject(body)) {
    findings.add('RFC 7591 §3.2.2', 'the body must be a JSON object');
    return findings.list;
  }
  if (!(REGISTRATION_ERROR_CODES as readonly unknown[]).includes(body.error)) {
    findings.add(
      'RFC 7591 §3.2.2',
      `error must be one of ${REGISTRATION_ERROR_CODES.join(', ')}; got ${JSON.stringify(body.error)}`,
    );
  }
  const description = body.error_description;
  // "Human-readable ASCII text description of the error used for debugging."
  if (
    description !== undefined &&
    (typeof description !== 'string' || !/^[\x20-\x7e]*$/.test(description))
  ) {
    findings.add('RFC 7591 §3.2.2', 'error_description must be printable ASCII text');
  }
  return findings.list;
}

// ---------------------------------------------------------------------------------------------
// RFC 6750 / RFC 9728 section 5.1: the 401 challenge
// ---------------------------------------------------------------------------------------------

/** A `Bearer` challenge's auth-params (quoted-string values), or undefined if not Bearer. */
export function parseBearerChallenge(header: string): Record<string, string> | undefined {
  const match = /^Bearer\s+(.*)$/i.exec(header.trim());
  if (match === null) return undefined;
  const params: Record<string, string> = {};
  for (const param of (match[1] ?? '').matchAll(/([A-Za-z_][\w-]*)="((?:[^"\\]|\\.)*)"/g)) {
    params[(param[1] ?? '').toLowerCase()] = (param[2] ?? '').replace(/\\(.)/g, '$1');
  }
  return params;
}

/** What the 401's `WWW-Authenticate` must say for an MCP client to find the metadata. */
export function bearerChallengeViolations(header: string | null | undefined): string[] {
  const findings = new Findings();
  const params = header == null ? undefined : parseBearerChallenge(header);
  if (params === undefined) {
    findings.add('RFC 6750 §3', `the challenge must use the Bearer scheme, got ${header}`);
    return findings.list;
  }
  if (params.resource_metadata === undefined) {
    findings.add(
      'RFC 9728 §5.1 / MCP 2025-11-25 authorization',
      'the challenge must name resource_metadata',
    );
  } else {
    findings.url('RFC 9728 §5.1', 'resource_metadata', params.resource_metadata);
  }
  if (params.scope !== undefined && !params.scope.split(' ').every((s) => SCOPE_TOKEN.test(s))) {
    findings.add('RFC 6750 §3', 'scope must be space-separated scope-tokens');
  }
  return findings.list;
}
