/**
 * Bench-only variant of the MCP Lambda entry: zod without its generated fast-path parsers
 * (`jitless`), which cost a `new Function` compile on each schema's first parse.
 */
import * as z from 'zod';

z.config({ jitless: true });

export { handler } from '../../../lambda/mcp/index';
