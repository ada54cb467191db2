/**
 * IAM policies returned to API Gateway. Pure.
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { AuthorizerContext } from '../shared/principal';
import { PROTECTED_PATHS } from '../shared/routes';

/** `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path...>` */
const METHOD_ARN =
  /^(arn:[\w-]+:execute-api:[\w-]+:\d{12}|arn:[\w-]+:execute-api:[\w-]+:\*):([\w-]+)\/([\w-]+)\/[A-Z*]+\/.*$/;

export class MethodArnError extends Error {
  override readonly name = 'MethodArnError';
}

/** The ARN prefix `arn:...:<apiId>/<stage>` of the API stage a request came in on. */
export function stageArn(methodArn: string): string {
  const match = METHOD_ARN.exec(methodArn);
  if (match === null) throw new MethodArnError('Unrecognised methodArn');
  return `${match[1]}:${match[2]}/${match[3]}`;
}

/**
 * Allow every method on every protected path of this stage, and nothing else. Because API
 * Gateway caches the policy per identity source, a policy naming only this request's
 * methodArn would wrongly deny (or, worse, be reused for) the principal's other routes.
 */
export function allowPolicy(
  methodArn: string,
  context: AuthorizerContext,
): APIGatewayAuthorizerResult {
  const stage = stageArn(methodArn);
  return {
    principalId: context.principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'execute-api:Invoke',
          Effect: 'Allow',
          Resource: PROTECTED_PATHS.map((path) => `${stage}/*${path}`),
        },
      ],
    },
    context,
  };
}

/**
 * The scopes a refused call needs, as the stack's ACCESS_DENIED body template reads them
 * (`"requiredScopes":$context.authorizer.requiredScopes`): JSON array text, so the body has
 * the shape of the MCP function's own -32003 (an array). Every Deny carries it (empty when the
 * refusal is not about scope), so the body is always JSON.
 */
export const REQUIRED_SCOPES_CONTEXT_KEY = 'requiredScopes';

/** Deny everything on this API (fail closed), with the scopes the call would need, if any. */
export function denyPolicy(
  methodArn: string,
  principalId: string,
  requiredScopes: readonly string[] = [],
): APIGatewayAuthorizerResult {
  let resource = '*';
  try {
    resource = `${stageArn(methodArn)}/*`;
  } catch {
    // An unparseable methodArn still gets a Deny: on everything.
  }
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: resource }],
    },
    context: { [REQUIRED_SCOPES_CONTEXT_KEY]: JSON.stringify(requiredScopes) },
  };
}
