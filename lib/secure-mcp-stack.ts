/**
 * Everything `cdk deploy` creates, composed from one construct per concern.
 */
import { Aspects, CfnOutput, Duration, Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { earlyDenyPolicyOf } from '../lambda/authorizer/early-deny';
import { toolsDeclaringApproval } from '../lambda/mcp/approvals';
import type { McpModule } from '../lambda/mcp/module-kit';
import { destructiveToolNames } from '../lambda/mcp/module-loader';
import { authorizerEnvSchema, mcpEnvSchema } from '../lambda/shared/env';
import { buildPolicyTable, type PolicyTable } from '../lambda/shared/policy';
import { buildQuotaTable, type QuotaRule } from '../lambda/shared/quota';
import { MODULES } from '../modules/index';
import { MODULE_INFRA } from '../modules/infra';
import { POLICY } from '../modules/policy';
import { QUOTA_RULES } from '../modules/quotas';
import { ROLE_PERMISSIONS } from '../modules/roles';
import { ApiKeysSecret } from './api-keys-secret';
import { ApprovalsTable } from './approvals-table';
import { mcpShippedFiles } from './bundle-options';
import { ClientRegistration } from './client-registration';
import { KmsGrantsForAwsServicesOnly } from './compliance';
import { ConfigError, type McpStackConfig } from './config';
import { Identity } from './identity';
import { McpFunction } from './lambda-function';
import { McpApi } from './mcp-api';
import type { ModuleInfra } from './module-infra';
import { configuredThresholds, Monitoring } from './monitoring';
import { advertisedScopes, OAuthDiscovery } from './oauth-discovery';
import { OAuthProxy } from './oauth-proxy';
import { QuotaTable } from './quota-table';
import { RequestStateStore } from './request-state-store';
import { RevocationsTable } from './revocations-table';
import { assertValidRules } from './rules-validation';

export interface SecureMcpStackProps extends StackProps {
  readonly config: McpStackConfig;
  /**
   * The modules whose AWS access the stack creates, their infrastructure and the roles.
   * @default the deployment's: `modules/index.ts`, `modules/infra.ts`, `modules/roles.ts`.
   * A seam for tests that synthesize a module of their own: the MCP function's code always
   * serves `modules/index.ts`, so a deployment changes that list, not this prop.
   */
  readonly modules?: {
    readonly list: readonly McpModule[];
    readonly infra: Readonly<Record<string, ModuleInfra>>;
    readonly roles: Readonly<Record<string, readonly string[]>>;
    /** Per-caller quotas. @default none (the deployment's `modules/quotas.ts` without `modules`) */
    readonly quotas?: readonly QuotaRule[];
  };
}

export class SecureMcpStack extends Stack {
  constructor(scope: Construct, id: string, props: SecureMcpStackProps) {
    super(scope, id, props);
    const { config } = props;
    const modules = props.modules ?? {
      list: MODULES,
      infra: MODULE_INFRA as Readonly<Record<string, ModuleInfra>>,
      roles: ROLE_PERMISSIONS,
      quotas: QUOTA_RULES,
    };
    const policy =
      props.modules === undefined
        ? POLICY
        : buildPolicyTable({ roles: modules.roles, modules: modules.list });
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    Aspects.of(this).add(new KmsGrantsForAwsServicesOnly());
    // The modules' argument rules (Cedar) validate against their items' schemas, or nothing
    // is synthesized; with none, Cedar is neither loaded here nor shipped.
    assertValidRules(modules.list, {
      roles: Object.keys(modules.roles),
      claims: config.ruleClaims,
    });

    // Which tools need a person's approval is the modules' to declare; the deployment may only
    // switch declarations off, by name, and a name that declares none is a mistake.
    const declaring = toolsDeclaringApproval(
      modules.list.map((module) => ({ module, deps: undefined })),
    );
    const stray = config.approvalOff.filter((name) => !declaring.includes(name));
    if (stray.length > 0) {
      throw new ConfigError(
        `Invalid configuration:\n  -c approvalOff=${config.approvalOff.join(',')}: ${stray.join(', ')} declare(s) no approval (tools that do: ${declaring.join(', ') || 'none'})`,
      );
    }

    const identity = new Identity(this, 'Identity', {
      // Cognito returns to the OAuth proxy alone (after consent, and after the approval page's
      // sign-in), whose URLs exist once the API does (below).
      callbackUrls: [
        Lazy.string({ produce: (): string => oauthProxy.callbackUrl }),
        Lazy.string({ produce: (): string => oauthProxy.approvalCallbackUrl }),
      ],
      mfa: config.mfa,
      domainPrefix: config.cognitoDomainPrefix,
      policy,
    });
    const apiKeys = new ApiKeysSecret(this, 'ApiKeys', {
      rotationDays: config.keyRotationDays,
      logRetention,
      operatorRoleArn: config.operatorRoleArn === '' ? undefined : config.operatorRoleArn,
    });
    // The not-before list the `users` and `keys revoke` CLIs write and the authorizer reads.
    const revocations = new RevocationsTable(this, 'Revocations', { userPool: identity.userPool });

    const authorizer = new McpFunction(this, 'Authorizer', {
      entry: 'authorizer/index.ts',
      description: 'MCP API authorizer: Cognito access tokens and API keys',
      serviceName: 'mcp-authorizer',
      envSchema: authorizerEnvSchema,
      environment: {
        USER_POOL_ID: identity.userPool.userPoolId,
        USER_POOL_CLIENT_IDS: identity.client.userPoolClientId,
        REQUIRED_SCOPES: identity.requiredScope,
        API_KEYS_SECRET_ID: apiKeys.secret.secretArn,
        API_KEY_ROLES: Object.keys(policy.roles).join(','),
        REVOCATIONS_TABLE_NAME: revocations.table.tableName,
        // A credential expiring within API Gateway's cache TTL is refused at once (401 with the
        // challenge), so no cached Allow outlives it.
        AUTHORIZER_CACHE_TTL_SECONDS: String(config.authorizerCacheTtlSeconds),
        ...(config.earlyDeny || config.gatewayStepUp
          ? {
              EARLY_DENY_POLICY: earlyDenyEnvironment(
                policy,
                config.earlyDeny ? 'earlyDeny' : 'gatewayStepUp',
              ),
            }
          : {}),
        ...(config.gatewayStepUp ? { GATEWAY_STEP_UP: 'true' } : {}),
        ...(config.ruleClaims.length > 0 ? { RULE_CLAIMS: config.ruleClaims.join(',') } : {}),
      },
      logRetention,
    });
    apiKeys.grantReadKeys(authorizer.function);
    revocations.grantReadList(authorizer.function);

    const server = new McpFunction(this, 'McpServer', {
      entry: 'mcp/index.ts',
      description: 'Stateless MCP server (Streamable HTTP) with RBAC and audit logging',
      serviceName: 'mcp-server',
      envSchema: mcpEnvSchema,
      environment: {
        ALLOWED_ORIGINS: config.allowedOrigins.join(','),
        STREAM_FLUSH_BYTES: String(config.streamFlushBytes),
        RULE_MODE: config.ruleMode,
      },
      logRetention,
      memorySize: 512,
      timeout: Duration.seconds(config.mcpTimeoutSeconds),
      // Cedar's Node build beside the bundle, loaded the first time an item with rules is used.
      shippedFiles: mcpShippedFiles(modules.list),
    });
    // Per-caller quotas, checked against the policy here as the function checks them again.
    const quotaRules = config.enableQuotas
      ? buildQuotaTable(modules.quotas ?? [], policy, destructiveToolNames(modules.list)).rules
      : [];
    const quotas =
      quotaRules.length === 0 ? undefined : new QuotaTable(this, 'Quotas', { rules: quotaRules });
    if (quotas !== undefined) {
      quotas.grantCount(server.function);
      for (const [name, value] of Object.entries(quotas.environment))
        server.function.addEnvironment(name, value);
    }
    // Multi-round request state: sealed and spent alike on every instance.
    const requestState = new RequestStateStore(this, 'RequestState');
    requestState.grantUse(server.function);
    for (const [name, value] of Object.entries(requestState.environment))
      server.function.addEnvironment(name, value);
    // A person's approvals of calls: asked for and spent here, given on the approval page.
    const approvals = new ApprovalsTable(this, 'Approvals');
    approvals.grantRequests(server.function);
    server.function.addEnvironment('APPROVALS_TABLE_NAME', approvals.table.tableName);
    server.function.addEnvironment('APPROVAL_OFF', config.approvalOff.join(','));
    // Each module's AWS access (tables, grants) and the variables its code reads.
    for (const module of modules.list) {
      const infra = modules.infra[module.name];
      if (infra === undefined) {
        throw new Error(
          `Module ${module.name} has no entry in modules/infra.ts (null if it needs no AWS access)`,
        );
      }
      if (infra === null) continue;
      const variables = infra({ scope: this, mcpFunction: server.function });
      for (const [name, value] of Object.entries(variables))
        server.function.addEnvironment(name, value);
    }

    const api = new McpApi(this, 'Api', {
      mcpFunction: server.function,
      authorizerFunction: authorizer.function,
      stageName: config.stageName,
      authorizerCacheTtl: Duration.seconds(config.authorizerCacheTtlSeconds),
      earlyDeny: config.earlyDeny,
      // The challenge of a gateway step-up names every scope: it is one static header.
      stepUpScopes: config.gatewayStepUp
        ? [identity.requiredScope, ...identity.permissionScopes]
        : undefined,
      // The same as the function's: its answer ends (with an error, at worst) before either.
      mcpTimeout: Duration.seconds(config.mcpTimeoutSeconds),
      throttleRateLimit: config.throttleRateLimit,
      throttleBurstLimit: config.throttleBurstLimit,
      allowedOrigins: config.allowedOrigins,
      requiredScope: identity.requiredScope,
      logRetention,
      wafRateLimit: config.enableWaf ? config.wafRateLimit : undefined,
      customDomain:
        config.customDomainName === ''
          ? undefined
          : {
              domainName: config.customDomainName,
              certificateArn: config.customDomainCertificateArn,
              keepExecuteApiEndpoint: config.keepExecuteApiEndpoint,
            },
    });

    // The MCP function answers only requests that name this API (Host), behind API Gateway's
    // own routing by name.
    server.function.addEnvironment('ALLOWED_HOSTS', api.hostNames.join(','));
    // Step-up challenges (403 insufficient_scope) name the scopes and the metadata URL the
    // gateway's 401 names.
    server.function.addEnvironment('RESOURCE_METADATA_URL', api.metadataUrl);
    server.function.addEnvironment('REQUIRED_SCOPE', identity.requiredScope);
    server.function.addEnvironment('PERMISSION_SCOPES', identity.permissionScopes.join(','));

    // The API is its own authorization server in front of Cognito: CIMD, DCR and the
    // pre-registered client, any loopback port, consent. The app client is its upstream, and
    // the pre-registered client people name with --client-id.
    const scopes = advertisedScopes(identity.requiredScope, identity.permissionScopes);
    const oauthProxy = new OAuthProxy(this, 'OAuthProxy', {
      api: api.api,
      baseUrl: api.baseUrl,
      resource: api.endpointUrl,
      upstreamDomainUrl: identity.domain.baseUrl(),
      upstreamClientId: identity.client.userPoolClientId,
      upstreamRefreshTokenValidity: identity.refreshTokenValidity,
      revocations,
      preRegisteredClient: {
        clientId: identity.client.userPoolClientId,
        redirectUris: config.callbackUrls,
      },
      supportedScopes: scopes,
      defaultScopes: [identity.requiredScope],
      scopeDescriptions: identity.scopeDescriptions,
      cimdAllowedHosts: config.cimdAllowedHosts,
      consentRemember: Duration.days(config.consentRememberDays),
      logRetention,
      throttleRateLimit: config.oauthRateLimit,
      throttleBurstLimit: config.oauthBurstLimit,
      approvals: {
        table: approvals,
        approvalTime: Duration.minutes(config.approvalMinutes),
        signInMaxAge: Duration.minutes(config.approvalSignInMaxAgeMinutes),
      },
    });
    // Approval URLs open the proxy's page; their tickets are sealed with its key, which the
    // MCP function may use for that alone.
    oauthProxy.allowSealingApprovalTickets(server.role);
    server.function.addEnvironment('APPROVAL_TICKET_KEY_ID', oauthProxy.key.keyArn);
    server.function.addEnvironment('APPROVAL_PAGE_URL', oauthProxy.approvalPageUrl);

    // RFC 7591 registration: client ids sealed with the proxy's key, which the proxy opens.
    const registration = new ClientRegistration(this, 'ClientRegistration', {
      api: api.api,
      baseUrl: api.baseUrl,
      sealingKey: oauthProxy.key,
      supportedScopes: scopes,
      defaultScopes: [identity.requiredScope],
      logRetention,
      throttleRateLimit: config.registrationRateLimit,
      throttleBurstLimit: config.registrationBurstLimit,
    });
    oauthProxy.allowMintingClientIds(registration.handler.role);

    new OAuthDiscovery(this, 'OAuthDiscovery', {
      api: api.api,
      baseUrl: api.baseUrl,
      resource: api.endpointUrl,
      userPoolId: identity.userPool.userPoolId,
      scope: identity.requiredScope,
      optionalScopes: identity.permissionScopes,
      registrationEndpoint: registration.registrationUrl,
    });

    const monitoring = new Monitoring(this, 'Monitoring', {
      mcpFunction: server.function,
      mcpLogGroup: server.logGroup,
      authorizerFunction: authorizer.function,
      authorizerLogGroup: authorizer.logGroup,
      api: api.api,
      accessLogGroup: api.accessLogGroup,
      toolNames: policy.items.tool.map((tool) => tool.name),
      ...configuredThresholds(config),
      abuseWindow: Duration.minutes(config.abuseWindowMinutes),
      alarmEmail: config.alarmEmail === '' ? undefined : config.alarmEmail,
      refusedRegistrations: registration.refusedRegistrations,
      oauthProxyLogGroup: oauthProxy.handler.logGroup,
      argumentRules: modules.list.some((module) => module.rules !== undefined),
      quotas: quotas !== undefined,
    });

    new CfnOutput(this, 'McpEndpoint', { value: api.endpointUrl, description: 'MCP server URL' });
    // On the execute-api URL every path sits under the stage: the root well-known URIs of RFC
    // 9728 and RFC 8414 cannot be served there (API Gateway answers 403), which some clients
    // need. Said at deploy time, where the URL is handed out.
    new CfnOutput(this, 'ClientSupport', {
      value:
        api.domain === undefined
          ? `execute-api URL: clients that follow the 401's resource_metadata and the issuer's own metadata paths work (the MCP SDK v1 and v2 clients, MCP Inspector); clients that look only at the root /.well-known paths do not, and need -c customDomainName (see docs/clients.md, "Which clients work on the execute-api URL")`
          : 'Custom domain mapped at its root: the root /.well-known paths are served; every MCP client can discover the server from the URL alone',
      description: 'Which MCP clients can discover this server from its URL alone',
    });
    if (api.domain !== undefined) {
      new CfnOutput(this, 'CustomDomainTarget', {
        value: api.domain.domainNameAliasDomainName,
        description: 'Point the custom domain at this name (CNAME, or a Route 53 alias)',
      });
      new CfnOutput(this, 'CustomDomainHostedZoneId', {
        value: api.domain.domainNameAliasHostedZoneId,
        description: 'Hosted zone of CustomDomainTarget, for a Route 53 alias record',
      });
    }
    new CfnOutput(this, 'UserPoolId', { value: identity.userPool.userPoolId });
    new CfnOutput(this, 'AppClientId', {
      value: identity.client.userPoolClientId,
      description:
        'The pre-registered OAuth client id (--client-id), also the OAuth proxy app client at Cognito',
    });
    new CfnOutput(this, 'HostedLoginDomain', { value: identity.domain.baseUrl() });
    new CfnOutput(this, 'RequiredScope', { value: identity.requiredScope });
    new CfnOutput(this, 'ApiKeysSecretArn', { value: apiKeys.secret.secretArn });
    new CfnOutput(this, 'RevocationsTableName', {
      value: revocations.table.tableName,
      description: 'The not-before list: --revocations-table of npm run users and keys revoke',
    });
    new CfnOutput(this, 'RevocationOperatorPolicyArn', {
      value: revocations.operatorPolicy.managedPolicyArn,
      description: 'Attach to the role that runs npm run users and keys revoke',
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${monitoring.dashboard.dashboardName}`,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.alarmTopic.topicArn });
  }
}

/**
 * Lambda allows 4 KB of environment variables in all; the early-deny policy may take most of
 * what the authorizer's other variables leave.
 */
export const MAX_EARLY_DENY_POLICY_BYTES = 3072;

/**
 * The authorizer's `EARLY_DENY_POLICY`: the policy table as the authorizer reads it.
 * @param setting the `-c` setting that needs it, named if the policy does not fit
 */
export function earlyDenyEnvironment(
  policy: PolicyTable,
  setting: 'earlyDeny' | 'gatewayStepUp' = 'earlyDeny',
): string {
  const text = JSON.stringify(earlyDenyPolicyOf(policy));
  if (Buffer.byteLength(text) > MAX_EARLY_DENY_POLICY_BYTES) {
    const remedy =
      setting === 'earlyDeny'
        ? 'leave early deny off'
        : 'turn gateway step-up off (-c gatewayStepUp=false): the MCP function then names the scopes a call lacks in its -32003';
    throw new Error(
      `-c ${setting}=true: the policy takes ${Buffer.byteLength(text)} bytes, more than the ${MAX_EARLY_DENY_POLICY_BYTES} the authorizer's environment has room for; ${remedy}`,
    );
  }
  return text;
}
