/**
 * The OAuth authorization proxy in front of Cognito (`lambda/oauth-proxy/`): the API is its own
 * authorization server, `GET|POST /authorize`, `GET /callback` and `POST /token` under the API
 * base URL, served by one Lambda, public like the discovery documents (no authorizer: callers
 * have no token yet), each method with its own throttle.
 *
 * What it keeps between steps is sealed with one customer-managed KMS key, each value under
 * its purpose (the encryption context): the key policy lets the proxy's role encrypt and
 * decrypt only for the proxy's purposes and the registration function encrypt only client ids,
 * and nobody else use it outside DynamoDB. Authorization codes and refresh-token families live
 * in DynamoDB tables encrypted with that key, expiring by TTL; the proxy reads the not-before
 * list the authorizer reads, so a sign-out ends a family at its next refresh.
 */
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CODE_TABLE_KEYS } from '../lambda/oauth-proxy/dynamodb-code-store';
import { REFRESH_FAMILY_ATTRIBUTES } from '../lambda/oauth-proxy/dynamodb-refresh-family-store';
import { PURPOSE_CONTEXT_KEY } from '../lambda/oauth-proxy/kms-sealer';
import { SEAL_PURPOSES, type SealPurpose } from '../lambda/oauth-proxy/ports';
import { CORS_MAX_AGE_SECONDS, PUBLIC_CORS_ALLOW_HEADERS } from '../lambda/shared/cors';
import { MAX_CONSENT_REMEMBER_SECONDS, oauthProxyEnvSchema } from '../lambda/shared/env';
import { APPROVAL_PATHS, OAUTH_PATHS } from '../lambda/shared/routes';
import type { ApprovalsTable } from './approvals-table';
import { acknowledgeApiGatewayPermission } from './compliance';
import { McpFunction } from './lambda-function';
import { addMethodThrottle } from './method-throttle';
import type { RevocationsTable } from './revocations-table';

/** The purposes the proxy seals values for itself (it only opens DCR client ids). */
const PROXY_SEAL_PURPOSES = [
  SEAL_PURPOSES.transaction,
  SEAL_PURPOSES.code,
  SEAL_PURPOSES.consent,
  SEAL_PURPOSES.remember,
  SEAL_PURPOSES.refreshFamily,
  SEAL_PURPOSES.approvalSignIn,
  SEAL_PURPOSES.approver,
  SEAL_PURPOSES.approvalForm,
] as const satisfies readonly SealPurpose[];

/** The proxy's routes and methods: one throttle setting each. */
export const OAUTH_PROXY_ROUTES = [
  { path: OAUTH_PATHS.authorize, method: 'GET' },
  { path: OAUTH_PATHS.authorize, method: 'POST' },
  { path: OAUTH_PATHS.callback, method: 'GET' },
  { path: OAUTH_PATHS.token, method: 'POST' },
  { path: APPROVAL_PATHS.page, method: 'GET' },
  { path: APPROVAL_PATHS.page, method: 'POST' },
  { path: APPROVAL_PATHS.callback, method: 'GET' },
] as const;

/** The client people name with `--client-id`: an id the proxy knows without registration. */
export interface PreRegisteredClient {
  readonly clientId: string;
  /** Matched exactly, but for the port of a loopback URI (RFC 8252 section 7.3). */
  readonly redirectUris: readonly string[];
  /** Shown on the consent page. @default the function's default name */
  readonly name?: string;
}

