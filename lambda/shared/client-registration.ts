/**
 * OAuth 2.0 Dynamic Client Registration (RFC 7591) that stores nothing: one pure validator,
 * used by the registration Lambda and by local mode (loopback redirect URIs only there).
 *
 * The client id a registration is answered with is the validated metadata itself, sealed by
 * the server's key (`lambda/oauth-proxy/clients.ts`, purpose `dcr-client`): only this server
 * can mint one, it carries the redirect URIs it was checked with, and no table grows however
 * many registrations an unauthenticated caller sends. What such a client may then do is the
 * OAuth proxy's decision: its redirect URIs are matched, and a person approves it on the
 * consent page (its name marked as unverified) before anything is sent to it.
 *
 * Field decisions (RFC 7591 section 2):
 * - `redirect_uris`: required, 1 to {@link MAX_REDIRECT_URIS} printable-ASCII absolute URLs
 *   without fragment or user info, https or plain http on a loopback host, each then allowed
 *   by the server's policy; any failure is `invalid_redirect_uri`.
 * - `token_endpoint_auth_method`: `none` only (public clients with PKCE); answered `none` when
 *   omitted, as RFC 7591 section 3.2.1 lets the server replace a value.
 * - `grant_types`: a subset of `authorization_code` and `refresh_token` that includes
 *   `authorization_code`; answered with those of them the server issues.
 * - `response_types`: `code` only.
 * - `scope`: space-separated scopes the server supports; the default scope when omitted.
 * - `client_name`: 1 to {@link MAX_CLIENT_NAME_LENGTH} characters, no control or bidi-override
 *   characters; echoed back.
 * - `client_uri`, `logo_uri`, `tos_uri`, `policy_uri`: https URLs if present; checked, not
 *   registered (nothing here shows them to anyone) and so not echoed.
 * - `contacts`, `software_id`, `software_version`: bounded strings; checked, not registered.
 * - Anything else (`jwks`, `software_statement`, localized `client_name#fr`, ...) is ignored,
 *   as section 2 requires of unknown fields; the caller bounds the body's size.
 *
 * Error descriptions name the field (and index), never the value sent: nothing an attacker
 * writes is reflected back or into the logs.
 */

/** The registration endpoint's path, relative to the API base (and the local issuer). */
export const REGISTER_PATH = '/register';
/** The largest registration request body accepted, in bytes. */
export const MAX_REGISTRATION_BODY_BYTES = 16 * 1024;
export const MAX_REDIRECT_URIS = 10;
export const MAX_URI_LENGTH = 2048;
export const MAX_CLIENT_NAME_LENGTH = 100;
export const MAX_CONTACTS = 10;
const MAX_SHORT_STRING_LENGTH = 255;
const MAX_SCOPE_LENGTH = 1024;

/** The grant types a public client may register; the server answers those it issues. */
export const KNOWN_GRANT_TYPES = ['authorization_code', 'refresh_token'] as const;
export type GrantType = (typeof KNOWN_GRANT_TYPES)[number];

/** The RFC 7591 section 3.2.2 error codes this validator answers with. */
export const REGISTRATION_ERRORS = {
  invalidRedirectUri: 'invalid_redirect_uri',
  invalidClientMetadata: 'invalid_client_metadata',
} as const;
export type RegistrationErrorCode = (typeof REGISTRATION_ERRORS)[keyof typeof REGISTRATION_ERRORS];

/** The metadata fields a refusal can name: a bounded set, safe as an audit field. */
export const REGISTRATION_FIELDS = [
  'body',
  'redirect_uris',
  'token_endpoint_auth_method',
  'grant_types',
  'response_types',
  'scope',
  'client_name',
  'client_uri',
  'logo_uri',
  'tos_uri',
  'policy_uri',
  'contacts',
  'software_id',
  'software_version',
] as const;
export type RegistrationField = (typeof REGISTRATION_FIELDS)[number];

