/**
 * One request to the proxy as the audit log sees it: the step it belongs to, what is known of
 * its client so far, and how it ended (a refusal or failure is a {@link StepError}, thrown by
 * the endpoint, answered and recorded by `proxy.ts`). Field names are `../shared/audit.ts`'s.
 */
import type {
  AuthorizationAudit,
  AuthorizationOutcome,
  AuthorizationReason,
  AuthorizationStep,
  ClientKind,
} from '../shared/audit';
import { OAUTH_PATHS } from '../shared/routes';
import type { ProxyRequest, ProxyResponse } from './http';
import type { AuthorizationRequest } from './records';

/** What one request leaves in the audit log (the handler adds request id and source IP). */
export type StepAudit = Omit<AuthorizationAudit, 'requestId' | 'sourceIp'>;

export interface ProxyOutcome {
  readonly response: ProxyResponse;
  readonly audit: StepAudit;
}

/** A refusal or failure of one step: its answer and its audit record's reason. */
export class StepError extends Error {
  constructor(
    readonly reason: AuthorizationReason,
    readonly response: ProxyResponse,
    readonly outcome: AuthorizationOutcome = 'refused',
  ) {
    super(reason);
  }
}

/** What the audit record knows so far about the request's client; endpoints fill it in. */
export interface ClientFacts {
  kind: ClientKind;
  digest?: string;
  host?: string;
  redirectHost?: string;
  scopes?: readonly string[];
  familyDigest?: string;
  familyEnded?: boolean;
}

/** Note the client, redirect host and scopes of an authorization request for the record. */
export function noteAuthorization(facts: ClientFacts, request: AuthorizationRequest): void {
  facts.kind = request.clientKind;
  facts.digest = request.clientDigest;
  if (request.clientHost !== undefined) facts.host = request.clientHost;
  facts.redirectHost = new URL(request.redirectUri).host;
  facts.scopes = request.scopes;
}

/** The audit record of a step. */
export function stepAudit(
  step: AuthorizationStep,
  facts: ClientFacts,
  outcome: AuthorizationOutcome,
  reason: AuthorizationReason,
  httpStatus: number,
  oauthError?: string,
): StepAudit {
  return {
    step,
    clientKind: facts.kind,
    outcome,
    reason,
    httpStatus,
    ...(oauthError === undefined ? {} : { oauthError }),
    ...(facts.digest === undefined ? {} : { clientDigest: facts.digest.slice(0, 16) }),
    ...(facts.host === undefined ? {} : { clientHost: facts.host }),
    ...(facts.redirectHost === undefined ? {} : { redirectHost: facts.redirectHost }),
    ...(facts.scopes === undefined ? {} : { scopes: facts.scopes }),
    ...(facts.familyDigest === undefined ? {} : { familyDigest: facts.familyDigest }),
    ...(facts.familyEnded === true ? { familyEnded: true } : {}),
  };
}

/** The OAuth error an answer carries (JSON body, redirect, or error page), for the record. */
export function oauthErrorOf(response: ProxyResponse): string | undefined {
  if (response.headers['Content-Type'] === 'application/json') {
    try {
      const error = (JSON.parse(response.body) as { error?: unknown }).error;
      return typeof error === 'string' ? error : undefined;
    } catch {
      return undefined;
    }
  }
  const location = response.headers.Location;
  if (location !== undefined) return new URL(location).searchParams.get('error') ?? undefined;
  return /<code>([a-z_]+)<\/code>/.exec(response.body)?.[1];
}

/** The audit step a request belongs to, before it is read. */
export function stepOf(request: ProxyRequest): AuthorizationStep {
  const { method, path } = request;
  if (path === OAUTH_PATHS.authorize) return method === 'POST' ? 'consent' : 'authorize';
  if (path === OAUTH_PATHS.callback) return 'callback';
  if (path === OAUTH_PATHS.token && method === 'POST') {
    return new URLSearchParams(request.body).get('grant_type') === 'refresh_token'
      ? 'refresh'
      : 'token';
  }
  return 'token';
}
