/**
 * Where the small AWS client gets its region, credentials and endpoint, as SDK v3 does for a
 * Lambda function: the variables the Lambda runtime sets (`AWS_REGION`, `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and the endpoint overrides local mode and the
 * tests use (`AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`). No shared config files, no
 * instance metadata: off Lambda, pass `credentials` (the operator CLIs keep SDK v3 for profiles
 * and SSO).
 */
import { AwsError, CLIENT_ERROR_CODES } from './error';

/** Signing credentials; `sessionToken` is set for every temporary credential (Lambda's are). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** Fixed credentials, or a function asked before every attempt (e.g. a refreshing provider). */
export type CredentialSource = AwsCredentials | (() => AwsCredentials | Promise<AwsCredentials>);

/** The environment variables the client reads, `process.env` by default. */
export type AwsEnvironment = Readonly<Record<string, string | undefined>>;

/** A service as the client needs to know it (only AWS JSON-protocol services). */
export interface AwsService {
  /** Its name in errors, e.g. `DynamoDB`. */
  readonly name: string;
  /** The SigV4 signing name (`dynamodb`, `secretsmanager`, `kms`, `cognito-idp`). */
  readonly signingName: string;
  /** The host prefix of its regional endpoint, `https://<prefix>.<region>.amazonaws.com`. */
  readonly endpointPrefix: string;
  /** The `X-Amz-Target` prefix, e.g. `DynamoDB_20120810`. */
  readonly targetPrefix: string;
  /** The `application/x-amz-json-<version>` content type it speaks. */
  readonly jsonVersion: '1.0' | '1.1';
  /**
   * The suffix of its `AWS_ENDPOINT_URL_<SUFFIX>` override, as SDK v3 derives it from the
   * service id (upper case, spaces to underscores): `DYNAMODB`, `SECRETS_MANAGER`, `KMS`,
   * `COGNITO_IDENTITY_PROVIDER`.
   */
  readonly endpointVariable: string;
}

function configurationError(service: AwsService, message: string): AwsError {
  return new AwsError({
    service: service.name,
    operation: 'configure',
    code: CLIENT_ERROR_CODES.configuration,
    retryable: false,
    attempts: 0,
    serviceMessage: message,
  });
}

/** The region: the explicit one, else `AWS_REGION`, else `AWS_DEFAULT_REGION`. */
export function resolveRegion(service: AwsService, env: AwsEnvironment, explicit?: string): string {
  const region = explicit ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  // A region lands in a host name: refuse anything that is not one.
  if (region === undefined || !/^[a-z0-9-]{1,40}$/.test(region)) {
    throw configurationError(service, 'No valid region: set AWS_REGION or pass `region`');
  }
  return region;
}

/**
 * The endpoint URL: the explicit one, else `AWS_ENDPOINT_URL_<SERVICE>`, else
 * `AWS_ENDPOINT_URL` (both ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`, as in SDK
 * v3), else the service's regional endpoint.
 */
export function resolveEndpoint(
  service: AwsService,
  region: string,
  env: AwsEnvironment,
  explicit?: string,
): URL {
  const configured =
    env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true'
      ? undefined
      : (env[`AWS_ENDPOINT_URL_${service.endpointVariable}`] ?? env.AWS_ENDPOINT_URL);
  const raw = explicit ?? configured;
  if (raw === undefined || raw === '') {
    return new URL(`https://${service.endpointPrefix}.${region}.amazonaws.com/`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw configurationError(service, 'The endpoint override is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw configurationError(service, 'The endpoint override must be an http(s) URL');
  }
  return url;
}

/** Credentials from the environment, as the Lambda runtime sets them. */
export function credentialsFromEnv(service: AwsService, env: AwsEnvironment): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw configurationError(
      service,
      'No credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set',
    );
  }
  const sessionToken = env.AWS_SESSION_TOKEN;
  return { accessKeyId, secretAccessKey, sessionToken: sessionToken || undefined };
}
