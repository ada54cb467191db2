/**
 * Builds the real stack for template tests, without bundling (one dedicated test bundles).
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadConfig, type McpStackConfig } from '../../lib/config';
import { SecureMcpStack, type SecureMcpStackProps } from '../../lib/secure-mcp-stack';

export function synthStack(
  overrides: Record<string, unknown> = {},
  options: { bundle?: boolean; modules?: SecureMcpStackProps['modules'] } = {},
) {
  const app = new App({
    context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] },
  });
  const config: McpStackConfig = loadConfig((key) => overrides[key]);
  const stack = new SecureMcpStack(app, 'TestStack', {
    config,
    env: { account: '123456789012', region: 'eu-west-1' },
    ...(options.modules === undefined ? {} : { modules: options.modules }),
  });
  return { app, stack, config, template: Template.fromStack(stack) };
}
