#!/usr/bin/env node
/**
 * The CDK app: the only reader of CDK context. Builds one validated config and the stack,
 * with cdk-nag's AwsSolutions checks and AWS Control Tower's proactive controls (cfn-guard)
 * on every synth: an unacknowledged finding fails `npm run synth`.
 */
import { App } from 'aws-cdk-lib';
import { addSecureMcpStack } from '../lib/app';
import { addValidationPlugins } from '../lib/compliance';
import { ConfigError } from '../lib/config';

const app = new App();
try {
  addSecureMcpStack(app, {
    // Environment-agnostic unless the CLI knows the target: synth needs no credentials.
    env:
      process.env.CDK_DEFAULT_ACCOUNT === undefined
        ? undefined
        : { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
addValidationPlugins(app);
