/**
 * Cognito: the user pool people sign in to, its groups (one per role of the policy table), a
 * resource server with the scope the authorizer requires, and a public app client for the
 * authorization-code flow with PKCE: the one client id Cognito sees, the OAuth proxy's
 * (`oauth-proxy.ts`), returning to the proxy's callback alone: no OAuth client can have
 * Cognito send it a code around the proxy's consent page.
 */
import { Aws, Duration, Fn, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import type { PolicyTable } from '../lambda/shared/policy';
import { callbackUrlProblem } from './config';

import { RESOURCE_SERVER_ID, TOOLS_SCOPE } from './identity-names';

export { RESOURCE_SERVER_ID, TOOLS_SCOPE };

export interface IdentityProps {
  /**
   * OAuth callback URLs of the app client: the OAuth proxy's callback (it may be a token,
   * known at deploy time); literal ones use http only for loopback.
   */
  readonly callbackUrls: readonly string[];
  /** @default 'required' */
  readonly mfa?: 'off' | 'optional' | 'required';
  /** Hosted-login domain prefix. @default `secure-mcp-<account id>` */
  readonly domainPrefix?: string;
  /** The policy table: one group per role, one optional scope per permission. */
  readonly policy: PolicyTable;
}

export class Identity extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  /** The full scope string the authorizer requires (`<resource server>/<scope>`). */
  readonly requiredScope: string;
  /** Optional scopes, one per permission, with which a client narrows a token (`<rs>/read_data`). */
  readonly permissionScopes: string[];
  /**
   * What each scope the app client may request lets a client do, in words for the OAuth
   * proxy's consent page: the policy table's description of each permission.
   */
  readonly scopeDescriptions: Readonly<Record<string, string>>;
  /**
   * How long the app client's refresh tokens live: the OAuth proxy's refresh-token families
   * (which hold them) last as long.
   */
  readonly refreshTokenValidity = Duration.days(7);

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    if (props.callbackUrls.length === 0) {
      throw new Error('Identity: callbackUrls must list the OAuth proxy callback');
    }
    for (const url of props.callbackUrls) {
      if (Token.isUnresolved(url)) continue;
      const problem = callbackUrlProblem(url);
      if (problem !== undefined) throw new Error(`Identity: callback URL ${url} ${problem}`);
    }

    const mfa = props.mfa ?? 'required';
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      // Accounts are created by an administrator and put in a group: no self sign-up.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: { off: cognito.Mfa.OFF, optional: cognito.Mfa.OPTIONAL, required: cognito.Mfa.REQUIRED }[
        mfa
      ],
      mfaSecondFactor: mfa === 'off' ? undefined : { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // Plus adds threat protection at a per-user price: a deployment decision, acknowledged
      // below for cdk-nag rather than imposed.
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Pinned, not left to Cognito's default: the authorizer accepts this one issuer spelling
    // (`userPoolIssuer` in lambda/authorizer/cognito.ts) and the OAuth metadata names its JWKS.
    (this.userPool.node.defaultChild as cognito.CfnUserPool).issuerConfiguration = {
      type: 'ORIGINAL',
    };

    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason:
        'The Plus feature plan (threat protection) is billed per monthly active user; MFA is required by default instead. Switch featurePlan to PLUS where that cost is justified.',
    });

    // One group per role: the policy table is the one source of truth.
    for (const [role, permissions] of Object.entries(props.policy.roles)) {
      new cognito.CfnUserPoolGroup(this, `Group-${role}`, {
        userPoolId: this.userPool.userPoolId,
        groupName: role,
        description: `MCP role ${role}: ${permissions.join(', ')}`.slice(0, 2048),
      });
    }

    // One optional scope per permission of the policy table: a token that names any of them
    // gets only those of its roles' permissions (role permissions ∩ scope permissions).
    const permissions = Object.entries(props.policy.permissions);
    const permissionScopes = permissions.map(
      ([permission]) =>
        new cognito.ResourceServerScope({
          scopeName: permission,
          scopeDescription: `Narrow the token to the ${permission} permission of your roles`,
        }),
    );
    const toolsScope = new cognito.ResourceServerScope({
      scopeName: TOOLS_SCOPE,
      scopeDescription: 'Call the MCP server tools your groups permit',
    });
    const resourceServer = this.userPool.addResourceServer('McpResourceServer', {
      identifier: RESOURCE_SERVER_ID,
      userPoolResourceServerName: 'MCP server',
      scopes: [toolsScope, ...permissionScopes],
    });
    const toolsOAuthScope = cognito.OAuthScope.resourceServer(resourceServer, toolsScope);
    const permissionOAuthScopes = permissionScopes.map((scope) =>
      cognito.OAuthScope.resourceServer(resourceServer, scope),
    );
    this.permissionScopes = permissionOAuthScopes.map((scope) => scope.scopeName);
    // Derived from the resource server itself, so the authorizer requires exactly the scope
    // the app client is allowed to request.
    this.requiredScope = toolsOAuthScope.scopeName;
    this.scopeDescriptions = {
      [this.requiredScope]: 'Use the MCP server with the permissions your groups grant',
      // permissionScopes follows `permissions`, one scope each, in order.
      ...Object.fromEntries(
        permissions.map(([permission, description], i) => [
          this.permissionScopes[i] ?? permission,
          `Only this of your permissions: ${description}`,
        ]),
      ),
      [cognito.OAuthScope.OPENID.scopeName]: 'Know your user id',
      [cognito.OAuthScope.EMAIL.scopeName]: 'See your e-mail address',
    };

    // A public client (no secret): the OAuth proxy uses it with its own PKCE, and hands its
    // access tokens to MCP clients, CLIs and desktop apps that could keep no secret either.
    // Short-lived access tokens; refresh tokens can be revoked and stay with the proxy, which
    // gives clients rotating tokens of its own. Cognito rotates its refresh tokens too, and the
    // proxy keeps the newest: a copy taken from the proxy's table (and opened with its key)
    // stops working at the family's next refresh, and using it first makes that refresh fail
    // upstream, which ends the family where it shows. The token endpoint's refresh_token grant
    // rotates (Cognito developer guide, "Refresh tokens"). The grace period lets a retry
    // succeed when the proxy could not store the new token (its request failed after Cognito
    // answered). With rotation, CDK leaves out ALLOW_REFRESH_TOKEN_AUTH (InitiateAuth's
    // refresh), which nothing here uses.
    this.client = this.userPool.addClient('McpClient', {
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [
          toolsOAuthScope,
          ...permissionOAuthScopes,
          cognito.OAuthScope.OPENID,
          cognito.OAuthScope.EMAIL,
        ],
        callbackUrls: [...props.callbackUrls],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      accessTokenValidity: Duration.minutes(60),
      idTokenValidity: Duration.minutes(60),
      refreshTokenValidity: this.refreshTokenValidity,
      refreshTokenRotationGracePeriod: Duration.seconds(30),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
    });

    const domainPrefix =
      props.domainPrefix === undefined || props.domainPrefix === ''
        ? Fn.join('-', ['secure-mcp', Aws.ACCOUNT_ID])
        : props.domainPrefix;
    this.domain = this.userPool.addDomain('HostedLogin', {
      cognitoDomain: { domainPrefix },
    });
    if (!Token.isUnresolved(domainPrefix) && /aws|amazon|cognito/.test(domainPrefix)) {
      throw new Error(
        `Identity: Cognito refuses domain prefixes containing aws, amazon or cognito (${domainPrefix})`,
      );
    }
  }
}