/** An OAuth error answer (RFC 6749 section 5.2, RFC 7591 section 3.2.2). */
export class OAuthError extends Error {
  override readonly name: string = 'OAuthError';
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
    options?: ErrorOptions,
  ) {
    super(description, options);
  }

  /** The JSON body of the error response. */
  toBody(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/** A refused registration: the RFC 7591 error code and the field at fault. */
export class ClientRegistrationError extends OAuthError {
  override readonly name = 'ClientRegistrationError';
  constructor(
    override readonly error: RegistrationErrorCode,
    readonly field: RegistrationField,
    description: string,
  ) {
    super(error, description, 400);
  }
}

/** What the server allows a registration to name. */
export interface RegistrationPolicy {
  /** Whether a (well-formed) redirect URI may be registered: the security decision. */
  readonly allowRedirectUri: (uri: string) => boolean;
  /** Scopes a client may name. */
  readonly supportedScopes: readonly string[];
  /** The scopes answered when a client names none. */
  readonly defaultScopes: readonly string[];
  /**
   * Grant types the server issues, `authorization_code` among them; a client is answered with
   * those of its requested ones that are here.
   */
  readonly grantTypes: readonly GrantType[];
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
}

/** A registration that passed every check: what is sealed into the client id and echoed. */
export interface ValidatedRegistration {
  readonly client_id_issued_at: number;
  readonly redirect_uris: string[];
  readonly token_endpoint_auth_method: 'none';
  readonly grant_types: GrantType[];
  readonly response_types: ['code'];
  readonly scope: string;
  readonly client_name?: string;
}

/** The RFC 7591 section 3.2.1 answer: the client as registered. No secret: it is public. */
export interface RegisteredClient extends ValidatedRegistration {
  readonly client_id: string;
}

/** Loopback hosts, where plain http stays on the machine (RFC 8252 section 7.3). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
}

/** Visible ASCII, no space: the other characters a URI needs are percent-encoded. */
const URI_CHARACTERS = /^[!-~]+$/;
/** RFC 6749 section 3.3 scope-token. */
const SCOPE_TOKEN = /^[!#-[\]-~]+$/;

/** C0 and C1 controls, DEL, line and paragraph separators, bidi overrides and isolates, BOM. */
export function hasUnsafeCharacter(value: string): boolean {
  for (const character of value) {
    const code = character.codePointAt(0) as number;
    if (
      code < 0x20 ||
      (code >= 0x7f && code <= 0x9f) ||
      code === 0x2028 ||
      code === 0x2029 ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069) ||
      code === 0xfeff
    ) {
      return true;
    }
  }
  return false;
}

function metadataError(field: RegistrationField, description: string): ClientRegistrationError {
  return new ClientRegistrationError(REGISTRATION_ERRORS.invalidClientMetadata, field, description);
}

function redirectError(description: string): ClientRegistrationError {
  return new ClientRegistrationError(
    REGISTRATION_ERRORS.invalidRedirectUri,
    'redirect_uris',
    description,
  );
}

/**
 * A URI as a client sends it: visible ASCII, bounded, absolute, no fragment, no user info.
 * Returns the parsed URL, or what is wrong with it (never the value itself).
 */
function parseUri(value: unknown): URL | string {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > MAX_URI_LENGTH) return `must be at most ${MAX_URI_LENGTH} characters`;
  if (!URI_CHARACTERS.test(value)) return 'must be visible ASCII with no spaces (percent-encode)';
  if (value.includes('#')) return 'must not have a fragment';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not carry user info';
  return url;
}

/**
 * What is wrong with a redirect URI, or `undefined`: absolute, visible ASCII, no fragment or
 * user info, https (plain http only on a loopback host), and written the one way a URL parser
 * writes it, so that no two spellings (`HTTP://`, `\\`, `127.1`, a missing `/`) can mean one URL.
 * The deployment's callback URLs are held to the same rule (lib/config.ts).
 */
export function redirectUriProblem(uri: unknown): string | undefined {
  const url = parseUri(uri);
  if (typeof url === 'string') return url;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return 'must use https (plain http only on a loopback host)';
  }
  if (url.href !== uri) return `must be written in canonical form (${url.href.slice(0, 100)})`;
  return undefined;
}

function checkRedirectUris(value: unknown, allow: (uri: string) => boolean): string[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.length > MAX_REDIRECT_URIS ||
    value.some((uri) => typeof uri !== 'string')
  ) {
    throw redirectError(`redirect_uris must list 1 to ${MAX_REDIRECT_URIS} URI strings`);
  }
  const uris = value as string[];
  uris.forEach((uri, index) => {
    const problem = redirectUriProblem(uri);
    if (problem !== undefined) throw redirectError(`redirect_uris[${index}] ${problem}`);
  });
  uris.forEach((uri, index) => {
    if (!allow(uri)) {
      throw redirectError(
        `redirect_uris[${index}] is not a redirect URI this server allows; ask its operator to add it`,
      );
    }
  });
  return [...uris];
}

/** A string of 1 to `max` characters with no control or bidi-override characters. */
function checkText(value: unknown, field: RegistrationField, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || [...value].length > max) {
    throw metadataError(field, `${field} must be a string of 1 to ${max} characters`);
  }
  if (hasUnsafeCharacter(value)) {
    throw metadataError(field, `${field} must not contain control or bidi-override characters`);
  }
  return value;
}

function optionalText(
  metadata: Record<string, unknown>,
  field: RegistrationField,
  max: number,
): string | undefined {
  const value = metadata[field];
  return value === undefined ? undefined : checkText(value, field, max);
}

