/** The MCP endpoint's resource path, as API Gateway and the local gateway route it. */
export const MCP_PATH = '/mcp';

/**
 * The resource paths an authenticated principal may reach. The authorizer's Allow policy
 * covers every method on each of them, so a cached policy is valid for any route the caller
 * can use (API Gateway caches one policy per identity source, not per route).
 */
export const PROTECTED_PATHS = [MCP_PATH] as const;

/**
 * The public OAuth routes of the authorization server in front of Cognito, relative to the
 * API base URL (the issuer): one list for API Gateway's routes, the WAF rules, the local
 * gateway and the metadata document.
 */
export const OAUTH_PATHS = {
  /** Authorization request (GET) and the consent form's answer (POST). */
  authorize: '/authorize',
  /** Where the upstream authorization server (Cognito's hosted login) returns. */
  callback: '/callback',
  /** Token endpoint: authorization code and refresh token grants. */
  token: '/token',
  /** RFC 7591 dynamic client registration. */
  register: '/register',
} as const;

/**
 * The approval page, served by the OAuth proxy beside its consent page (public, like it: the
 * person proves who they are by signing in there), relative to the API base URL.
 */
export const APPROVAL_PATHS = {
  /** The page a call's approval URL opens (GET), and the person's answer (POST). */
  page: '/approve',
  /** Where the upstream sign-in returns a person the page sent to sign in. */
  callback: '/approval-callback',
} as const;
