/**
 * An in-memory Secrets Manager holding one secret, with the service's staging-label semantics
 * (as documented for PutSecretValue, UpdateSecretVersionStage and RotateSecret):
 *
 * - a label is on at most one version; attaching it elsewhere takes it off the other version;
 * - moving AWSCURRENT puts AWSPREVIOUS on the version that had AWSCURRENT (taking it off the
 *   version that had it); AWSCURRENT can be moved but never just removed;
 * - moving a label that is on another version requires `RemoveFromVersionId` naming it;
 * - PutSecretValue without `VersionStages` moves AWSCURRENT to the new version; a repeated
 *   token with the same value is ignored, with a different value is `ResourceExistsException`;
 * - versions without labels are deprecated: not listed by DescribeSecret, not found by label;
 * - RotateSecret first creates an empty version (id = the token) labelled AWSPENDING, refusing
 *   while AWSPENDING is on a version other than AWSCURRENT's (a rotation still in flight); the
 *   function then fills it with PutSecretValue. When the rotation completes, the service clears
 *   AWSPENDING off the new AWSCURRENT version (AWS: "Our backend cleans up the pending label on
 *   rotation completion", aws-samples/aws-secrets-manager-rotation-lambdas#145). Users report
 *   it sometimes stays (#168); `clearsPendingOnCompletion: false` models that.
 *
 * `failNext` injects failures before or after an operation takes effect (a crash after a
 * write); {@link sdkClientFor} puts the stand-in behind a real AWS SDK client (the rotation
 * Lambda's) and {@link serveOverHttp} on a loopback endpoint (the authorizer's small client).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { RotationStep } from '../../lambda/rotation/handler';
import {
  InvalidRequestError,
  type PutSecretValueInput,
  type PutSecretValueOutput,
  ResourceExistsError,
  ResourceNotFoundError,
  type SecretDescription,
  type SecretsManagerPort,
  type SecretValue,
  type SecretVersionSelector,
  STAGE,
  type UpdateSecretVersionStageInput,
} from '../../lambda/rotation/secrets-manager-port';

export type Operation = keyof SecretsManagerPort;

/** A failure the test asked for, as opposed to one the service rules produce. */
export class InjectedFailureError extends Error {
  override readonly name = 'InjectedFailureError';
}

interface Version {
  /** `undefined` for the empty version RotateSecret creates before createSecret fills it. */
  value: string | undefined;
  readonly stages: Set<string>;
}

interface Failure {
  readonly operation: Operation;
  /** `after`: the operation takes effect, then the caller sees an error (a crash mid-step). */
  readonly when: 'before' | 'after';
  readonly error: Error;
}

export interface FakeSecretsManagerOptions {
  /** The value of the first version (AWSCURRENT), as CreateSecret would store it. */
  readonly secretString: string;
  readonly name?: string;
  readonly rotationEnabled?: boolean;
  /** Whether completing a rotation clears AWSPENDING off the new AWSCURRENT version. */
  readonly clearsPendingOnCompletion?: boolean;
}

/** A rotation function as Secrets Manager invokes it. */
export type RotationFunction = (event: {
  SecretId: string;
  ClientRequestToken: string;
  Step: RotationStep;
}) => Promise<unknown>;

const ROTATION_ORDER: readonly RotationStep[] = [
  'createSecret',
  'setSecret',
  'testSecret',
  'finishSecret',
];

export class FakeSecretsManager implements SecretsManagerPort {
  readonly name: string;
  readonly arn: string;
  rotationEnabled: boolean;
  /** Every port call, in order, with its input. */
  readonly calls: { readonly operation: Operation; readonly input: unknown }[] = [];
  readonly #clearsPending: boolean;
  readonly #versions = new Map<string, Version>();
  readonly #failures: Failure[] = [];

