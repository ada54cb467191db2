/**
 * The names the Identity construct gives Cognito that other code must agree with, in a file
 * with no CDK import (the local tools read it): the resource server's identifier, so every
 * scope is `secure-mcp/<name>`.
 */
import { BASE_SCOPE_NAME } from '../lambda/shared/policy';

/** The resource server's identifier: tokens must carry `secure-mcp/tools`. */
export const RESOURCE_SERVER_ID = 'secure-mcp';
export const TOOLS_SCOPE = BASE_SCOPE_NAME;
