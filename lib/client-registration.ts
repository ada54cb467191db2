/**
 * OAuth client registration (RFC 7591) for a Cognito user pool, which has none of its own:
 * `POST <stage>/register`, public like the discovery documents, answered by a small Lambda
 * with the one pre-registered public app client, provided every requested redirect URI is
 * exactly one of that client's callback URLs. Nothing is created per registration, so there
 * is nothing to sprawl and no way to add a redirect. The route has its own low throttle.
 */
import { Duration, Token, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AUDIT_EVENTS, AUDIT_FIELDS, REGISTRATION_OUTCOME } from '../lambda/shared/audit';
import { REGISTER_PATH } from '../lambda/shared/client-registration';
import { CORS_MAX_AGE_SECONDS, PUBLIC_CORS_ALLOW_HEADERS } from '../lambda/shared/cors';
import { registrationEnvSchema } from '../lambda/shared/env';
import { acknowledgeApiGatewayPermission } from './compliance';
import { McpFunction } from './lambda-function';

/** The metric counting refused registrations (namespace {@link REGISTRATION_METRIC_NAMESPACE}). */
export const REFUSED_REGISTRATIONS_METRIC = 'RefusedClientRegistrations';
export const REGISTRATION_METRIC_NAMESPACE = 'SecureMcp';

export interface ClientRegistrationProps {
  readonly api: apigateway.RestApi;
  /** The stage URL the endpoint is served under (the advertised issuer). */
  readonly baseUrl: string;
  /** The pre-registered public app client every registration is answered with. */
  readonly clientId: string;
  /** That app client's callback URLs: the only redirect URIs a client can register. */
  readonly callbackUrls: readonly string[];
  /** Scopes a client may name. */
  readonly supportedScopes: readonly string[];
  /** Scopes answered when a client names none. */
  readonly defaultScopes: readonly string[];
  readonly logRetention: logs.RetentionDays;
  /** Steady requests per second to `POST /register`, all callers together. @default 1 */
  readonly throttleRateLimit?: number;
  /** Burst of requests to `POST /register`, all callers together. @default 5 */
  readonly throttleBurstLimit?: number;
}

export class ClientRegistration extends Construct {
  /** The registration endpoint, for `registration_endpoint` in the server metadata. */
  readonly registrationUrl: string;
  readonly handler: McpFunction<typeof registrationEnvSchema>;
  /** Refused registrations per period, from the audit log. */
  readonly refusedRegistrations: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: ClientRegistrationProps) {
    super(scope, id);
    const rate = props.throttleRateLimit ?? 1;
    const burst = props.throttleBurstLimit ?? 5;
    if (!(rate > 0) || !Number.isInteger(burst) || burst < 1) {
      throw new Error(
        `${id}: throttleRateLimit must be above 0 and throttleBurstLimit a whole number of at least 1 (got ${rate}, ${burst})`,
      );
    }
    if (props.callbackUrls.length === 0) {
      throw new Error(`${id}: callbackUrls must list at least one URL, or no client can register`);
    }
    for (const url of props.callbackUrls) {
      // Compared character for character at run time, so they must be known now.
      if (Token.isUnresolved(url) || url.includes(',')) {
        throw new Error(`${id}: callback URL ${url} must be a literal URL without commas`);
      }
    }

    this.handler = new McpFunction(this, 'Handler', {
      entry: 'registration/index.ts',
      description: 'OAuth client registration (RFC 7591): answers with the pre-registered client',
      serviceName: 'mcp-client-registration',
      envSchema: registrationEnvSchema,
      environment: {
        CLIENT_ID: props.clientId,
        CALLBACK_URLS: props.callbackUrls.join(','),
        SUPPORTED_SCOPES: props.supportedScopes.join(','),
        DEFAULT_SCOPES: props.defaultScopes.join(','),
      },
      logRetention: props.logRetention,
      memorySize: 128,
      timeout: Duration.seconds(5),
    });

    const resource = props.api.root.addResource(REGISTER_PATH.slice(1), {
      // Browser-based clients (MCP Inspector's web UI) register from the page: any origin may,
      // since the request carries no credential and the answer holds no secret.
      defaultCorsPreflightOptions: {
        allowOrigins: apigateway.Cors.ALL_ORIGINS,
        allowMethods: ['POST'],
        allowHeaders: [...PUBLIC_CORS_ALLOW_HEADERS],
        maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
      },
    });
    const method = resource.addMethod(
      'POST',
      // No second permission for the console's test-invoke stage.
      new apigateway.LambdaIntegration(this.handler.function, {
        proxy: true,
        allowTestInvoke: false,
      }),
      { authorizationType: apigateway.AuthorizationType.NONE },
    );
    acknowledgeApiGatewayPermission(method);
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'OAuth client registration (RFC 7591): clients register before any token exists; it only ever answers the pre-registered public client for redirect URIs Cognito already allows, and is throttled',
    });
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'OAuth client registration is public by the MCP authorization spec; it creates nothing in Cognito and cannot widen the app client callback URLs',
    });
    this.addMethodThrottle(props.api, 'POST', rate, burst);
    this.registrationUrl = `${props.baseUrl}${REGISTER_PATH}`;

    const F = AUDIT_FIELDS;
    const metricFilter = new logs.MetricFilter(this, 'RefusedFilter', {
      logGroup: this.handler.logGroup,
      filterPattern: logs.FilterPattern.all(
        logs.FilterPattern.stringValue(`$.${F.event}`, '=', AUDIT_EVENTS.clientRegistration),
        logs.FilterPattern.stringValue(`$.${F.outcome}`, '=', REGISTRATION_OUTCOME.refused),
      ),
      metricNamespace: REGISTRATION_METRIC_NAMESPACE,
      metricName: REFUSED_REGISTRATIONS_METRIC,
      metricValue: '1',
      defaultValue: 0,
      unit: cloudwatch.Unit.COUNT,
    });
    this.refusedRegistrations = metricFilter.metric({ statistic: 'Sum' });
  }

  /**
   * A method-level throttle on the API's one stage, next to the stage-wide settings McpApi
   * gives it. A method setting does not inherit the stage-wide values (logging, metrics), so
   * they are copied into it.
   */
  private addMethodThrottle(
    api: apigateway.RestApi,
    httpMethod: string,
    rate: number,
    burst: number,
  ): void {
    const stage = api.deploymentStage.node.defaultChild as apigateway.CfnStage;
    const settings = stage.methodSettings;
    if (settings !== undefined && !Array.isArray(settings)) {
      throw new Error(`${this.node.id}: the stage's method settings are not a plain list`);
    }
    const list = (settings ?? []) as apigateway.CfnStage.MethodSettingProperty[];
    const stageWide = list.find((s) => s.resourcePath === '/*' && s.httpMethod === '*');
    stage.methodSettings = [
      ...list,
      {
        ...stageWide,
        // API Gateway escapes the slashes of a resource path in method settings as ~1.
        resourcePath: `/${REGISTER_PATH.replaceAll('/', '~1')}`,
        httpMethod,
        throttlingRateLimit: rate,
        throttlingBurstLimit: burst,
      },
    ];
  }
}