  constructor(options: FakeSecretsManagerOptions) {
    this.name = options.name ?? 'mcp/api-keys';
    this.arn = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${this.name}-AbCdEf`;
    this.rotationEnabled = options.rotationEnabled ?? true;
    this.#clearsPending = options.clearsPendingOnCompletion ?? true;
    this.#versions.set(randomUUID(), {
      value: options.secretString,
      stages: new Set([STAGE.current]),
    });
  }

  // --- The port -------------------------------------------------------------------------------

  async describeSecret(secretId: string): Promise<SecretDescription> {
    return this.#run('describeSecret', secretId, () => {
      this.#checkSecretId(secretId);
      return {
        ARN: this.arn,
        Name: this.name,
        RotationEnabled: this.rotationEnabled,
        VersionIdsToStages: this.stages(),
      };
    });
  }

  async getSecretValue(selector: SecretVersionSelector): Promise<SecretValue> {
    return this.#run('getSecretValue', selector, () => {
      this.#checkSecretId(selector.SecretId);
      const stage =
        selector.VersionStage ?? (selector.VersionId === undefined ? STAGE.current : undefined);
      let versionId = selector.VersionId;
      if (versionId === undefined) {
        versionId = this.versionWith(stage as string);
      } else if (stage !== undefined && !this.#versions.get(versionId)?.stages.has(stage)) {
        versionId = undefined;
      }
      const version = versionId === undefined ? undefined : this.#versions.get(versionId);
      if (versionId === undefined || version?.value === undefined) {
        const what =
          selector.VersionId === undefined
            ? `staging label: ${stage}`
            : `VersionId: ${selector.VersionId}`;
        throw new ResourceNotFoundError(
          `Secrets Manager can't find the specified secret value for ${what}`,
        );
      }
      return {
        VersionId: versionId,
        VersionStages: [...version.stages].sort(),
        SecretString: version.value,
      };
    });
  }

  async putSecretValue(input: PutSecretValueInput): Promise<PutSecretValueOutput> {
    return this.#run('putSecretValue', input, () => {
      this.#checkSecretId(input.SecretId);
      const versionId = input.ClientRequestToken;
      const existing = this.#versions.get(versionId);
      if (existing?.value !== undefined) {
        if (existing.value !== input.SecretString) {
          throw new ResourceExistsError(
            `You can't use ClientRequestToken ${versionId} because that value is already in use for a version of secret ${this.arn}`,
          );
        }
        // The same token and value again: ignored, labels untouched.
        return { VersionId: versionId, VersionStages: [...existing.stages].sort() };
      }
      if (existing === undefined) {
        this.#versions.set(versionId, { value: input.SecretString, stages: new Set() });
      } else {
        // The empty version RotateSecret created: the rotation function fills it in.
        existing.value = input.SecretString;
      }
      for (const stage of input.VersionStages ?? [STAGE.current]) this.#attach(stage, versionId);
      return { VersionId: versionId, VersionStages: this.#stagesOf(versionId) };
    });
  }

  async updateSecretVersionStage(input: UpdateSecretVersionStageInput): Promise<void> {
    return this.#run('updateSecretVersionStage', input, () => {
      this.#checkSecretId(input.SecretId);
      const {
        VersionStage: stage,
        MoveToVersionId: moveTo,
        RemoveFromVersionId: removeFrom,
      } = input;
      const holder = this.versionWith(stage);
      if (moveTo === undefined && removeFrom === undefined) {
        throw new InvalidRequestError('Specify MoveToVersionId, RemoveFromVersionId or both');
      }
      if (removeFrom !== undefined && holder !== removeFrom) {
        throw new InvalidRequestError(
          `The staging label ${stage} is not attached to version ${removeFrom}`,
        );
      }
      if (moveTo === undefined) {
        if (stage === STAGE.current) {
          throw new InvalidRequestError(
            'You can only move staging label AWSCURRENT to a different secret version. It cannot be completely removed.',
          );
        }
        this.#versions.get(removeFrom as string)?.stages.delete(stage);
        return;
      }
      if (!this.#versions.has(moveTo)) {
        throw new ResourceNotFoundError(`Secrets Manager can't find the version ${moveTo}`);
      }
      if (holder !== undefined && holder !== moveTo && removeFrom === undefined) {
        throw new InvalidRequestError(
          `The staging label ${stage} is currently attached to version ${holder}, so you must explicitly reference that version in RemoveFromVersionId`,
        );
      }
      this.#attach(stage, moveTo);
    });
  }

  // --- What the service does on its own: RotateSecret ----------------------------------------

  /**
   * RotateSecret's first half: create the empty AWSPENDING version the function will fill.
   * Refused while an earlier rotation is still in flight. Returns the token.
   */
  startRotation(token: string = randomUUID()): string {
    const pending = this.versionWith(STAGE.pending);
    if (pending !== undefined && pending !== this.versionWith(STAGE.current)) {
      throw new InvalidRequestError(
        'A previous rotation isn’t complete. That rotation will be reattempted.',
      );
    }
    if (this.#versions.has(token)) {
      throw new ResourceExistsError(`A version with id ${token} already exists`);
    }
    this.#versions.set(token, { value: undefined, stages: new Set() });
    this.#attach(STAGE.pending, token);
    return token;
  }

  /** What the service does once finishSecret returned: clear AWSPENDING off the new current. */
  completeRotation(token: string): void {
    const version = this.#versions.get(token);
    if (this.#clearsPending && version?.stages.has(STAGE.current)) {
      version.stages.delete(STAGE.pending);
    }
  }

  /** The event Secrets Manager sends for one step (it names the secret by ARN). */
  event(step: RotationStep, token: string) {
    return { SecretId: this.arn, ClientRequestToken: token, Step: step };
  }

  /**
   * A whole rotation as the service drives it: a new token, the four steps in order, then the
   * completion clean-up. A step that throws stops the rotation with the labels as they are.
   */
  async rotate(rotationFunction: RotationFunction, token?: string): Promise<string> {
    const id = this.startRotation(token);
    for (const step of ROTATION_ORDER) await rotationFunction(this.event(step, id));
    this.completeRotation(id);
    return id;
  }

  /**
   * RotateSecret with `RotateImmediately: false`: "Secrets Manager tests the rotation
   * configuration by running the testSecret step [...]. The test creates an AWSPENDING version
   * of the secret and then removes it." The docs do not say what that version holds; moto (the
   * closest open model) copies the current value, which is what this does. Returns the token.
   */
  async testRotationConfiguration(rotationFunction: RotationFunction): Promise<string> {
    const token = this.startRotation();
    const version = this.#versions.get(token) as Version;
    version.value = this.valueAt(STAGE.current);
    try {
      await rotationFunction(this.event('testSecret', token));
    } finally {
      version.stages.delete(STAGE.pending);
    }
    return token;
  }

  // --- Test controls and views ---------------------------------------------------------------

  /** Make the next call of `operation` fail, before or after it takes effect. */
  failNext(operation: Operation, options: { when?: 'before' | 'after'; error?: Error } = {}): void {
    this.#failures.push({
      operation,
      when: options.when ?? 'before',
      error: options.error ?? new InjectedFailureError(`Injected failure in ${operation}`),
    });
  }

  /** Labelled versions and their labels, as DescribeSecret's `VersionIdsToStages`. */
  stages(): Record<string, string[]> {
    const result: Record<string, string[]> = {};
    for (const [id, version] of this.#versions) {
      if (version.stages.size > 0) result[id] = [...version.stages].sort();
    }
    return result;
  }

  /** The version carrying a label, if any. */
  versionWith(stage: string): string | undefined {
    for (const [id, version] of this.#versions) if (version.stages.has(stage)) return id;
    return undefined;
  }

  /** The value of the version carrying a label; throws if there is none. */
  valueAt(stage: string): string {
    const id = this.versionWith(stage);
    const value = id === undefined ? undefined : this.#versions.get(id)?.value;
    if (value === undefined) throw new Error(`No value is labelled ${stage}`);
    return value;
  }

  /** The value of a version by id (deprecated ones included), `undefined` while empty. */
  valueOf(versionId: string): string | undefined {
    return this.#versions.get(versionId)?.value;
  }

  /** Every version id ever created, deprecated ones included. */
  versionIds(): string[] {
    return [...this.#versions.keys()];
  }

  // --- Internals -----------------------------------------------------------------------------

  #stagesOf(versionId: string): string[] {
    return [...(this.#versions.get(versionId)?.stages ?? [])].sort();
  }

  #checkSecretId(secretId: string): void {
    if (secretId !== this.name && secretId !== this.arn) {
      throw new ResourceNotFoundError("Secrets Manager can't find the specified secret.");
    }
  }

  /** Attach a label, taking it off any other version; AWSCURRENT drags AWSPREVIOUS along. */
  #attach(stage: string, versionId: string): void {
    const holder = this.versionWith(stage);
    if (holder === versionId) return;
    if (holder !== undefined) this.#versions.get(holder)?.stages.delete(stage);
    this.#versions.get(versionId)?.stages.add(stage);
    if (stage === STAGE.current && holder !== undefined) this.#attach(STAGE.previous, holder);
  }

  async #run<T>(operation: Operation, input: unknown, apply: () => T): Promise<T> {
    this.calls.push({ operation, input });
    const index = this.#failures.findIndex((failure) => failure.operation === operation);
    const failure = index === -1 ? undefined : this.#failures.splice(index, 1)[0];
    if (failure?.when === 'before') throw failure.error;
    const result = apply();
    if (failure?.when === 'after') throw failure.error;
    return result;
  }
}