export interface OAuthProxyProps {
  readonly api: apigateway.RestApi;
  /** The API base URL: the issuer, under which the routes are served. */
  readonly baseUrl: string;
  /** The MCP endpoint: the one `resource` (RFC 8707) tokens are issued for. */
  readonly resource: string;
  /** Cognito's hosted-login base URL, `https://<prefix>.auth.<region>.amazoncognito.com`. */
  readonly upstreamDomainUrl: string;
  /** The proxy's public app client at Cognito, whose only callback is {@link OAuthProxy.callbackUrl}. */
  readonly upstreamClientId: string;
  /**
   * That app client's refresh-token validity: a refresh-token family lives as long from the
   * sign-in, after which Cognito would refuse its token anyway.
   */
  readonly upstreamRefreshTokenValidity: Duration;
  /**
   * The not-before list the `users` CLI writes: the proxy reads it (Scan, as the authorizer
   * does) at each refresh, and ends the family of a session a sign-out or disable ended.
   */
  readonly revocations: RevocationsTable;
  readonly preRegisteredClient: PreRegisteredClient;
  /** Scopes a client may ask for. */
  readonly supportedScopes: readonly string[];
  /** Scopes granted when a client asks for none. */
  readonly defaultScopes: readonly string[];
  /** What each scope lets a client do, shown on the consent page. @default names only */
  readonly scopeDescriptions?: Readonly<Record<string, string>>;
  /** Host names a CIMD client id may name. @default any public https host */
  readonly cimdAllowedHosts?: readonly string[];
  /**
   * How long the consent page may remember a person's approval of a client; zero never.
   * @default Duration.days(7)
   */
  readonly consentRemember?: Duration;
  readonly logRetention: logs.RetentionDays;
  /**
   * The approvals table: the proxy serves the approval page beside its consent page, where a
   * person approves or denies a call of theirs. @default none: the page refuses every request
   */
  readonly approvals?: {
    readonly table: ApprovalsTable;
    /** How long an approval waits for its call. */
    readonly approvalTime: Duration;
    /** How old the person's sign-in may be when they approve. */
    readonly signInMaxAge: Duration;
  };
  /** Steady requests per second to each route and method, all callers together. @default 10 */
  readonly throttleRateLimit?: number;
  /** Burst of requests to each route and method, all callers together. @default 20 */
  readonly throttleBurstLimit?: number;
}

