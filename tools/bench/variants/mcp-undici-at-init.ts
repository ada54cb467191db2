/**
 * Bench-only variant of the MCP Lambda entry: Node's fetch/web-streams implementation (undici)
 * loaded during init instead of on the first request (the SDK answers with a web `Response`,
 * so it is loaded either way). Measures what moving it into init does.
 */
void globalThis.Response;

export { handler } from '../../../lambda/mcp/index';