/** The port errors as the service's wire exceptions. */
function wireError(error: unknown): { status: number; type: string; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ResourceNotFoundError) {
    return { status: 400, type: 'ResourceNotFoundException', message };
  }
  if (error instanceof ResourceExistsError) {
    return { status: 400, type: 'ResourceExistsException', message };
  }
  if (error instanceof InvalidRequestError) {
    return { status: 400, type: 'InvalidParameterException', message };
  }
  return { status: 500, type: 'InternalServiceError', message };
}

/** One JSON-protocol request answered by the stand-in: status, body and error type. */
async function answerJson(
  fake: FakeSecretsManager,
  target: string,
  text: string,
): Promise<{ status: number; body: unknown; errorType?: string }> {
  const operations: Record<string, (body: Record<string, unknown>) => Promise<unknown>> = {
    DescribeSecret: (body) => fake.describeSecret(String(body.SecretId)),
    GetSecretValue: (body) => fake.getSecretValue(body as unknown as SecretVersionSelector),
    PutSecretValue: (body) => fake.putSecretValue(body as unknown as PutSecretValueInput),
    UpdateSecretVersionStage: async (body) => {
      await fake.updateSecretVersionStage(body as unknown as UpdateSecretVersionStageInput);
      return { ARN: fake.arn, Name: fake.name };
    },
  };
  const operation = operations[target.replace(/^secretsmanager\./, '')];
  if (operation === undefined) {
    const errorType = 'UnknownOperationException';
    return { status: 400, body: { __type: errorType }, errorType };
  }
  try {
    return {
      status: 200,
      body: await operation(JSON.parse(text || '{}') as Record<string, unknown>),
    };
  } catch (error) {
    const { status, type, message } = wireError(error);
    return { status, body: { __type: type, message }, errorType: type };
  }
}

