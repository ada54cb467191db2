/**
 * The OAuthProxy construct: its Lambda and the variables it parses, the public routes with their
 * throttles and the one CORS preflight, the KMS key whose policy lets each role seal only for its
 * purposes, the codes table, and the wiring that makes the metadata, Cognito and the proxy agree.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { CODE_TABLE_KEYS } from '../../../lambda/oauth-proxy/dynamodb-code-store';
import { REFRESH_FAMILY_ATTRIBUTES } from '../../../lambda/oauth-proxy/dynamodb-refresh-family-store';
import { SEAL_PURPOSES } from '../../../lambda/oauth-proxy/ports';
import { PUBLIC_CORS_ALLOW_HEADERS } from '../../../lambda/shared/cors';
import { oauthProxyEnvSchema } from '../../../lambda/shared/env';
import { APPROVAL_PATHS, OAUTH_PATHS } from '../../../lambda/shared/routes';
import { ApprovalsTable } from '../../../lib/approvals-table';
import { DEFAULT_CALLBACK_URLS } from '../../../lib/config';
import { OAUTH_PROXY_ROUTES, OAuthProxy, type OAuthProxyProps } from '../../../lib/oauth-proxy';
import { RevocationsTable } from '../../../lib/revocations-table';
import { synthStack } from '../../support/stack-fixture';
import {
  actionsOf,
  functionOf,
  onlyId,
  type Properties,
  type Resource,
  render,
  resourcesOf,
  roleStatements,
  type Statement,
} from '../../support/template-helpers';

/** The key policy of the one KMS key whose description names the OAuth proxy. */
function sealingKey(template: Template) {
  const keys = Object.entries(resourcesOf(template, 'AWS::KMS::Key')).filter(([, key]) =>
    String(key.Properties.Description).includes('OAuth proxy'),
  );
  expect(keys).toHaveLength(1);
  const [id, key] = keys[0] as [string, Resource];
  return {
    id,
    properties: key.Properties,
    statements: (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement,
  };
}

/** Statements of the key policy naming `role` as their principal. */
function keyStatementsFor(statements: Statement[], role: string): Statement[] {
  return statements.filter((statement) =>
    JSON.stringify(statement.Principal).includes(`"${role}"`),
  );
}

describe('OAuthProxy in the stack', () => {
  const { stack, template } = synthStack();
  const proxy = functionOf(template, 'mcp-oauth-proxy');
  const registration = functionOf(template, 'mcp-client-registration');
  const authorizer = functionOf(template, 'mcp-authorizer');
  const key = sealingKey(template);
  const construct = stack.node.findAll().find((c): c is OAuthProxy => c instanceof OAuthProxy);
  if (construct === undefined) throw new Error('The stack has no OAuthProxy');
  const logicalId = (table: dynamodb.Table) =>
    stack.getLogicalId(table.node.defaultChild as dynamodb.CfnTable);
  const table = logicalId(construct.codesTable);
  const familiesTable = logicalId(construct.refreshFamiliesTable);
  const revocations = stack.node
    .findAll()
    .find((c): c is RevocationsTable => c instanceof RevocationsTable);
  if (revocations === undefined) throw new Error('The stack has no RevocationsTable');
  const revocationsTable = stack.getLogicalId(
    revocations.table.node.defaultChild as dynamodb.CfnGlobalTable,
  );
  const approvals = stack.node
    .findAll()
    .find((c): c is ApprovalsTable => c instanceof ApprovalsTable);
  if (approvals === undefined) throw new Error('The stack has no ApprovalsTable');
  const approvalsTable = stack.getLogicalId(
    approvals.table.node.defaultChild as dynamodb.CfnGlobalTable,
  );
  const mcp = functionOf(template, 'mcp-server');
  const v = proxy.variables;
  const issuer = render(v.ISSUER);

  describe('its function', () => {
    it('sets every variable the runtime schema reads, so a cold start cannot fail on a missing one', () => {
      // Assess
      expect(Object.keys(oauthProxyEnvSchema.shape).filter((name) => !(name in v))).toEqual([]);
    });

    it('is the issuer at the API base URL and serves tokens for the MCP endpoint only', () => {
      // Assess
      expect(issuer).toMatch(/^https:\/\/<\w+>\.execute-api\.[^/]+\/prod$/);
      expect(render(v.RESOURCE)).toBe(`${issuer}/mcp`);
    });

    it("talks to Cognito's hosted login upstream, as the app client the authorizer accepts", () => {
      // Prepare
      const client = onlyId(template, 'AWS::Cognito::UserPoolClient');
      const domain = onlyId(template, 'AWS::Cognito::UserPoolDomain');

      // Assess
      expect(render(v.UPSTREAM_AUTHORIZE_URL)).toMatch(
        new RegExp(
          `^https://<${domain}>\\.auth\\.[a-z0-9-]+\\.amazoncognito\\.com/oauth2/authorize$`,
        ),
      );
      expect(render(v.UPSTREAM_TOKEN_URL)).toBe(
        render(v.UPSTREAM_AUTHORIZE_URL).replace(/authorize$/, 'token'),
      );
      expect(v.UPSTREAM_CLIENT_ID).toEqual({ Ref: client });
      expect(authorizer.variables.USER_POOL_CLIENT_IDS).toEqual({ Ref: client });
    });

    it("lets Cognito return to the proxy's own callbacks and nowhere else", () => {
      // Prepare
      const client = Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolClient'))[0];

      // Assess: after consent, and after the approval page's sign-in
      expect(((client?.Properties.CallbackURLs ?? []) as unknown[]).map(render)).toEqual([
        `${issuer}${OAUTH_PATHS.callback}`,
        `${issuer}${APPROVAL_PATHS.callback}`,
      ]);
    });

    it('knows the app client as the pre-registered client, with the configured redirect URIs', () => {
      // Assess
      expect(v.PRE_REGISTERED_CLIENT_ID).toEqual(v.UPSTREAM_CLIENT_ID);
      expect(String(v.PRE_REGISTERED_REDIRECT_URIS).split(',')).toEqual(DEFAULT_CALLBACK_URLS);
    });

    it('carries redirect URIs, CIMD hosts and the consent period set with -c', () => {
      // Act
      const { template: custom } = synthStack({
        callbackUrls: 'http://127.0.0.1:7777/cb,https://app.example.com/cb',
        cimdAllowedHosts: 'claude.ai,vscode.dev',
        consentRememberDays: '1',
      });
      const { variables } = functionOf(custom, 'mcp-oauth-proxy');

      // Assess
      expect(variables).toMatchObject({
        PRE_REGISTERED_REDIRECT_URIS: 'http://127.0.0.1:7777/cb,https://app.example.com/cb',
        CIMD_ALLOWED_HOSTS: 'claude.ai,vscode.dev',
        CONSENT_REMEMBER_SECONDS: '86400',
      });
    });

    it('allows any public CIMD host and remembers consent a week by default', () => {
      // Assess
      expect(v).toMatchObject({ CIMD_ALLOWED_HOSTS: '', CONSENT_REMEMBER_SECONDS: '604800' });
    });

    it('asks for the tools scope by default and describes each scope in words', () => {
      // Act
      const descriptions = JSON.parse(render(v.SCOPE_DESCRIPTIONS)) as Record<string, string>;
      const supported = render(v.SUPPORTED_SCOPES).split(',');

      // Assess
      expect(render(v.DEFAULT_SCOPES)).toMatch(/McpResourceServer\w*>\/tools$/);
      expect(Object.keys(descriptions).sort()).toEqual([...supported].sort());
      expect(Object.values(descriptions).every((text) => text.length > 0)).toBe(true);
    });

    it('seals with the proxy key and stores codes and refresh-token families in their tables', () => {
      // Assess
      expect(v.KMS_KEY_ID).toEqual({ 'Fn::GetAtt': [key.id, 'Arn'] });
      expect(v.CODES_TABLE_NAME).toEqual({ Ref: table });
      expect(v.REFRESH_FAMILIES_TABLE_NAME).toEqual({ Ref: familiesTable });
    });

    it("lets a family live as long as the app client's refresh tokens, and reads the not-before list", () => {
      // Prepare
      const client = Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolClient'))[0];
      const { RefreshTokenValidity, TokenValidityUnits } = (client as Resource).Properties as {
        RefreshTokenValidity: number;
        TokenValidityUnits: { RefreshToken: string };
      };
      const unit = { minutes: 60, hours: 3600, days: 86_400 }[
        TokenValidityUnits.RefreshToken as 'days'
      ];

      // Assess
      expect(Number(v.REFRESH_TOKEN_SECONDS)).toBe(RefreshTokenValidity * unit);
      expect(v.REVOCATIONS_TABLE_NAME).toEqual({ Ref: revocationsTable });
    });

    it('gives registration the same key, so the client ids it mints are ones the proxy opens', () => {
      // Assess
      expect(registration.variables.KMS_KEY_ID).toEqual(v.KMS_KEY_ID);
    });

    it('has time for a CIMD fetch and an upstream token call in one request', () => {
      // Assess
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'mcp-oauth-proxy' } },
        Timeout: 15,
      });
    });
  });

  describe('its routes', () => {
    const root = { 'Fn::GetAtt': [onlyId(template, 'AWS::ApiGateway::RestApi'), 'RootResourceId'] };
    const resourceId = (path: string) =>
      onlyId(template, 'AWS::ApiGateway::Resource', { PathPart: path.slice(1), ParentId: root });
    const methodsOn = (path: string) =>
      Object.values(
        resourcesOf(template, 'AWS::ApiGateway::Method', {
          ResourceId: { Ref: resourceId(path) },
        }),
      ).map((method) => method.Properties);

    it.each(OAUTH_PROXY_ROUTES)(
      'serves $method $path without the authorizer, through the proxy Lambda',
      ({ path, method }) => {
        // Act
        const found = methodsOn(path).find((m) => m.HttpMethod === method);
        const integration = found?.Integration as Properties;

        // Assess
        expect(found?.AuthorizationType).toBe('NONE');
        expect(integration.Type).toBe('AWS_PROXY');
        expect(JSON.stringify(integration.Uri)).toContain(`"${proxy.id}"`);
      },
    );

    it('serves exactly the routes of the metadata document and the approval page, and no other method on them', () => {
      // Act
      const served = [
        OAUTH_PATHS.authorize,
        OAUTH_PATHS.callback,
        OAUTH_PATHS.token,
        APPROVAL_PATHS.page,
        APPROVAL_PATHS.callback,
      ].flatMap((path) =>
        methodsOn(path)
          .filter((m) => m.HttpMethod !== 'OPTIONS')
          .map((m) => `${m.HttpMethod} ${path}`),
      );

      // Assess
      expect(served.sort()).toEqual(OAUTH_PROXY_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    });

    it('answers a CORS preflight on /token for any origin, with the public headers', () => {
      // Act
      const options = methodsOn(OAUTH_PATHS.token).find((m) => m.HttpMethod === 'OPTIONS');
      const integration = (options?.Integration ?? {}) as {
        Type?: string;
        IntegrationResponses?: Properties[];
      };
      const parameters = integration.IntegrationResponses?.[0]?.ResponseParameters as Record<
        string,
        string
      >;

      // Assess
      expect(integration.Type).toBe('MOCK');
      expect(parameters).toMatchObject({
        'method.response.header.Access-Control-Allow-Origin': "'*'",
        'method.response.header.Access-Control-Allow-Headers': `'${PUBLIC_CORS_ALLOW_HEADERS.join(',')}'`,
      });
      expect(parameters['method.response.header.Access-Control-Allow-Methods']).toMatch(/POST/);
    });

    it('answers no preflight on /authorize, /callback or the approval page: browsers navigate there', () => {
      // Assess
      for (const path of [
        OAUTH_PATHS.authorize,
        OAUTH_PATHS.callback,
        APPROVAL_PATHS.page,
        APPROVAL_PATHS.callback,
      ]) {
        expect(methodsOn(path).map((m) => m.HttpMethod)).not.toContain('OPTIONS');
      }
    });

    it("lets API Gateway invoke the proxy from the stage only, not from the console's test button", () => {
      // Act
      const permissions = Object.values(
        resourcesOf(template, 'AWS::Lambda::Permission', {
          FunctionName: { 'Fn::GetAtt': [proxy.id, 'Arn'] },
        }),
      ).map((permission) => render(permission.Properties.SourceArn));

      // Assess
      expect(permissions).toHaveLength(OAUTH_PROXY_ROUTES.length);
      for (const arn of permissions) {
        // The stage's own ARN: `<api>/<stage>/<method>/<path>`, never the test-invoke stage.
        expect(arn).toMatch(
          /:<\w+>\/<\w+>\/(GET|POST)\/(authorize|callback|token|approve|approval-callback)$/,
        );
        expect(arn).not.toContain('test-invoke-stage');
      }
    });

    it('throttles each route and method on its own, keeping the stage-wide logging and metrics', () => {
      // Act
      const stage = Object.values(resourcesOf(template, 'AWS::ApiGateway::Stage'))[0];
      const settings = (stage?.Properties.MethodSettings ?? []) as Properties[];
      const stageWide = settings.find((s) => s.ResourcePath === '/*');

      // Assess
      for (const route of OAUTH_PROXY_ROUTES) {
        const setting = settings.find(
          (s) => s.ResourcePath === `/~1${route.path.slice(1)}` && s.HttpMethod === route.method,
        );
        expect(setting, `${route.method} ${route.path}`).toMatchObject({
          ThrottlingRateLimit: 10,
          ThrottlingBurstLimit: 20,
          LoggingLevel: stageWide?.LoggingLevel,
          MetricsEnabled: stageWide?.MetricsEnabled,
        });
      }
    });

    it('takes the throttle from -c oauthRateLimit and oauthBurstLimit', () => {
      // Act
      const { template: custom } = synthStack({ oauthRateLimit: '3', oauthBurstLimit: '7' });
      const stage = Object.values(resourcesOf(custom, 'AWS::ApiGateway::Stage'))[0];
      const token = ((stage?.Properties.MethodSettings ?? []) as Properties[]).find(
        (s) => s.ResourcePath === '/~1token',
      );

      // Assess
      expect(token).toMatchObject({ ThrottlingRateLimit: 3, ThrottlingBurstLimit: 7 });
    });

    it("advertises the proxy's routes in the authorization-server metadata", () => {
      // Prepare
      const documents = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'))
        .map(
          (m) =>
            (m.Properties.Integration as { IntegrationResponses?: Properties[] })
              .IntegrationResponses?.[0]?.ResponseTemplates as Record<string, unknown> | undefined,
        )
        .flatMap((templates) =>
          templates?.['application/json'] === undefined
            ? []
            : [render(templates['application/json'])],
        )
        .filter((body) => body.includes('code_challenge_methods_supported'))
        .map((body) => JSON.parse(body) as Record<string, unknown>);

      // Assess
      expect(documents).toHaveLength(2);
      for (const document of documents) {
        expect(document).toMatchObject({
          issuer,
          authorization_endpoint: `${issuer}${OAUTH_PATHS.authorize}`,
          token_endpoint: `${issuer}${OAUTH_PATHS.token}`,
          registration_endpoint: `${issuer}${OAUTH_PATHS.register}`,
        });
      }
    });
  });

  describe('its key', () => {
    const statements = key.statements;

    it('rotates', () => {
      // Assess
      expect(key.properties.EnableKeyRotation).toBe(true);
    });

    it('lets nobody encrypt or decrypt directly but the proxy, registration and MCP roles', () => {
      // Act: statements granting a crypto operation outside DynamoDB
      const direct = statements.filter(
        (s) =>
          actionsOf(s).some((a) => /^kms:(Encrypt|Decrypt|ReEncrypt|GenerateDataKey|\*)/.test(a)) &&
          s.Condition?.StringEquals?.['kms:ViaService'] === undefined,
      );

      // Assess
      expect(direct.length).toBeGreaterThan(0);
      for (const statement of direct) {
        const principal = JSON.stringify(statement.Principal);
        expect(
          [proxy.role, registration.role, mcp.role].some((role) => principal.includes(`"${role}"`)),
          `${statement.Sid} is for the proxy, registration or MCP role`,
        ).toBe(true);
      }
    });

    it('lets the proxy encrypt for its own purposes and decrypt those, DCR client ids and approval tickets', () => {
      // Act
      const mine = keyStatementsFor(statements, proxy.role);
      const purposes = (action: string) =>
        mine
          .filter((s) => actionsOf(s).includes(action))
          .flatMap((s) => s.Condition?.StringEquals?.['kms:EncryptionContext:purpose'] as string[]);

      // Assess
      expect(mine.flatMap(actionsOf).sort()).toEqual(['kms:Decrypt', 'kms:Encrypt']);
      expect(purposes('kms:Encrypt').sort()).toEqual(
        [
          SEAL_PURPOSES.transaction,
          SEAL_PURPOSES.code,
          SEAL_PURPOSES.consent,
          SEAL_PURPOSES.remember,
          SEAL_PURPOSES.refreshFamily,
          SEAL_PURPOSES.approvalSignIn,
          SEAL_PURPOSES.approver,
          SEAL_PURPOSES.approvalForm,
        ].sort(),
      );
      expect(purposes('kms:Decrypt').sort()).toEqual(Object.values(SEAL_PURPOSES).sort());
    });

    it('lets the MCP function only encrypt, and only approval tickets', () => {
      // Act
      const mine = keyStatementsFor(statements, mcp.role);

      // Assess
      expect(mine).toEqual([
        expect.objectContaining({
          Action: 'kms:Encrypt',
          Condition: expect.objectContaining({
            StringEquals: { 'kms:EncryptionContext:purpose': [SEAL_PURPOSES.approvalTicket] },
          }),
        }),
      ]);
    });

    it('lets registration only encrypt, and only DCR client ids', () => {
      // Act
      const mine = keyStatementsFor(statements, registration.role);

      // Assess
      expect(mine).toEqual([
        expect.objectContaining({
          Action: 'kms:Encrypt',
          Condition: expect.objectContaining({
            StringEquals: { 'kms:EncryptionContext:purpose': [SEAL_PURPOSES.dcrClient] },
          }),
        }),
      ]);
    });

    it('refuses any encryption-context key but the purpose in the roles’ statements', () => {
      // Act
      const roles = [
        ...keyStatementsFor(statements, proxy.role),
        ...keyStatementsFor(statements, registration.role),
      ];

      // Assess
      for (const statement of roles) {
        expect(statement.Condition?.['ForAllValues:StringEquals']).toEqual({
          'kms:EncryptionContextKeys': ['purpose'],
        });
      }
    });

    it('lets anyone make grants only for an AWS resource, DynamoDB among them', () => {
      // Act
      const grants = statements.filter(
        (s) =>
          s.Effect === 'Allow' &&
          actionsOf(s).some((a) => a === 'kms:CreateGrant' || a === 'kms:*' || a === 'kms:Create*'),
      );

      // Assess
      expect(grants.length).toBeGreaterThan(0);
      for (const grant of grants) {
        const bool = grant.Condition?.Bool ?? grant.Condition?.BoolIfExists;
        expect(bool?.['kms:GrantIsForAWSResource']).toBe('true');
      }
      expect(
        grants.map((g) => render(g.Condition?.StringEquals?.['kms:ViaService'] ?? '')),
      ).toContainEqual(expect.stringMatching(/^dynamodb\./));
    });

    it('lets the account administer the key, so it can never become unmanageable', () => {
      // Act
      const admin = statements.find((s) => actionsOf(s).includes('kms:PutKeyPolicy'));

      // Assess
      expect(admin?.Condition).toBeUndefined();
      expect(actionsOf(admin as Statement)).toEqual(
        expect.arrayContaining(['kms:ScheduleKeyDeletion', 'kms:EnableKeyRotation']),
      );
    });
  });

  /** The proxy role's DynamoDB statements whose resource is `tableId`. */
  const dynamoStatementsOn = (tableId: string) =>
    roleStatements(template, proxy.role).filter(
      (s) =>
        actionsOf(s).some((a) => a.startsWith('dynamodb:')) &&
        JSON.stringify((s as unknown as { Resource: unknown }).Resource).includes(`"${tableId}"`),
    );

  describe('its tables', () => {
    it.each([
      ['codes', table, CODE_TABLE_KEYS.partitionKey, CODE_TABLE_KEYS.ttl],
      [
        'refresh-token families',
        familiesTable,
        REFRESH_FAMILY_ATTRIBUTES.partitionKey,
        REFRESH_FAMILY_ATTRIBUTES.ttl,
      ],
    ])(
      'keep %s by a string key, expiring by TTL, on demand, recoverable, encrypted with the proxy key',
      (_, id, partitionKey, ttl) => {
        // Assess
        expect(template.toJSON().Resources[id].Properties).toMatchObject({
          KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          TimeToLiveSpecification: { AttributeName: ttl, Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: {
            SSEEnabled: true,
            SSEType: 'KMS',
            KMSMasterKeyId: { 'Fn::GetAtt': [key.id, 'Arn'] },
          },
        });
      },
    );

    it('lets the proxy put and delete codes, and nothing else: no read, scan or query', () => {
      // Act
      const dynamo = dynamoStatementsOn(table);

      // Assess
      expect(dynamo.flatMap(actionsOf).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem']);
    });

    it('lets the proxy get, put and update families, and nothing else: no delete, scan or query', () => {
      // Act
      const dynamo = dynamoStatementsOn(familiesTable);

      // Assess
      expect(dynamo.flatMap(actionsOf).sort()).toEqual([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ]);
    });

    it('lets the proxy read the not-before list as the authorizer does: Scan only', () => {
      // Act
      const dynamo = dynamoStatementsOn(revocationsTable);

      // Assess
      expect(dynamo.flatMap(actionsOf)).toEqual(['dynamodb:Scan']);
    });

    it('gives the proxy DynamoDB rights on these four tables and no other', () => {
      // Act
      const named = roleStatements(template, proxy.role)
        .filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))
        .map((s) => render((s as unknown as { Resource: unknown }).Resource));

      // Assess
      expect(named).toHaveLength(4);
      for (const resource of named) {
        expect(
          [table, familiesTable, revocationsTable, approvalsTable].some((id) =>
            resource.includes(id),
          ),
        ).toBe(true);
      }
    });
  });

  describe('its key through DynamoDB', () => {
    it('lets the proxy use the key through DynamoDB only, by its own policy', () => {
      // Act
      const kms = roleStatements(template, proxy.role).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('kms:')),
      );

      // Assess
      expect(kms).toHaveLength(1);
      expect(render(kms[0]?.Condition?.StringEquals?.['kms:ViaService'])).toMatch(/^dynamodb\./);
    });
  });
});

