/**
 * The OAuth discovery documents MCP clients read (MCP 2025-11-25 authorization): one builder
 * each, used by the local authorization server and by the CDK stack that serves them in AWS.
 */

/** Where protected-resource metadata is served (RFC 9728), relative to the API base. */
export const PROTECTED_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';
/** Where authorization-server metadata is served (RFC 8414), relative to the issuer. */
export const AUTHORIZATION_SERVER_METADATA_PATH = '/.well-known/oauth-authorization-server';

/** RFC 9728 protected-resource metadata of the MCP endpoint. */
export function protectedResourceMetadata(options: {
  /** The exact MCP URL, no trailing slash. */
  readonly resource: string;
  readonly authorizationServers: readonly string[];
  readonly scopes: readonly string[];
  readonly resourceName?: string;
}) {
  return {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    scopes_supported: [...options.scopes],
    bearer_methods_supported: ['header'],
    ...(options.resourceName === undefined ? {} : { resource_name: options.resourceName }),
  };
}

/**
 * RFC 8414 metadata of the OAuth proxy (`lambda/oauth-proxy/`), this server's authorization
 * server in front of Cognito: public clients only, PKCE S256, `iss` in every authorization
 * response (RFC 9207), clients identified by a Client ID Metadata Document URL, by dynamic
 * registration (RFC 7591) or as the pre-registered client.
 */
export function authorizationServerMetadata(options: {
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly registrationEndpoint?: string;
  readonly revocationEndpoint?: string;
  readonly scopes: readonly string[];
}) {
  return {
    issuer: options.issuer,
    authorization_endpoint: options.authorizationEndpoint,
    token_endpoint: options.tokenEndpoint,
    ...(options.registrationEndpoint === undefined
      ? {}
      : { registration_endpoint: options.registrationEndpoint }),
    ...(options.revocationEndpoint === undefined
      ? {}
      : { revocation_endpoint: options.revocationEndpoint }),
    scopes_supported: [...options.scopes],
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none'],
    code_challenge_methods_supported: ['S256'],
    // RFC 9207: every authorization response, error redirects included, carries `iss`, and
    // clients that see this must check it.
    authorization_response_iss_parameter_supported: true,
    // MCP 2026-07-28: a client may use the URL of its metadata document as its client_id.
    client_id_metadata_document_supported: true,
  };
}
