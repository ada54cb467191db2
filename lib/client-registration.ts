/**
 * OAuth client registration (RFC 7591) for the OAuth proxy in front of Cognito, which has none
 * of its own: `POST <stage>/register`, public like the discovery documents, answered by a small
 * Lambda whose client ids are the validated metadata sealed with a KMS key (encryption context
 * `purpose=dcr-client`). Nothing is stored per registration, so there is nothing to sprawl;
 * what such a client may do is the proxy's decision (its redirect URIs are matched, and a
 * person approves it on the consent page). The route has its own low throttle.
 */
import { Duration, Token, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PURPOSE_CONTEXT_KEY } from '../lambda/oauth-proxy/kms-sealer';
import { SEAL_PURPOSES } from '../lambda/oauth-proxy/ports';
import { AUDIT_EVENTS, AUDIT_FIELDS, REGISTRATION_OUTCOME } from '../lambda/shared/audit';
import { REGISTER_PATH } from '../lambda/shared/client-registration';
import { CORS_MAX_AGE_SECONDS, PUBLIC_CORS_ALLOW_HEADERS } from '../lambda/shared/cors';
import { registrationEnvSchema } from '../lambda/shared/env';
import { acknowledgeApiGatewayPermission } from './compliance';
import { McpFunction } from './lambda-function';
import { addMethodThrottle } from './method-throttle';

/** The metric counting refused registrations (namespace {@link REGISTRATION_METRIC_NAMESPACE}). */
export const REFUSED_REGISTRATIONS_METRIC = 'RefusedClientRegistrations';
export const REGISTRATION_METRIC_NAMESPACE = 'SecureMcp';

export interface ClientRegistrationProps {
  readonly api: apigateway.RestApi;
  /** The stage URL the endpoint is served under (the advertised issuer). */
  readonly baseUrl: string;
  /**
   * The key sealing client ids; the OAuth proxy opens them with the same key.
   * @default a new key with yearly rotation, exposed as `sealingKey`
   */
  readonly sealingKey?: kms.IKey;
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
  /** The key the client ids are sealed with (give it to the OAuth proxy). */
  readonly sealingKey: kms.IKey;
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
    for (const scope of [...props.supportedScopes, ...props.defaultScopes]) {
      if (!Token.isUnresolved(scope) && scope.includes(',')) {
        throw new Error(`${id}: scope ${scope} must not contain a comma`);
      }
    }
    this.sealingKey =
      props.sealingKey ??
      new kms.Key(this, 'SealingKey', {
        description: 'Seals OAuth client registrations, transactions and codes of the MCP server',
        enableKeyRotation: true,
      });

    this.handler = new McpFunction(this, 'Handler', {
      entry: 'registration/index.ts',
      description:
        'OAuth client registration (RFC 7591): client ids sealed with KMS, nothing stored',
      serviceName: 'mcp-client-registration',
      envSchema: registrationEnvSchema,
      environment: {
        KMS_KEY_ID: this.sealingKey.keyArn,
        SUPPORTED_SCOPES: props.supportedScopes.join(','),
        DEFAULT_SCOPES: props.defaultScopes.join(','),
      },
      logRetention: props.logRetention,
      memorySize: 128,
      timeout: Duration.seconds(5),
    });

    // Encrypt only, and only for the one purpose: the function cannot open anything.
    this.handler.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Encrypt'],
        resources: [this.sealingKey.keyArn],
        conditions: {
          StringEquals: {
            [`kms:EncryptionContext:${PURPOSE_CONTEXT_KEY}`]: SEAL_PURPOSES.dcrClient,
          },
        },
      }),
    );

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
        'OAuth client registration (RFC 7591): clients register before any token exists; it stores nothing (the client id is the sealed metadata), and is throttled',
    });
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'OAuth client registration is public by the MCP authorization spec; it creates nothing in Cognito, and a registered client still needs a person’s consent at the OAuth proxy',
    });
    addMethodThrottle(props.api, REGISTER_PATH, 'POST', rate, burst);
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
}
