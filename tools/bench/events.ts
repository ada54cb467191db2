/**
 * The API Gateway events the bench feeds the handlers, shaped as API Gateway (REST) sends them:
 * one builder each, shared by the warm path, the cold-init runs and the Express comparison so
 * every design answers the very same request.
 */
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { type Principal, toAuthorizerContext } from '../../lambda/shared/principal';
import { MCP_PATH } from '../../lambda/shared/routes';
import { LOCAL_SCOPE } from '../local-identity';

export const BENCH_METHOD_ARN = `arn:aws:execute-api:us-east-1:123456789012:api/prod/POST${MCP_PATH}`;

/** The REQUEST authorizer's event for POST /mcp with a bearer credential. */
export function authorizerEvent(credential: string): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: BENCH_METHOD_ARN,
    headers: { Authorization: `Bearer ${credential}` },
    requestContext: { requestId: 'bench', identity: { sourceIp: '127.0.0.1' } },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

/** A REST proxy event for POST /mcp as API Gateway sends it after an Allow. */
export function mcpEvent(principal: Principal, body: unknown): APIGatewayProxyEvent {
  const headers = {
    Host: 'mcp.bench.invalid',
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION,
  };
  return {
    resource: MCP_PATH,
    path: MCP_PATH,
    httpMethod: 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      authorizer: toAuthorizerContext(principal),
      httpMethod: 'POST',
      identity: { sourceIp: '127.0.0.1' },
      path: `/prod${MCP_PATH}`,
      stage: 'prod',
      requestId: 'bench',
      resourcePath: MCP_PATH,
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
}

/** An analyst signed in with Cognito, as the authorizer would describe them for an hour. */
export function benchAnalyst(): Principal {
  return {
    principalId: 'bench-analyst',
    authMethod: 'cognito',
    groups: ['analyst'],
    scopes: [LOCAL_SCOPE],
    keyId: '',
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  };
}

export const INITIALIZE_REQUEST = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'mcp-bench', version: '0.0.0' },
  },
} as const;

export const TOOLS_LIST_REQUEST = { jsonrpc: '2.0', id: 2, method: 'tools/list' } as const;

/** The tools/call every design answers: one record by id, a DynamoDB GetItem behind it. */
export const GET_RECORD_CALL = {
  jsonrpc: '2.0',
  id: 3,
  method: 'tools/call',
  params: { name: 'get_record', arguments: { id: 'cust-0001' } },
} as const;

/** What a successful answer to {@link GET_RECORD_CALL} contains. */
export const GET_RECORD_FOUND = '"found":true';
