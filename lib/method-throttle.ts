/**
 * Per-method throttles on the API's stage, for the public routes that answer without an
 * authorizer (registration, the OAuth proxy).
 */
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';

/**
 * A method-level throttle on the API's one stage, next to the stage-wide settings McpApi gives
 * it. A method setting does not inherit the stage-wide values (logging, metrics), so they are
 * copied into it.
 */
export function addMethodThrottle(
  api: apigateway.RestApi,
  path: string,
  httpMethod: string,
  rate: number,
  burst: number,
): void {
  const stage = api.deploymentStage.node.defaultChild as apigateway.CfnStage;
  const settings = stage.methodSettings;
  if (settings !== undefined && !Array.isArray(settings)) {
    throw new Error(`${api.node.id}: the stage's method settings are not a plain list`);
  }
  const list = (settings ?? []) as apigateway.CfnStage.MethodSettingProperty[];
  const stageWide = list.find((s) => s.resourcePath === '/*' && s.httpMethod === '*');
  stage.methodSettings = [
    ...list,
    {
      ...stageWide,
      // API Gateway escapes the slashes of a resource path in method settings as ~1.
      resourcePath: `/${path.replaceAll('/', '~1')}`,
      httpMethod,
      throttlingRateLimit: rate,
      throttlingBurstLimit: burst,
    },
  ];
}
