/**
 * Why an item failed, for its author in local mode (`npm run dev`): the error's class and
 * message (and an AWS error's service code), secrets redacted, shown to the caller and in the
 * dev terminal. In AWS the switch is never on (see {@link LOCAL_ERROR_DETAIL_VARIABLE}): the
 * caller gets the request id to quote, and the audit record the error's name, never its
 * message, which may name a resource or echo an argument.
 */
import { isAwsError } from '../shared/aws/error';
import { ConfigurationError, LOCAL_ERROR_DETAIL_VARIABLE } from '../shared/env';
import { redactSecrets } from '../shared/redact';

/** The longest description given: enough to act on, never a whole echoed document. */
export const MAX_ERROR_DETAIL = 1000;

/** How many causes deep a description goes. */
const MAX_CAUSES = 3;

/**
 * Whether the local gateway asked for error detail: `true`, or unset (off). Anything else stops
 * the function starting, as any other bad variable does.
 */
export function localErrorDetailOn(env: Readonly<Record<string, string | undefined>>): boolean {
  const value = env[LOCAL_ERROR_DETAIL_VARIABLE];
  if (value === undefined || value === '') return false;
  if (value === 'true') return true;
  throw new ConfigurationError(
    `Invalid environment: ${LOCAL_ERROR_DETAIL_VARIABLE}: must be true or unset (only the local gateway sets it)`,
  );
}

/** An AWS SDK v3 service exception: its `name` is the service's error code. */
function sdkStatus(error: Error): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

/** One error, without its causes: `Name [code]: message`. */
function describeOne(error: unknown): string {
  if (!(error instanceof Error)) return `${typeof error} thrown: ${String(error)}`;
  let label = error.name;
  if (isAwsError(error)) label = `${error.name} [${error.code}]`;
  else {
    const status = sdkStatus(error);
    if (status !== undefined) label = `${error.name} [AWS, HTTP ${status}]`;
  }
  return error.message === '' ? label : `${label}: ${error.message}`;
}

/**
 * What failed, for a person: the error and up to three causes, each `Name [code]: message`,
 * everything that looks secret (tokens, keys, `Authorization` values) redacted, capped at
 * {@link MAX_ERROR_DETAIL} characters.
 */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth <= MAX_CAUSES && current !== undefined; depth++) {
    parts.push(describeOne(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  const text = redactSecrets(parts.join('; caused by '));
  return text.length > MAX_ERROR_DETAIL ? `${text.slice(0, MAX_ERROR_DETAIL - 1)}…` : text;
}