const HOST_NAME =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export class OAuthProxy extends Construct {
  readonly handler: McpFunction<typeof oauthProxyEnvSchema>;
  /** Seals transactions, codes, consent and DCR client ids, and encrypts the codes table. */
  readonly key: kms.Key;
  /** Authorization codes, single use, expiring by TTL. */
  readonly codesTable: dynamodb.Table;
  /** Refresh-token families: one item per sign-in, rotated by conditional writes, expiring by TTL. */
  readonly refreshFamiliesTable: dynamodb.Table;
  /** Where Cognito returns the person after consent: one of the upstream app client's callbacks. */
  readonly callbackUrl: string;
  /** Where Cognito returns a person the approval page sent to sign in: the other callback. */
  readonly approvalCallbackUrl: string;
  /** The approval page, where approval URLs point. */
  readonly approvalPageUrl: string;
  /** The authorization endpoint, for the metadata document. */
  readonly authorizationEndpoint: string;
  /** The token endpoint, for the metadata document. */
  readonly tokenEndpoint: string;

  constructor(scope: Construct, id: string, props: OAuthProxyProps) {
    super(scope, id);
    const rate = props.throttleRateLimit ?? 10;
    const burst = props.throttleBurstLimit ?? 20;
    if (!(rate > 0) || !Number.isInteger(burst) || burst < 1) {
      throw new Error(
        `${id}: throttleRateLimit must be above 0 and throttleBurstLimit a whole number of at least 1 (got ${rate}, ${burst})`,
      );
    }
    const rememberSeconds = (props.consentRemember ?? Duration.days(7)).toSeconds();
    if (rememberSeconds > MAX_CONSENT_REMEMBER_SECONDS) {
      throw new Error(
        `${id}: consentRemember can be at most ${MAX_CONSENT_REMEMBER_SECONDS / 86_400} days`,
      );
    }
    const { redirectUris } = props.preRegisteredClient;
    if (redirectUris.length === 0) {
      throw new Error(`${id}: the pre-registered client needs at least one redirect URI`);
    }
    // Joined with commas into one variable and compared at run time: literal, without commas.
    for (const [what, values] of [
      ['redirect URI', redirectUris],
      ['scope', [...props.supportedScopes, ...props.defaultScopes]],
    ] as const) {
      for (const value of values) {
        if (!Token.isUnresolved(value) && value.includes(',')) {
          throw new Error(`${id}: ${what} ${value} must not contain a comma`);
        }
      }
    }
    for (const uri of redirectUris) {
      if (Token.isUnresolved(uri)) {
        throw new Error(`${id}: redirect URI ${uri} must be a literal URL, known at synth time`);
      }
    }
    for (const host of props.cimdAllowedHosts ?? []) {
      if (!HOST_NAME.test(host)) {
        throw new Error(
          `${id}: CIMD host ${host} must be a lower-case host name such as app.example.com`,
        );
      }
    }

    const stack = Stack.of(this);
    this.callbackUrl = `${props.baseUrl}${OAUTH_PATHS.callback}`;
    this.approvalCallbackUrl = `${props.baseUrl}${APPROVAL_PATHS.callback}`;
    this.approvalPageUrl = `${props.baseUrl}${APPROVAL_PATHS.page}`;
    this.authorizationEndpoint = `${props.baseUrl}${OAUTH_PATHS.authorize}`;
    this.tokenEndpoint = `${props.baseUrl}${OAUTH_PATHS.token}`;

    // The key policy names who may use the key for what; the account may administer it but,
    // unlike the default policy, no IAM policy can let anyone else decrypt with it.
    this.key = new kms.Key(this, 'SealingKey', {
      description:
        'Seals OAuth proxy transactions, codes, consent, refresh-token families and DCR client ids of the MCP server; encrypts its tables',
      enableKeyRotation: true,
      // What it sealed lives minutes (codes, transactions) to days (remembered consent, DCR
      // client ids): losing the key signs clients out, nothing more; keep it anyway, so a
      // stack torn down by mistake can be restored.
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'AccountAdministersTheKey',
            principals: [new iam.AccountRootPrincipal()],
            actions: [
              'kms:CancelKeyDeletion',
              'kms:CreateAlias',
              'kms:DeleteAlias',
              'kms:DescribeKey',
              'kms:DisableKey',
              'kms:DisableKeyRotation',
              'kms:EnableKey',
              'kms:EnableKeyRotation',
              'kms:GetKeyPolicy',
              'kms:GetKeyRotationStatus',
              'kms:ListAliases',
              'kms:ListGrants',
              'kms:ListKeyPolicies',
              'kms:ListResourceTags',
              'kms:PutKeyPolicy',
              'kms:RetireGrant',
              'kms:RevokeGrant',
              'kms:RotateKeyOnDemand',
              'kms:ScheduleKeyDeletion',
              'kms:TagResource',
              'kms:UntagResource',
              'kms:UpdateAlias',
              'kms:UpdateKeyDescription',
            ],
            resources: ['*'],
          }),
          // DynamoDB encrypts the codes table with the key on behalf of its callers (the
          // deployment creating it, the proxy reading it): only through DynamoDB, only here.
          new iam.PolicyStatement({
            sid: 'AccountUsesTheKeyThroughDynamoDB',
            principals: [new iam.AccountRootPrincipal()],
            actions: [
              'kms:Decrypt',
              'kms:DescribeKey',
              'kms:Encrypt',
              'kms:GenerateDataKey*',
              'kms:ReEncrypt*',
            ],
            resources: ['*'],
            conditions: {
              StringEquals: {
                'kms:ViaService': `dynamodb.${stack.region}.${stack.urlSuffix}`,
                'kms:CallerAccount': stack.account,
              },
            },
          }),
          new iam.PolicyStatement({
            sid: 'DynamoDBMakesGrantsForTheTable',
            principals: [new iam.AccountRootPrincipal()],
            actions: ['kms:CreateGrant'],
            resources: ['*'],
            conditions: {
              StringEquals: {
                'kms:ViaService': `dynamodb.${stack.region}.${stack.urlSuffix}`,
                'kms:CallerAccount': stack.account,
              },
              Bool: { 'kms:GrantIsForAWSResource': 'true' },
            },
          }),
        ],
      }),
    });

    this.codesTable = new dynamodb.Table(this, 'Codes', {
      partitionKey: { name: CODE_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: CODE_TABLE_KEYS.ttl,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Codes live a minute and are sealed besides: nothing in it outlives the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // What each client's refresh tokens are: digests of the family id and current secret, and
    // the upstream refresh token sealed (purpose refresh-family). Never a usable token.
    this.refreshFamiliesTable = new dynamodb.Table(this, 'RefreshFamilies', {
      partitionKey: {
        name: REFRESH_FAMILY_ATTRIBUTES.partitionKey,
        type: dynamodb.AttributeType.STRING,
      },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: REFRESH_FAMILY_ATTRIBUTES.ttl,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Lost with the stack, every client signs in again: nothing more is lost.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.handler = new McpFunction(this, 'Handler', {
      entry: 'oauth-proxy/index.ts',
      description:
        'OAuth authorization proxy in front of Cognito: CIMD, DCR and pre-registered clients, consent, PKCE',
      serviceName: 'mcp-oauth-proxy',
      envSchema: oauthProxyEnvSchema,
      environment: {
        ISSUER: props.baseUrl,
        RESOURCE: props.resource,
        UPSTREAM_AUTHORIZE_URL: `${props.upstreamDomainUrl}/oauth2/authorize`,
        UPSTREAM_TOKEN_URL: `${props.upstreamDomainUrl}/oauth2/token`,
        UPSTREAM_CLIENT_ID: props.upstreamClientId,
        UPSTREAM_TIMEOUT_MS: '5000',
        PRE_REGISTERED_CLIENT_ID: props.preRegisteredClient.clientId,
        PRE_REGISTERED_REDIRECT_URIS: redirectUris.join(','),
        PRE_REGISTERED_CLIENT_NAME: props.preRegisteredClient.name ?? 'MCP client (pre-registered)',
        SUPPORTED_SCOPES: props.supportedScopes.join(','),
        DEFAULT_SCOPES: props.defaultScopes.join(','),
        // Scope names may be tokens (the resource server's id): resolved inside the JSON.
        SCOPE_DESCRIPTIONS: stack.toJsonString(props.scopeDescriptions ?? {}),
        KMS_KEY_ID: this.key.keyArn,
        CODES_TABLE_NAME: this.codesTable.tableName,
        REFRESH_FAMILIES_TABLE_NAME: this.refreshFamiliesTable.tableName,
        REFRESH_TOKEN_SECONDS: String(props.upstreamRefreshTokenValidity.toSeconds()),
        REVOCATIONS_TABLE_NAME: props.revocations.table.tableName,
        CIMD_ALLOWED_HOSTS: (props.cimdAllowedHosts ?? []).join(','),
        CONSENT_REMEMBER_SECONDS: String(rememberSeconds),
        ...(props.approvals === undefined
          ? {}
          : {
              APPROVALS_TABLE_NAME: props.approvals.table.table.tableName,
              APPROVAL_SECONDS: String(props.approvals.approvalTime.toSeconds()),
              APPROVAL_SIGN_IN_MAX_AGE_SECONDS: String(props.approvals.signInMaxAge.toSeconds()),
            }),
      },
      logRetention: props.logRetention,
      memorySize: 256,
      // A CIMD fetch (5 s at most) and an upstream token call (5 s at most) in one request.
      timeout: Duration.seconds(15),
    });
    const role = this.handler.role;

    // The proxy seals and opens its own values; DCR client ids and approval tickets it only opens.
    this.allowKeyUse(role, 'kms:Encrypt', PROXY_SEAL_PURPOSES, 'ProxySeals');
    this.allowKeyUse(
      role,
      'kms:Decrypt',
      [...PROXY_SEAL_PURPOSES, SEAL_PURPOSES.dcrClient, SEAL_PURPOSES.approvalTicket],
      'ProxyOpens',
    );
    props.approvals?.table.grantDecisions(this.handler.function);
    // Codes: one conditional put, one delete that returns the item. Nothing reads, scans or
    // lists.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [this.codesTable.tableArn],
      }),
    );
    // Families: created with a conditional put, read by key (consistent), rotated and ended
    // with conditional updates. Nothing deletes (TTL does), scans or lists.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [this.refreshFamiliesTable.tableArn],
      }),
    );
    props.revocations.grantReadList(this.handler.function);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [this.key.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.${stack.urlSuffix}` },
        },
      }),
    );

    // --- Routes ----------------------------------------------------------------------------
    const integration = new apigateway.LambdaIntegration(this.handler.function, {
      proxy: true,
      // The console's test button would be a second, unthrottled way in.
      allowTestInvoke: false,
    });
    const resources = new Map<string, apigateway.Resource>();
    const resourceFor = (path: string) => {
      const existing = resources.get(path);
      if (existing !== undefined) return existing;
      const created = props.api.root.addResource(
        path.slice(1),
        // Browser-based clients (MCP Inspector's web UI) redeem codes from their page; the
        // request carries no ambient credential and the answer goes to whoever holds the
        // code and its verifier. /authorize and /callback are navigations: no CORS.
        path === OAUTH_PATHS.token
          ? {
              defaultCorsPreflightOptions: {
                allowOrigins: apigateway.Cors.ALL_ORIGINS,
                allowMethods: ['POST'],
                allowHeaders: [...PUBLIC_CORS_ALLOW_HEADERS],
                maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
              },
            }
          : undefined,
      );
      resources.set(path, created);
      return created;
    };
    for (const route of OAUTH_PROXY_ROUTES) {
      const method = resourceFor(route.path).addMethod(route.method, integration, {
        authorizationType: apigateway.AuthorizationType.NONE,
      });
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'OAuth authorization server endpoint: clients reach it before any token exists, by the MCP authorization spec; the proxy checks client, redirect URI, PKCE and consent itself, and the route is throttled',
      });
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          'OAuth authorization server endpoint in front of Cognito: it is where a Cognito token is obtained, so it cannot require one',
      });
      acknowledgeApiGatewayPermission(method);
      addMethodThrottle(props.api, route.path, route.method, rate, burst);
    }
  }

  /**
   * Let `role` encrypt approval tickets with the key, and nothing else: the MCP function seals
   * the call an approval URL shows, which only the approval page opens.
   */
  allowSealingApprovalTickets(role: iam.IRole): void {
    this.allowKeyUse(role, 'kms:Encrypt', [SEAL_PURPOSES.approvalTicket], 'SealApprovalTickets');
  }

  /**
   * Let `role` encrypt client ids with the key, and nothing else: the registration function
   * mints DCR client ids the proxy opens.
   */
  allowMintingClientIds(role: iam.IRole): void {
    this.allowKeyUse(role, 'kms:Encrypt', [SEAL_PURPOSES.dcrClient], 'MintClientIds');
  }

  /** A key-policy statement: `action` for `role`, under the listed purposes only. */
  private allowKeyUse(
    role: iam.IRole,
    action: 'kms:Encrypt' | 'kms:Decrypt',
    purposes: readonly SealPurpose[],
    sid: string,
  ): void {
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid,
        principals: [role],
        actions: [action],
        resources: ['*'],
        conditions: {
          StringEquals: { [`kms:EncryptionContext:${PURPOSE_CONTEXT_KEY}`]: [...purposes] },
          // The purpose and nothing else: no context key an IAM condition does not see.
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [PURPOSE_CONTEXT_KEY] },
        },
      }),
    );
  }
}
