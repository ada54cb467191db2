/**
 * Writing the not-before list: the operator's side of `users` and `keys revoke`. One UpdateItem
 * per principal in the DynamoDB table the authorizer reads (deployed, or local mode's embedded
 * one), with the retention rule and attribute names of `lambda/shared/revocations.ts`.
 *
 * This runs on an operator's machine, off the request path, so it uses the AWS SDK's DynamoDB
 * client; the authorizer reads the same table with its own small client.
 */
import {
  DynamoDBClient,
  type DynamoDBClientConfig,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  REVOCATION_ATTRIBUTES as A,
  REVOCATION_RETENTION_SECONDS,
} from '../../lambda/shared/revocations';

/** What an operator did, as the entry and the audit record name it. */
export type RevocationAction =
  | 'disable'
  | 'sign-out'
  | 'add-group'
  | 'remove-group'
  | 'revoke-key'
  | 'delete-key';

export interface NotBefore {
  /** `user#<sub>` or `key#<id>` (see `userPrincipal`, `apiKeyPrincipal`). */
  readonly principal: string;
  /** Epoch seconds: credentials issued before it are refused. */
  readonly notBefore: number;
  /** Also refuse tokens of sessions that began before it (sign-out, disable). */
  readonly sessions: boolean;
  readonly action: RevocationAction;
  /** Who did it, for the entry (the audit trail also has the AWS identity, in CloudTrail). */
  readonly actor: string;
}

export interface RevocationWriter {
  /** Where the list lives, for messages. */
  readonly description: string;
  record(entry: NotBefore): Promise<void>;
}

/** The UpdateItem input for an entry: one place for the attribute names and the expiry. */
export function updateItemInput(tableName: string, entry: NotBefore, now: Date) {
  const names: Record<string, string> = {
    '#nb': A.notBefore,
    '#exp': A.expiresAt,
    '#act': A.action,
    '#who': A.actor,
    '#at': A.updatedAt,
  };
  const values: Record<string, { N: string } | { S: string }> = {
    ':nb': { N: String(entry.notBefore) },
    ':exp': { N: String(entry.notBefore + REVOCATION_RETENTION_SECONDS) },
    ':act': { S: entry.action },
    ':who': { S: entry.actor.slice(0, 256) },
    ':at': { S: now.toISOString() },
  };
  let set = '#nb = :nb, #exp = :exp, #act = :act, #who = :who, #at = :at';
  if (entry.sessions) {
    names['#snb'] = A.sessionNotBefore;
    values[':snb'] = { N: String(entry.notBefore) };
    set += ', #snb = :snb';
  }
  return {
    TableName: tableName,
    Key: { [A.principal]: { S: entry.principal } },
    UpdateExpression: `SET ${set}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

export class DynamoDbRevocationWriter implements RevocationWriter {
  readonly description: string;
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #now: () => Date;

  constructor(options: { client: DynamoDBClient; tableName: string; now?: () => Date }) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#now = options.now ?? (() => new Date());
    this.description = `table ${options.tableName}`;
  }

  async record(entry: NotBefore): Promise<void> {
    await this.#client.send(
      new UpdateItemCommand(updateItemInput(this.#tableName, entry, this.#now())),
    );
  }
}

/** The writer for the deployed table, with the region and credentials of the standard AWS env. */
export function createDynamoDbRevocationWriter(
  tableName: string,
  config: DynamoDBClientConfig = {},
): DynamoDbRevocationWriter {
  return new DynamoDbRevocationWriter({ client: new DynamoDBClient(config), tableName });
}

/**
 * The not-before time for a change that has just been made: the next whole second. A token
 * Cognito issued before the change carries an `iat` at or before the current second, so it is
 * refused; one issued after it, by the next second, is not. Cognito's clock and this machine's
 * must agree (NTP): a machine running behind would leave tokens of its lag unrefused.
 */
export function notBeforeFor(now: Date): number {
  return Math.floor(now.getTime() / 1000) + 1;
}
