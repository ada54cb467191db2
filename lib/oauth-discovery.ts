/**
 * The OAuth discovery documents MCP clients read before they sign in, served by API Gateway
 * itself (mock integrations: no Lambda, no authorizer, public by the MCP spec):
 *
 * - RFC 9728 protected-resource metadata at `<stage>/.well-known/oauth-protected-resource`
 *   (and `.../mcp`), the URL every 401 names;
 * - authorization-server metadata of the OAuth proxy in front of Cognito
 *   (`lambda/oauth-proxy/`): issuer the stage URL, `/authorize`, `/token` and `/register`
 *   under it, PKCE S256, `iss` in authorization responses, CIMD client ids, at
 *   `<stage>/.well-known/openid-configuration` (the path-appended OIDC location clients try
 *   when the issuer has a path) and `<stage>/.well-known/oauth-authorization-server`. Cognito
 *   itself is only the proxy's upstream: clients never see its endpoints.
 */
import { Aws, Duration, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import {
  CORS_MAX_AGE_SECONDS,
  PUBLIC_CORS_ALLOW_HEADERS,
  PUBLIC_CORS_HEADERS,
} from '../lambda/shared/cors';
import {
  AUTHORIZATION_SERVER_METADATA_PATH,
  authorizationServerMetadata,
  PROTECTED_RESOURCE_METADATA_PATH,
  protectedResourceMetadata,
} from '../lambda/shared/oauth-metadata';
import { MCP_PATH, OAUTH_PATHS } from '../lambda/shared/routes';

export interface OAuthDiscoveryProps {
  readonly api: apigateway.RestApi;
  /** The stage URL: the advertised issuer and the base of every document's URL. */
  readonly baseUrl: string;
  /** The MCP endpoint: the protected resource. */
  readonly resource: string;
  readonly userPoolId: string;
  /** The scope tokens for this server carry. */
  readonly scope: string;
  /** Optional scopes a client may also request (the permission scopes). */
  readonly optionalScopes?: readonly string[];
  /** The RFC 7591 registration endpoint, advertised as `registration_endpoint`. @default none */
  readonly registrationEndpoint?: string;
  /** @default Duration.minutes(5) */
  readonly maxAge?: Duration;
}

/**
 * Every scope the app client may request, as advertised: the server's scope, the optional
 * ones, and the OIDC scopes. The registration endpoint accepts exactly these.
 */
export function advertisedScopes(scope: string, optionalScopes: readonly string[] = []): string[] {
  return [scope, ...optionalScopes, 'openid', 'email'];
}

export class OAuthDiscovery extends Construct {
  /** The protected-resource metadata document, as served. */
  readonly protectedResource: Record<string, unknown>;
  /** The authorization-server metadata document, as served. */
  readonly authorizationServer: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: OAuthDiscoveryProps) {
    super(scope, id);
    this.protectedResource = protectedResourceMetadata({
      resource: props.resource,
      authorizationServers: [props.baseUrl],
      scopes: [props.scope],
      resourceName: 'Secure MCP server',
    });
    this.authorizationServer = {
      ...authorizationServerMetadata({
        issuer: props.baseUrl,
        // The proxy's endpoints. No revocation endpoint: Cognito's revokes only tokens of the
        // client presenting them, and every token here is the proxy's upstream client's.
        authorizationEndpoint: `${props.baseUrl}${OAUTH_PATHS.authorize}`,
        tokenEndpoint: `${props.baseUrl}${OAUTH_PATHS.token}`,
        registrationEndpoint: props.registrationEndpoint,
        scopes: advertisedScopes(props.scope, props.optionalScopes),
      }),
      // What OIDC discovery validators expect alongside: Cognito's keys (the access tokens'
      // signer) and ID-token algorithm.
      jwks_uri: `https://cognito-idp.${Aws.REGION}.${Aws.URL_SUFFIX}/${props.userPoolId}/.well-known/jwks.json`,
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    };

    // Path parts of the well-known paths the local server serves too.
    const [, wellKnownPart, prmPart] = PROTECTED_RESOURCE_METADATA_PATH.split('/');
    const asPart = AUTHORIZATION_SERVER_METADATA_PATH.split('/')[2] as string;
    const wellKnown = props.api.root.addResource(wellKnownPart as string);
    // Browser-based clients read these from their page, and the MCP SDK adds an
    // MCP-Protocol-Version header, so the browser asks first: an OPTIONS on every document.
    const withPreflight = {
      defaultCorsPreflightOptions: {
        allowOrigins: apigateway.Cors.ALL_ORIGINS,
        allowMethods: ['GET'],
        allowHeaders: [...PUBLIC_CORS_ALLOW_HEADERS],
        maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
      },
    };
    const prm = wellKnown.addResource(prmPart as string, withPreflight);
    const maxAge = (props.maxAge ?? Duration.minutes(5)).toSeconds();
    const serve = (resource: apigateway.IResource, document: Record<string, unknown>) => {
      const method = resource.addMethod(
        'GET',
        new apigateway.MockIntegration({
          requestTemplates: { 'application/json': '{"statusCode": 200}' },
          passthroughBehavior: apigateway.PassthroughBehavior.NEVER,
          integrationResponses: [
            {
              statusCode: '200',
              responseTemplates: { 'application/json': JSON.stringify(document) },
              responseParameters: {
                'method.response.header.Content-Type': "'application/json'",
                'method.response.header.Cache-Control': `'public, max-age=${maxAge}'`,
                // Public documents: browser-based clients must be able to read them.
                'method.response.header.Access-Control-Allow-Origin': `'${PUBLIC_CORS_HEADERS['Access-Control-Allow-Origin']}'`,
              },
            },
          ],
        }),
        {
          authorizationType: apigateway.AuthorizationType.NONE,
          methodResponses: [
            {
              statusCode: '200',
              responseParameters: {
                'method.response.header.Content-Type': true,
                'method.response.header.Cache-Control': true,
                'method.response.header.Access-Control-Allow-Origin': true,
              },
            },
          ],
        },
      );
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'OAuth discovery document: the MCP authorization spec requires it to be public, before any token exists',
      });
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          'OAuth discovery document: public by the MCP authorization spec; it carries no data, only URLs and capabilities',
      });
    };
    serve(prm, this.protectedResource);
    // A child resource inherits the preflight.
    serve(prm.addResource(MCP_PATH.slice(1)), this.protectedResource);
    serve(wellKnown.addResource('openid-configuration', withPreflight), this.authorizationServer);
    serve(wellKnown.addResource(asPart, withPreflight), this.authorizationServer);
  }
}
