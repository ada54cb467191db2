#!/usr/bin/env node
/**
 * The CDK app: the only reader of CDK context. Builds one validated config and the stack,
 * with cdk-nag's AwsSolutions checks and AWS Control Tower's proactive controls (cfn-guard)
 * on every synth: an unacknowledged finding fails `npm run synth`.
 */
import { App } from 'aws-cdk-lib';
import { addValidationPlugins } from '../lib/compliance';
import { CONFIG_KEYS, ConfigError, loadConfig, unknownConfigKeys } from '../lib/config';
import { SecureMcpStack } from '../lib/secure-mcp-stack';

const app = new App();
let config: ReturnType<typeof loadConfig>;
try {
  const unknown = unknownConfigKeys(Object.keys(app.node.getAllContext()));
  if (unknown.length > 0) {
    throw new ConfigError(
      `Unknown configuration key(s): ${unknown.map((key) => `-c ${key}`).join(', ')}\n  known keys: ${CONFIG_KEYS.join(', ')}`,
    );
  }
  config = loadConfig((key) => app.node.tryGetContext(key));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

new SecureMcpStack(app, config.stackName, {
  config,
  // Environment-agnostic unless the CLI knows the target: synth needs no credentials.
  env:
    process.env.CDK_DEFAULT_ACCOUNT === undefined
      ? undefined
      : { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
addValidationPlugins(app);
