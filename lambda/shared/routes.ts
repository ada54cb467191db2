/** The MCP endpoint's resource path, as API Gateway and the local gateway route it. */
export const MCP_PATH = '/mcp';

/**
 * The resource paths an authenticated principal may reach. The authorizer's Allow policy
 * covers every method on each of them, so a cached policy is valid for any route the caller
 * can use (API Gateway caches one policy per identity source, not per route).
 */
export const PROTECTED_PATHS = [MCP_PATH] as const;
