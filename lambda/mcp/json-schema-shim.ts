/**
 * Bundled in place of `@modelcontextprotocol/server/_shims` (an esbuild alias, see
 * `lib/bundle-options.ts`): the same exports without Ajv, about 150 KB of the bundle and 15 ms
 * of its load. The SDK uses the JSON-Schema validator only to check a client's answer to a
 * push-style elicitation, which this stateless server never sends, and in `fromJsonSchema`,
 * which it never calls: tools and prompts are validated with zod. Should anything ask anyway,
 * it is refused, never waved through.
 */
import process from 'node:process';

export class DefaultJsonSchemaValidator {
  getValidator() {
    return () => ({
      valid: false as const,
      data: undefined,
      errorMessage: 'JSON Schema validation is not available in this server',
    });
  }
}

export { process };
