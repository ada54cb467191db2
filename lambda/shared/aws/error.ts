/**
 * The one error every call of the small AWS client rejects with. Callers branch on `code`
 * (the service's own error code, e.g. `ResourceNotFoundException`,
 * `ConditionalCheckFailedException`) and log `code`, `status`, `requestId`: never a request
 * body, a secret or a credential, none of which an {@link AwsError} ever holds.
 */

/** Codes the client itself uses when the service gave none. */
export const CLIENT_ERROR_CODES = {
  /** No response: connection refused or reset, DNS failure, socket closed early. */
  network: 'NetworkError',
  /** No (complete) response within the attempt timeout. */
  timeout: 'TimeoutError',
  /** A response the client could not read: not JSON, or larger than the limit. */
  invalidResponse: 'InvalidResponseError',
  /** Missing region or credentials, or a malformed endpoint override. */
  configuration: 'ConfigurationError',
  /** An error status without an error code in the body or headers. */
  unknown: 'UnknownError',
  /** The caller's AbortSignal fired. */
  aborted: 'AbortError',
} as const;

export interface AwsErrorDetails {
  /** The service's name as the client knows it, e.g. `DynamoDB`. */
  readonly service: string;
  /** The operation, e.g. `GetItem`. */
  readonly operation: string;
  /** The service's error code, or one of {@link CLIENT_ERROR_CODES}. */
  readonly code: string;
  /** The HTTP status, or `undefined` when no response arrived. */
  readonly status?: number | undefined;
  /** Whether the failure is transient (throttling, 5xx, network, timeout). */
  readonly retryable: boolean;
  /** `x-amzn-RequestId` of the last attempt, for AWS support and CloudTrail. */
  readonly requestId?: string | undefined;
  /** Attempts made, retries included. */
  readonly attempts: number;
  /** The service's own message (never the request), capped in length. */
  readonly serviceMessage?: string | undefined;
  readonly cause?: unknown;
}

/** Longest service message kept: enough to act on, never a whole echoed document. */
const MAX_SERVICE_MESSAGE = 300;

/** A failed AWS call, after any retries. */
export class AwsError extends Error {
  override readonly name = 'AwsError';
  readonly service: string;
  readonly operation: string;
  readonly code: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly requestId: string | undefined;
  readonly attempts: number;
  readonly serviceMessage: string | undefined;

  constructor(details: AwsErrorDetails) {
    const serviceMessage = details.serviceMessage?.slice(0, MAX_SERVICE_MESSAGE);
    super(
      `${details.service}.${details.operation} failed: ${details.code}` +
        (details.status === undefined ? '' : ` (HTTP ${details.status})`) +
        (serviceMessage === undefined || serviceMessage === '' ? '' : `: ${serviceMessage}`),
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.service = details.service;
    this.operation = details.operation;
    this.code = details.code;
    this.status = details.status;
    this.retryable = details.retryable;
    this.requestId = details.requestId;
    this.attempts = details.attempts;
    this.serviceMessage = serviceMessage;
  }
}

/** Whether `error` is an {@link AwsError} with the given service error code. */
export function isAwsError(error: unknown, code?: string): error is AwsError {
  return error instanceof AwsError && (code === undefined || error.code === code);
}

/**
 * What failed, for a log line: an AWS error's code (AccessDeniedException, ThrottlingException,
 * …), else the error's name. Never a message, which may name a resource or echo input.
 */
export function failureName(error: unknown): string {
  if (isAwsError(error)) return error.code;
  return error instanceof Error ? error.name : typeof error;
}

/** A 2xx answer without a field the caller relies on: fail closed rather than guess. */
export function invalidResponseError(
  service: string,
  operation: string,
  message: string,
): AwsError {
  return new AwsError({
    service,
    operation,
    code: CLIENT_ERROR_CODES.invalidResponse,
    retryable: false,
    attempts: 1,
    serviceMessage: message,
  });
}
