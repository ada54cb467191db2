/**
 * The small AWS client: one SigV4-signed call to an AWS JSON-protocol service (DynamoDB,
 * Secrets Manager, KMS, Cognito Identity Provider), with retries and a bounded timeout, over
 * `node:http(s)`. It stands in for SDK v3 on the request path, whose clients cost ~100 ms of
 * cold start each; this loads in a few milliseconds (see docs/benchmarks.md).
 *
 * Signing is `aws4` (the signer `@aws-lite/client` uses too); the tests check its output
 * against SDK v3's own signer. Global `fetch` is not used: loading it costs more cold start
 * than all the rest of this client.
 *
 * Behaviour, matching SDK v3's "standard" retry mode where it matters:
 * - up to `maxAttempts` (3) attempts; between them a full-jitter exponential back-off
 *   (random × min(20 s, 100 ms × 2^attempt)), on throttling codes, HTTP 429 and 5xx,
 *   connection errors and attempt timeouts;
 * - every attempt is bounded by `attemptTimeoutMs` (3,000 ms), connect to last byte;
 * - a failure rejects with an {@link AwsError} carrying the service's error code.
 *
 * A retried write may have taken effect the first time (a reset after DynamoDB applied it):
 * the same as with SDK v3, a conditional write then reports its condition as failed.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import aws4 from 'aws4';
import {
  type AwsCredentials,
  type AwsEnvironment,
  type AwsService,
  type CredentialSource,
  credentialsFromEnv,
  resolveEndpoint,
  resolveRegion,
} from './config';
import { AwsError, CLIENT_ERROR_CODES } from './error';

/** How a client is set up; every field is optional and defaults as in a Lambda function. */
export interface AwsClientOptions {
  /** @default `AWS_REGION`, then `AWS_DEFAULT_REGION` */
  readonly region?: string;
  /** @default `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then the regional endpoint */
  readonly endpoint?: string;
  /** @default `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, read per call */
  readonly credentials?: CredentialSource;
  /** Attempts per call, the first included. @default 3 */
  readonly maxAttempts?: number;
  /** Bound on each attempt, connect to last byte of the response. @default 3000 */
  readonly attemptTimeoutMs?: number;
  /** Where the defaults above are read. @default process.env */
  readonly env?: AwsEnvironment;
  /** The signing clock. @default () => new Date() */
  readonly now?: () => Date;
  /** The pause before retry `retry` (1 for the first). @default full-jitter exponential */
  readonly retryDelayMs?: (retry: number) => number;
}

/** Per-call options. */
export interface CallOptions {
  /** Overrides the client's `attemptTimeoutMs` for this call. */
  readonly attemptTimeoutMs?: number;
  /** Aborts the call (no retry after it fires). */
  readonly signal?: AbortSignal;
}

const DEFAULT_MAX_ATTEMPTS = 3;
const DEFAULT_ATTEMPT_TIMEOUT_MS = 3_000;
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 20_000;
/** Larger than any answer these services give (DynamoDB caps a page at 1 MB). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Error codes SDK v3 treats as throttling (retried whatever the status). */
const THROTTLING_CODES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
/** Error codes SDK v3 treats as transient. */
const TRANSIENT_CODES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

/** The default pause before retry `retry`: full jitter under an exponential cap (SDK v3 standard mode). */
export function fullJitterDelayMs(retry: number): number {
  return Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** retry);
}

/** Keep-alive agents, shared by every client in the process (as SDK v3's handler does). */
const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: 50 }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: 50 }),
};

