/**
 * The stack as `cdk synth` builds it, from an App's context: one function for `bin/app.ts`
 * (the CDK CLI's entry) and for the local emulator (`tools/local/emulator/`), which synthesizes the
 * same stack into a cloud assembly and serves what it finds there.
 */
import type { App } from 'aws-cdk-lib';
import {
  CONFIG_KEYS,
  ConfigError,
  loadConfig,
  type McpStackConfig,
  unknownConfigKeys,
} from './config';
import { SecureMcpStack, type SecureMcpStackProps } from './secure-mcp-stack';

export interface AddStackOptions {
  /** The stack's environment. @default environment-agnostic, as `cdk synth` without credentials */
  readonly env?: SecureMcpStackProps['env'];
  /** Modules other than the deployment's (a test's own). @default `modules/` */
  readonly modules?: SecureMcpStackProps['modules'];
}

/**
 * Read the configuration from the app's context (refusing unknown keys, which are usually
 * typos) and add the stack. Throws {@link ConfigError} with the `-c` key to fix.
 */
export function addSecureMcpStack(
  app: App,
  options: AddStackOptions = {},
): { stack: SecureMcpStack; config: McpStackConfig } {
  const unknown = unknownConfigKeys(Object.keys(app.node.getAllContext()));
  if (unknown.length > 0) {
    throw new ConfigError(
      `Unknown configuration key(s): ${unknown.map((key) => `-c ${key}`).join(', ')}\n  known keys: ${CONFIG_KEYS.join(', ')}`,
    );
  }
  const config = loadConfig((key) => app.node.tryGetContext(key));
  const stack = new SecureMcpStack(app, config.stackName, {
    config,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.modules === undefined ? {} : { modules: options.modules }),
  });
  return { stack, config };
}