/**
 * A real AWS SDK client whose HTTP layer answers from the stand-in, speaking Secrets Manager's
 * JSON protocol in process (no socket): production adapters run unchanged against it.
 */
export function sdkClientFor(fake: FakeSecretsManager): SecretsManagerClient {
  const respond = ({ status, body, errorType }: Awaited<ReturnType<typeof answerJson>>) => ({
    response: {
      statusCode: status,
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID(),
        ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
      },
      body: new TextEncoder().encode(JSON.stringify(body)),
    },
  });
  return new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'fake-access-key-id', secretAccessKey: 'test-secret-key' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { headers: Record<string, string>; body?: unknown }) => {
        const { body } = request;
        const text =
          typeof body === 'string'
            ? body
            : body instanceof Uint8Array
              ? new TextDecoder().decode(body)
              : '{}';
        return respond(await answerJson(fake, request.headers['x-amz-target'] ?? '', text));
      },
      updateHttpClientConfig: () => {},
      httpHandlerConfigs: () => ({}),
    },
  });
}

/** The stand-in on a loopback HTTP endpoint, for clients that speak HTTP (the small AWS client). */
export interface ServedSecretsManager {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Serve the stand-in over loopback HTTP with Secrets Manager's JSON protocol. */
export async function serveOverHttp(fake: FakeSecretsManager): Promise<ServedSecretsManager> {
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const target = req.headers['x-amz-target'];
      const { status, body, errorType } = await answerJson(
        fake,
        typeof target === 'string' ? target : '',
        Buffer.concat(chunks).toString('utf8'),
      );
      res.writeHead(status, {
        'Content-Type': 'application/x-amz-json-1.1',
        'x-amzn-RequestId': randomUUID(),
        ...(errorType === undefined ? {} : { 'x-amzn-ErrorType': errorType }),
      });
      res.end(JSON.stringify(body));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