interface RawResponse {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** Why an attempt got no response; `retryable` unless the caller aborted. */
class NoResponse extends Error {
  constructor(
    readonly code: string,
    readonly retryable: boolean,
    cause: unknown,
  ) {
    super(code, { cause });
  }
}

function header(headers: IncomingMessage['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The error code of an AWS JSON error response: `__type` or `code` in the body, else the
 * `x-amzn-ErrorType` header; namespace (`com.amazonaws...#`) and suffix (`:http://...`) cut
 * off, as SDK v3 does.
 */
export function errorCodeOf(
  body: Record<string, unknown> | undefined,
  headers: IncomingMessage['headers'],
): string | undefined {
  const sanitize = (raw: string) => {
    const noSuffix = raw.split(':')[0] ?? raw;
    return noSuffix.includes('#') ? (noSuffix.split('#').at(-1) ?? noSuffix) : noSuffix;
  };
  const fromHeader = header(headers, 'x-amzn-errortype');
  if (fromHeader !== undefined && fromHeader !== '') return sanitize(fromHeader);
  const fromBody = body?.__type ?? body?.code;
  return typeof fromBody === 'string' && fromBody !== '' ? sanitize(fromBody) : undefined;
}

function parseBody(text: string): Record<string, unknown> | undefined {
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A client for one AWS JSON-protocol service. Build one per service at module scope; it is
 * cheap (region and endpoint are resolved on the first call) and safe to share.
 */
export class AwsJsonClient {
  readonly service: AwsService;
  readonly #options: AwsClientOptions;
  readonly #env: AwsEnvironment;
  readonly #maxAttempts: number;
  readonly #attemptTimeoutMs: number;
  readonly #now: () => Date;
  readonly #retryDelayMs: (retry: number) => number;
  #target: { readonly region: string; readonly url: URL } | undefined;

  constructor(service: AwsService, options: AwsClientOptions = {}) {
    this.service = service;
    this.#options = options;
    this.#env = options.env ?? process.env;
    this.#maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    this.#now = options.now ?? (() => new Date());
    this.#retryDelayMs = options.retryDelayMs ?? fullJitterDelayMs;
  }

  /**
   * Call `operation` with `input` (the service's JSON request shape) and return its parsed
   * JSON answer. Rejects with {@link AwsError} only.
   */
  async call<T = Record<string, unknown>>(
    operation: string,
    input: object,
    options: CallOptions = {},
  ): Promise<T> {
    const fail = (details: Omit<ConstructorParameters<typeof AwsError>[0], 'service'>) =>
      new AwsError({ service: this.service.name, ...details });
    let target: { readonly region: string; readonly url: URL };
    let body: string;
    try {
      target = this.#resolveTarget();
      body = JSON.stringify(input);
    } catch (error) {
      if (error instanceof AwsError) throw error;
      throw fail({
        operation,
        code: CLIENT_ERROR_CODES.configuration,
        retryable: false,
        attempts: 0,
        serviceMessage: 'The input could not be serialised',
      });
    }
    const timeoutMs = options.attemptTimeoutMs ?? this.#attemptTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      let last: AwsError;
      try {
        const credentials = await this.#credentials();
        const response = await this.#send(target, operation, body, credentials, timeoutMs, options);
        const parsed = parseBody(response.body);
        const requestId = header(response.headers, 'x-amzn-requestid');
        if (response.status >= 200 && response.status < 300) {
          if (parsed === undefined) {
            last = fail({
              operation,
              code: CLIENT_ERROR_CODES.invalidResponse,
              status: response.status,
              retryable: false,
              requestId,
              attempts: attempt,
              serviceMessage: 'The response is not a JSON object',
            });
          } else {
            return parsed as T;
          }
        } else {
          const code = errorCodeOf(parsed, response.headers) ?? CLIENT_ERROR_CODES.unknown;
          const message = parsed?.message ?? parsed?.Message;
          last = fail({
            operation,
            code,
            status: response.status,
            retryable:
              THROTTLING_CODES.has(code) ||
              TRANSIENT_CODES.has(code) ||
              response.status === 429 ||
              response.status >= 500,
            requestId,
            attempts: attempt,
            serviceMessage: typeof message === 'string' ? message : undefined,
          });
        }
      } catch (error) {
        if (error instanceof AwsError) throw error;
        const noResponse =
          error instanceof NoResponse
            ? error
            : new NoResponse(CLIENT_ERROR_CODES.network, true, error);
        last = fail({
          operation,
          code: noResponse.code,
          retryable: noResponse.retryable,
          attempts: attempt,
          cause: noResponse.cause,
        });
      }
      if (!last.retryable || attempt >= this.#maxAttempts || options.signal?.aborted) throw last;
      await delay(this.#retryDelayMs(attempt), options.signal);
      if (options.signal?.aborted) throw last;
    }
  }

  #resolveTarget(): { readonly region: string; readonly url: URL } {
    if (this.#target === undefined) {
      const region = resolveRegion(this.service, this.#env, this.#options.region);
      const url = resolveEndpoint(this.service, region, this.#env, this.#options.endpoint);
      this.#target = { region, url };
    }
    return this.#target;
  }

  async #credentials(): Promise<AwsCredentials> {
    const source = this.#options.credentials;
    if (source === undefined) return credentialsFromEnv(this.service, this.#env);
    return typeof source === 'function' ? await source() : source;
  }

  #send(
    target: { readonly region: string; readonly url: URL },
    operation: string,
    body: string,
    credentials: AwsCredentials,
    timeoutMs: number,
    options: CallOptions,
  ): Promise<RawResponse> {
    const { url, region } = target;
    const path = url.pathname === '' ? '/' : url.pathname;
    const signed = aws4.sign(
      {
        service: this.service.signingName,
        region,
        method: 'POST',
        host: url.host,
        path,
        body,
        headers: {
          Host: url.host,
          'Content-Type': `application/x-amz-json-${this.service.jsonVersion}`,
          'X-Amz-Target': `${this.service.targetPrefix}.${operation}`,
          'X-Amz-Date': this.#now()
            .toISOString()
            .replace(/[:-]|\.\d{3}/g, ''),
          'Content-Length': String(Buffer.byteLength(body)),
        },
      },
      {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        ...(credentials.sessionToken === undefined
          ? {}
          : { sessionToken: credentials.sessionToken }),
      },
    );
    const secure = url.protocol === 'https:';
    return new Promise<RawResponse>((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new NoResponse(CLIENT_ERROR_CODES.aborted, false, options.signal.reason));
        return;
      }
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: RawResponse | NoResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (outcome instanceof NoResponse) {
          req.destroy();
          reject(outcome);
        } else {
          resolve(outcome);
        }
      };
      const onAbort = () =>
        finish(new NoResponse(CLIENT_ERROR_CODES.aborted, false, options.signal?.reason));
      const send = secure ? httpsRequest : httpRequest;
      const req = send(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port === '' ? undefined : Number(url.port),
          method: 'POST',
          path,
          headers: signed.headers as Record<string, string>,
          agent: secure ? agents.https : agents.http,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              finish(new NoResponse(CLIENT_ERROR_CODES.invalidResponse, false, undefined));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () =>
            finish({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', (error) =>
            finish(new NoResponse(CLIENT_ERROR_CODES.network, true, error)),
          );
          // A socket closed mid-body: no 'end', only 'close' with the message incomplete.
          res.on('close', () => {
            if (!res.complete) finish(new NoResponse(CLIENT_ERROR_CODES.network, true, undefined));
          });
        },
      );
      timer = setTimeout(
        () => finish(new NoResponse(CLIENT_ERROR_CODES.timeout, true, undefined)),
        timeoutMs,
      );
      options.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error) => finish(new NoResponse(CLIENT_ERROR_CODES.network, true, error)));
      req.end(body);
    });
  }
}
