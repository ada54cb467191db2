/**
 * The not-before list read from its DynamoDB table: one strongly consistent Scan (paged), the
 * items parsed with a schema. The table is small by construction (entries expire an hour after
 * they are written), so a whole-table read every few seconds is cheaper and simpler than a
 * GetItem per authorization, and takes DynamoDB off the path of every request.
 *
 * The transport is a port speaking DynamoDB's JSON wire format (the `Scan` request and response
 * bodies), so the same code runs over a small signed-fetch client in Lambda, and over any
 * client in local mode and tests (dynalite).
 */
import * as z from 'zod/mini';
import type { AwsJsonClient } from '../shared/aws/json-client';
import { REVOCATION_ATTRIBUTES as A, type RevocationEntry } from '../shared/revocations';
import type { RevocationSource } from './revocation';

/** The `Scan` request this source sends (DynamoDB JSON wire format). */
export interface ScanRequest {
  readonly TableName: string;
  readonly ConsistentRead: true;
  readonly ProjectionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExclusiveStartKey?: Record<string, unknown>;
}

/** Sends one `Scan` and resolves to the response body (parsed here, so typed as unknown). */
export type ScanPort = (request: ScanRequest) => Promise<unknown>;

/**
 * The most entries accepted. Entries last about an hour, so this is far above any real use; a
 * table this full is refused (every request denied, the reason logged) rather than half read.
 */
export const MAX_REVOCATION_ENTRIES = 10_000;

const number = z.object({ N: z.string().check(z.regex(/^-?\d{1,15}(?:\.\d+)?$/)) });
const itemSchema = z.object({
  [A.principal]: z.object({ S: z.string().check(z.minLength(1), z.maxLength(512)) }),
  [A.notBefore]: z.optional(number),
  [A.sessionNotBefore]: z.optional(number),
  [A.expiresAt]: number,
});
const responseSchema = z.object({
  Items: z.optional(z.array(z.unknown())),
  LastEvaluatedKey: z.optional(z.record(z.string(), z.unknown())),
});

/** An item the authorizer cannot read: the load fails (closed), never skips it. */
export class RevocationItemError extends Error {
  override readonly name = 'RevocationItemError';
}

export interface DynamoDbRevocationSourceOptions {
  readonly tableName: string;
  readonly scan: ScanPort;
}

export class DynamoDbRevocationSource implements RevocationSource {
  readonly #tableName: string;
  readonly #scan: ScanPort;

  constructor(options: DynamoDbRevocationSourceOptions) {
    this.#tableName = options.tableName;
    this.#scan = options.scan;
  }

  async load(): Promise<ReadonlyMap<string, RevocationEntry>> {
    const entries = new Map<string, RevocationEntry>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const response = responseSchema.parse(
        await this.#scan({
          TableName: this.#tableName,
          // An entry written a moment ago must be seen: the whole point is seconds.
          ConsistentRead: true,
          ProjectionExpression: '#p, #nb, #snb, #exp',
          ExpressionAttributeNames: {
            '#p': A.principal,
            '#nb': A.notBefore,
            '#snb': A.sessionNotBefore,
            '#exp': A.expiresAt,
          },
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const raw of response.Items ?? []) {
        const item = itemSchema.safeParse(raw);
        if (!item.success) {
          throw new RevocationItemError(
            `An item of ${this.#tableName} does not have the not-before shape: ${item.error.issues
              .map((issue) => issue.path.join('.'))
              .join(', ')}`,
          );
        }
        const data = item.data;
        entries.set(data[A.principal].S, {
          notBefore: toNumber(data[A.notBefore]),
          sessionNotBefore: toNumber(data[A.sessionNotBefore]),
          expiresAt: Number(data[A.expiresAt].N),
        });
        if (entries.size > MAX_REVOCATION_ENTRIES) {
          throw new RevocationItemError(
            `${this.#tableName} holds over ${MAX_REVOCATION_ENTRIES} entries; refusing to use a partial list`,
          );
        }
      }
      startKey = response.LastEvaluatedKey;
    } while (startKey !== undefined);
    return entries;
  }
}

function toNumber(value: { N: string } | undefined): number | undefined {
  return value === undefined ? undefined : Number(value.N);
}

/**
 * The port over the small AWS client (`lambda/shared/aws`), which sends the wire format as it
 * is. Its retries and per-attempt timeout should fit within the list's load timeout.
 */
export function jsonClientScanPort(client: Pick<AwsJsonClient, 'call'>): ScanPort {
  return (request) => client.call('Scan', request);
}
