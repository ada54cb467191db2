/**
 * The OAuth client registration endpoint (RFC 7591) behind API Gateway: POST a JSON object of
 * client metadata, get a client back (201) whose id is that metadata sealed by this server's
 * key, or an RFC 7591 error (400). Nothing is stored. Thin: the HTTP checks here, the decision
 * in `../shared/client-registration.ts`, the id from an injected minter; one audit record per
 * request, whatever its outcome.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  AUDIT_FIELDS,
  auditClientRegistration,
  type ClientRegistrationAudit,
  REGISTRATION_OUTCOME,
} from '../shared/audit';
import {
  ClientRegistrationError,
  describeRegistrationRequest,
  MAX_REGISTRATION_BODY_BYTES,
  OAuthError,
  REGISTRATION_ERRORS,
  type RegisteredClient,
  type RegistrationPolicy,
  type ValidatedRegistration,
  validateRegistration,
} from '../shared/client-registration';
import { PUBLIC_CORS_HEADERS } from '../shared/cors';
import { getHeader } from '../shared/headers';

/**
 * Mints the client id of a validated registration (`lambda/oauth-proxy/clients.ts`
 * `mintDcrClientId`); rejects with a `RangeError` when the registration is too large to seal.
 */
export type ClientIdMinter = (registration: ValidatedRegistration) => Promise<string>;

export interface RegistrationHandlerDeps {
  readonly policy: RegistrationPolicy;
  readonly mintClientId: ClientIdMinter;
  readonly logger: Logger;
  /** @default MAX_REGISTRATION_BODY_BYTES */
  readonly maxBodyBytes?: number;
}

export type RegistrationHandler = (
  event: APIGatewayProxyEvent,
  context?: Context,
) => Promise<APIGatewayProxyResult>;

/**
 * On every answer. `no-store` and `Pragma` as RFC 6749 asks of responses carrying client
 * credentials. Any origin may read it: the answer holds nothing a browser must be kept from
 * (a public client id), and the request carries no cookie or credential of the user's.
 */
export const RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  ...PUBLIC_CORS_HEADERS,
};

/** `application/json`, with or without parameters such as `charset=utf-8`. */
export function isJsonContentType(value: string | undefined): boolean {
  return value?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

type Audited = Omit<ClientRegistrationAudit, 'requestId' | 'sourceIp'>;

interface Answer {
  readonly response: APIGatewayProxyResult;
  readonly audit: Audited;
}

function refuse(
  error: OAuthError,
  audit: Omit<Audited, 'outcome' | 'httpStatus' | 'oauthError'>,
  headers: Record<string, string> = {},
): Answer {
  return {
    response: {
      statusCode: error.status,
      headers: { ...RESPONSE_HEADERS, ...headers },
      body: JSON.stringify(error.toBody()),
    },
    audit: {
      ...audit,
      outcome: REGISTRATION_OUTCOME.refused,
      httpStatus: error.status,
      oauthError: error.error,
    },
  };
}

/** The whole decision for one request; its only effect is the minter's (a KMS call in AWS). */
export async function answerRegistration(
  event: Pick<
    APIGatewayProxyEvent,
    'httpMethod' | 'headers' | 'multiValueHeaders' | 'body' | 'isBase64Encoded'
  >,
  policy: RegistrationPolicy,
  mintClientId: ClientIdMinter,
  maxBodyBytes = MAX_REGISTRATION_BODY_BYTES,
): Promise<Answer> {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  // A digest of the bytes as sent (never parsed and re-walked: the body is the caller's):
  // tells one client registering 500 times from 500 clients, without logging the metadata.
  // Only the first maxBodyBytes are hashed, so an oversized body costs no more than a valid one.
  const sent = {
    bodyBytes: bytes.byteLength,
    metadataDigest: `sha256:${createHash('sha256').update(bytes.subarray(0, maxBodyBytes)).digest('hex')}`,
  };
  const { bodyBytes } = sent;
  const invalid = REGISTRATION_ERRORS.invalidClientMetadata;

  if (event.httpMethod !== 'POST') {
    return refuse(
      new OAuthError('invalid_request', 'Method not allowed: register with POST', 405),
      sent,
      { Allow: 'POST' },
    );
  }
  // RFC 7591 section 3.1: the metadata is sent as application/json. Section 3.2.2 makes every
  // registration error HTTP 400, so another media type is not HTTP's 415, nor an oversized
  // body 413: both are 400 invalid_client_metadata with a description.
  if (!isJsonContentType(getHeader(event, 'content-type'))) {
    return refuse(new OAuthError(invalid, 'Content-Type must be application/json', 400), sent);
  }
  if (bodyBytes > maxBodyBytes) {
    return refuse(new OAuthError(invalid, `The body exceeds ${maxBodyBytes} bytes`, 400), sent);
  }
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    return refuse(new OAuthError(invalid, 'The body is not valid JSON'), sent);
  }

  const described = { ...describeRegistrationRequest(body), ...sent };
  let registration: ValidatedRegistration;
  try {
    registration = validateRegistration(body, policy);
  } catch (error) {
    if (!(error instanceof ClientRegistrationError)) throw error;
    return refuse(error, { ...described, field: error.field });
  }
  let clientId: string;
  try {
    clientId = await mintClientId(registration);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    // Each field is within its bounds, but together too much to carry in a client id.
    return refuse(
      new ClientRegistrationError(invalid, 'body', 'The metadata is too large to register'),
      { ...described, field: 'body' },
    );
  }
  const client: RegisteredClient = { client_id: clientId, ...registration };
  return {
    response: { statusCode: 201, headers: { ...RESPONSE_HEADERS }, body: JSON.stringify(client) },
    audit: { ...described, outcome: REGISTRATION_OUTCOME.registered, httpStatus: 201 },
  };
}

export function createRegistrationHandler(deps: RegistrationHandlerDeps): RegistrationHandler {
  const { logger } = deps;
  return async (event, context) => {
    if (context !== undefined) logger.addContext(context);
    const meta = {
      requestId: event.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown',
      sourceIp: event.requestContext?.identity?.sourceIp ?? 'unknown',
    };
    let answer: Answer;
    try {
      answer = await answerRegistration(event, deps.policy, deps.mintClientId, deps.maxBodyBytes);
    } catch (error) {
      // Fail closed, and still leave the one audit record.
      logger.error('Unhandled error in the registration handler', {
        [AUDIT_FIELDS.errorType]: error instanceof Error ? error.name : typeof error,
      });
      answer = {
        response: {
          statusCode: 500,
          headers: { ...RESPONSE_HEADERS },
          body: JSON.stringify({
            error: 'server_error',
            error_description: 'The registration could not be processed',
          }),
        },
        audit: {
          outcome: REGISTRATION_OUTCOME.error,
          httpStatus: 500,
          bodyBytes: Buffer.byteLength(event.body ?? ''),
        },
      };
    }
    auditClientRegistration(logger, { ...answer.audit, ...meta });
    return answer.response;
  };
}