describe('OAuthProxy on its own', () => {
  function bare(props: Partial<OAuthProxyProps> = {}) {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Bare', { env: { account: '123456789012', region: 'eu-west-1' } });
    const api = new apigateway.RestApi(stack, 'Api', { deployOptions: { stageName: 'prod' } });
    const userPool = new cognito.UserPool(stack, 'Pool');
    const proxy = new OAuthProxy(stack, 'Proxy', {
      api,
      upstreamRefreshTokenValidity: Duration.days(7),
      revocations: new RevocationsTable(stack, 'Revocations', { userPool }),
      baseUrl: 'https://api.example.com/prod',
      resource: 'https://api.example.com/prod/mcp',
      upstreamDomainUrl: 'https://example.auth.eu-west-1.amazoncognito.com',
      upstreamClientId: 'client-0001',
      preRegisteredClient: {
        clientId: 'client-0001',
        redirectUris: ['http://localhost:8080/callback'],
      },
      supportedScopes: ['mcp/tools', 'openid'],
      defaultScopes: ['mcp/tools'],
      logRetention: logs.RetentionDays.ONE_WEEK,
      ...props,
    });
    return { stack, proxy, template: Template.fromStack(stack) };
  }

  it('exposes the callback and endpoint URLs under the base URL', () => {
    // Act
    const { proxy } = bare();

    // Assess
    expect(proxy).toMatchObject({
      callbackUrl: 'https://api.example.com/prod/callback',
      authorizationEndpoint: 'https://api.example.com/prod/authorize',
      tokenEndpoint: 'https://api.example.com/prod/token',
    });
  });

  it.each([
    ['a zero rate', { throttleRateLimit: 0 }, /throttleRateLimit/],
    ['a fractional burst', { throttleBurstLimit: 2.5 }, /throttleBurstLimit/],
    ['consent remembered past 30 days', { consentRemember: Duration.days(31) }, /at most 30/],
    [
      'no redirect URI for the pre-registered client',
      { preRegisteredClient: { clientId: 'c', redirectUris: [] } },
      /at least one redirect URI/,
    ],
    [
      'a comma in a redirect URI',
      { preRegisteredClient: { clientId: 'c', redirectUris: ['https://a.example/cb?x=1,2'] } },
      /must not contain a comma/,
    ],
    ['a comma in a scope', { supportedScopes: ['a,b'] }, /must not contain a comma/],
    ['a CIMD host that is a URL', { cimdAllowedHosts: ['https://claude.ai'] }, /host name/],
  ])('refuses %s with a message that says what to change', (_, props, message) => {
    // Assess
    expect(() => bare(props)).toThrow(message);
  });

  it('refuses redirect URIs only known at deploy time: they are compared character for character', () => {
    // Prepare
    const app = new App();
    const stack = new Stack(app, 'Tokens');

    // Assess
    expect(() =>
      bare({
        preRegisteredClient: {
          clientId: 'c',
          redirectUris: [`https://${stack.account}.example.com/cb`],
        },
      }),
    ).toThrow(/literal URL/);
  });
});