function checkInformationUri(metadata: Record<string, unknown>, field: RegistrationField): void {
  const value = metadata[field];
  if (value === undefined) return;
  const url = parseUri(value);
  if (typeof url === 'string') throw metadataError(field, `${field} ${url}`);
  if (url.protocol !== 'https:') throw metadataError(field, `${field} must use https`);
}

/** An optional array of strings drawn from `allowed`, deduplicated. */
function optionalList<T extends string>(
  metadata: Record<string, unknown>,
  field: RegistrationField,
  allowed: readonly T[],
): T[] | undefined {
  const value = metadata[field];
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.some((item) => !(allowed as readonly unknown[]).includes(item))
  ) {
    throw metadataError(field, `${field} may only list ${allowed.join(', ')}`);
  }
  return [...new Set(value as T[])];
}

function checkScope(metadata: Record<string, unknown>, policy: RegistrationPolicy): string[] {
  const value = metadata.scope;
  if (value === undefined) return [...policy.defaultScopes];
  if (typeof value !== 'string' || value.length > MAX_SCOPE_LENGTH) {
    throw metadataError(
      'scope',
      `scope must be a string of at most ${MAX_SCOPE_LENGTH} characters`,
    );
  }
  const scopes = value.split(' ').filter((scope) => scope !== '');
  if (scopes.length === 0 || scopes.some((scope) => !SCOPE_TOKEN.test(scope))) {
    throw metadataError('scope', 'scope must be space-separated scope tokens');
  }
  const unsupported = scopes.filter((scope) => !policy.supportedScopes.includes(scope)).length;
  if (unsupported > 0) {
    throw metadataError(
      'scope',
      `scope names ${unsupported} scope(s) this server does not support; see scopes_supported in its metadata`,
    );
  }
  return [...new Set(scopes)];
}

/**
 * Validate an RFC 7591 registration request: the client as it will be registered, but for
 * its id (which the caller mints from this).
 * @param body the parsed JSON body
 * @throws ClientRegistrationError with `invalid_redirect_uri` or `invalid_client_metadata`
 */
export function validateRegistration(
  body: unknown,
  policy: RegistrationPolicy,
): ValidatedRegistration {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw metadataError('body', 'The body must be a JSON object of client metadata');
  }
  const metadata = body as Record<string, unknown>;
  const redirectUris = checkRedirectUris(metadata.redirect_uris, policy.allowRedirectUri);

  const authMethod = metadata.token_endpoint_auth_method;
  if (authMethod !== undefined && authMethod !== 'none') {
    throw metadataError(
      'token_endpoint_auth_method',
      'Only public clients are supported: token_endpoint_auth_method must be "none" (use PKCE)',
    );
  }
  const grantTypes = optionalList(metadata, 'grant_types', KNOWN_GRANT_TYPES);
  if (grantTypes !== undefined && !grantTypes.includes('authorization_code')) {
    throw metadataError('grant_types', 'grant_types must include authorization_code');
  }
  const responseTypes = optionalList(metadata, 'response_types', ['code']);
  if (responseTypes !== undefined && responseTypes.length === 0) {
    throw metadataError('response_types', 'response_types must list code');
  }
  const scopes = checkScope(metadata, policy);
  const clientName = optionalText(metadata, 'client_name', MAX_CLIENT_NAME_LENGTH);
  for (const field of ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const) {
    checkInformationUri(metadata, field);
  }
  const contacts = metadata.contacts;
  if (contacts !== undefined) {
    if (!Array.isArray(contacts) || contacts.length > MAX_CONTACTS) {
      throw metadataError('contacts', `contacts must be an array of at most ${MAX_CONTACTS}`);
    }
    for (const contact of contacts) checkText(contact, 'contacts', MAX_SHORT_STRING_LENGTH);
  }
  optionalText(metadata, 'software_id', MAX_SHORT_STRING_LENGTH);
  optionalText(metadata, 'software_version', MAX_SHORT_STRING_LENGTH);

  return {
    client_id_issued_at: Math.floor((policy.now ?? Date.now)() / 1000),
    redirect_uris: redirectUris,
    token_endpoint_auth_method: 'none',
    // The requested grant types the server issues (it may replace values, section 3.2.1).
    grant_types: (grantTypes ?? policy.grantTypes).filter((grant) =>
      policy.grantTypes.includes(grant),
    ),
    response_types: ['code'],
    scope: scopes.join(' '),
    ...(clientName === undefined ? {} : { client_name: clientName }),
  };
}

/** What the audit log may say about a registration request: counts, never values. */
export function describeRegistrationRequest(body: unknown): {
  redirectUriCount?: number;
  clientNameLength?: number;
} {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const { redirect_uris: uris, client_name: name } = body as Record<string, unknown>;
  return {
    redirectUriCount: Array.isArray(uris) ? uris.length : undefined,
    clientNameLength: typeof name === 'string' ? [...name].length : undefined,
  };
}
