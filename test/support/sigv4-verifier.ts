/**
 * Checks a received request's SigV4 signature the way AWS does: recompute it with SDK v3's own
 * signer (`@smithy/signature-v4`) over what arrived (method, path, the headers named in
 * `SignedHeaders`, the body) at the request's own `X-Amz-Date`, and compare.
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';

/** Bytes of SDK v3's `SourceData` (text, a buffer, or a view of one). */
function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** SDK v3's node hash (`@smithy/hash-node`), inlined: SHA-256, or HMAC-SHA-256 with a key. */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: SourceData) {
    this.#hash =
      secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface SigningExpectation {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly region: string;
  readonly service: string;
}

/** X-Amz-Date (`20260101T120000Z`) to a Date. */
function parseAmzDate(value: string): Date {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (match === null) throw new Error(`X-Amz-Date is malformed: ${value}`);
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
}

const single = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value.join(',') : value;

/** The Authorization header SDK v3 computes for what arrived. */
export async function expectedAuthorization(
  received: ReceivedRequest,
  expectation: SigningExpectation,
): Promise<string> {
  const authorization = single(received.headers.authorization) ?? '';
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  const amzDate = single(received.headers['x-amz-date']);
  if (amzDate === undefined) throw new Error('No X-Amz-Date header');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    // The signer adds these itself from its inputs.
    if (name === 'x-amz-date' || name === 'x-amz-security-token') continue;
    const value = single(received.headers[name]);
    if (value !== undefined) headers[name] = value;
  }
  const host = headers.host ?? '';
  const signer = new SignatureV4({
    service: expectation.service,
    region: expectation.region,
    credentials: {
      accessKeyId: expectation.accessKeyId,
      secretAccessKey: expectation.secretAccessKey,
      ...(expectation.sessionToken === undefined ? {} : { sessionToken: expectation.sessionToken }),
    },
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: received.method,
      protocol: 'http:',
      hostname: host.split(':')[0] ?? host,
      path: received.path,
      query: {},
      headers,
      body: received.body,
    },
    { signingDate: parseAmzDate(amzDate) },
  );
  return String(signed.headers.authorization);
}

/** Whether the request's signature is what SDK v3 computes for it. */
export async function hasValidSignature(
  received: ReceivedRequest,
  expectation: SigningExpectation,
): Promise<boolean> {
  return (
    (await expectedAuthorization(received, expectation)) === single(received.headers.authorization)
  );
}
