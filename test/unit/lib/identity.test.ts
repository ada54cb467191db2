import { fileURLToPath } from 'node:url';
import { Match } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CALLBACK_URLS } from '../../../lib/config';
import { RESOURCE_SERVER_ID } from '../../../lib/identity-names';
import { LOCAL_SCOPE } from '../../../tools/local/identity';
import { FIXTURE_POLICY } from '../../support/fixture-deployment';

const ROLES = Object.keys(FIXTURE_POLICY.roles);
const PERMISSIONS = Object.keys(FIXTURE_POLICY.permissions);

import type { Identity } from '../../../lib/identity';
import { synthStack } from '../../support/stack-fixture';
import { onlyId, render, resourcesOf } from '../../support/template-helpers';

const { template, stack } = synthStack();

describe('Identity', () => {
  it('creates a user pool with no self sign-up, a strong password policy and MFA required', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      DeletionProtection: 'ACTIVE',
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 14,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
    });
  });

  it('pins the original issuer format, the one spelling the authorizer accepts', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      IssuerConfiguration: { Type: 'ORIGINAL' },
    });
  });

  it('creates exactly one group per role of the policy table', () => {
    const groups = template.findResources('AWS::Cognito::UserPoolGroup');
    const names = Object.values(groups).map((group) => group.Properties.GroupName);
    expect(names.sort()).toEqual([...ROLES].sort());
    for (const role of ROLES) {
      template.hasResourceProperties('AWS::Cognito::UserPoolGroup', {
        GroupName: role,
        Description: Match.stringLikeRegexp((FIXTURE_POLICY.roles[role] ?? []).join(', ')),
      });
    }
  });

  it('makes the authorizer require the very scope the app client may request', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'secure-mcp',
      Scopes: [
        Match.objectLike({ ScopeName: 'tools' }),
        ...PERMISSIONS.map((p) => Match.objectLike({ ScopeName: p })),
      ],
    });
    const client = Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0];
    const toolsScope = client?.Properties.AllowedOAuthScopes[0];
    expect(JSON.stringify(toolsScope)).toMatch(/McpResourceServer.*\/tools/);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REQUIRED_SCOPES: toolsScope }) },
    });
  });

  it('names the resource server as the local identity does, so local tokens carry the deployed scope', () => {
    // Assess: one name (identity-names.ts) for the stack and the local tools
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: RESOURCE_SERVER_ID,
    });
    expect(LOCAL_SCOPE).toBe(`${RESOURCE_SERVER_ID}/tools`);
  });

  it('keeps those names in a file that pulls in no CDK code, which the local tools can import', async () => {
    // Act
    const { metafile } = await build({
      entryPoints: [fileURLToPath(new URL('../../../lib/identity-names.ts', import.meta.url))],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      logLevel: 'silent',
    });

    // Assess
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.length).toBeGreaterThan(1);
    expect(
      inputs.filter((input) => /node_modules\/(aws-cdk-lib|constructs)\//.test(input)),
    ).toEqual([]);
  });

  it('makes a public app client for the authorization-code flow with short-lived tokens', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: Match.arrayWith(['openid']),
      AccessTokenValidity: 60,
      TokenValidityUnits: Match.objectLike({ AccessToken: 'minutes' }),
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED',
    });
  });

  it('rotates its refresh tokens, with a grace period for a retry, and has no REFRESH_TOKEN_AUTH', () => {
    // Act
    const client = Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolClient'))[0];

    // Assess: the proxy keeps the newest upstream token; a copy of an older one goes stale
    expect(client?.Properties.RefreshTokenRotation).toEqual({
      Feature: 'ENABLED',
      RetryGracePeriodSeconds: 30,
    });
    expect(client?.Properties.ExplicitAuthFlows).not.toContain('ALLOW_REFRESH_TOKEN_AUTH');
  });

  it("lets Cognito return only to the OAuth proxy's callbacks, never to a client's own URL", () => {
    // Prepare
    const clients = Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolClient'));
    const api = onlyId(template, 'AWS::ApiGateway::RestApi');

    // Act
    const callbacks = clients.flatMap((client) =>
      (client.Properties.CallbackURLs as unknown[]).map(render),
    );

    // Assess: one client, the proxy's two callbacks (after consent, after the approval page's
    // sign-in); the configured URLs are not Cognito's
    expect(clients).toHaveLength(1);
    expect(callbacks).toHaveLength(2);
    expect(callbacks[0]).toMatch(/^https:\/\/<([^>]+)>\.execute-api\.[^/]+\/prod\/callback$/);
    expect(callbacks[1]).toMatch(
      /^https:\/\/<([^>]+)>\.execute-api\.[^/]+\/prod\/approval-callback$/,
    );
    for (const callback of callbacks) expect(callback).toContain(`<${api}>`);
    expect(callbacks).not.toContain(DEFAULT_CALLBACK_URLS[0]);
  });

  it('describes every scope the app client may request, for the consent page', () => {
    // Prepare
    const identity = stack.node.findChild('Identity') as Identity;
    const client = Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolClient'))[0];
    const allowed = ((client?.Properties.AllowedOAuthScopes ?? []) as unknown[]).map(render).sort();

    // Act
    const described = Object.keys(identity.scopeDescriptions)
      .map((scope) => render(stack.resolve(scope)))
      .sort();

    // Assess
    expect(described).toEqual(allowed);
    for (const [permission, description] of Object.entries(FIXTURE_POLICY.permissions)) {
      const scope = identity.permissionScopes[PERMISSIONS.indexOf(permission)] as string;
      expect(identity.scopeDescriptions[scope]).toContain(description);
    }
  });

  it('allow-lists the app client in the authorizer from the resource, not a typed string', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          USER_POOL_CLIENT_IDS: { Ref: Match.stringLikeRegexp('McpClient') },
          USER_POOL_ID: { Ref: Match.stringLikeRegexp('UserPool') },
        }),
      },
    });
  });

  it('creates a hosted-login domain', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: Match.anyValue(),
    });
  });

  it('refuses a plain-http redirect URI that is not loopback', () => {
    expect(() => synthStack({ callbackUrls: 'http://example.com/callback' })).toThrow(
      /must use https/,
    );
  });

  it('turns MFA off when configured so', () => {
    const { template: noMfa } = synthStack({ mfa: 'off' });
    noMfa.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'OFF' });
  });
});
