/**
 * Manages API keys in the local key file (the same schema as the deployed secret).
 *
 *   npm run --silent keys -- create --name ci-bot --roles analyst
 *   npm run --silent keys -- list
 *   npm run --silent keys -- revoke <key id>
 *   npm run --silent keys -- delete <key id>
 *
 * The deployment's roles (`modules/roles.ts`) are read here, at the entry point, and handed to
 * the key document operations, which know no deployment.
 */
import { dirname } from 'node:path';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../lambda/shared/audit';
import { apiKeyPrincipal } from '../../lambda/shared/revocations';
import { ROLES } from '../../modules/roles';
import { apiKeyFilePath } from '../local/identity';
import { LocalRevocationWriter } from '../local/revocations';
import {
  addKey,
  deleteKey,
  FileKeyDocumentStore,
  KeyAdminError,
  listKeys,
  revokeKey,
} from './api-key-admin';
import { commaList, parseCli, runCli, UsageError } from './common';
import {
  createDynamoDbRevocationWriter,
  notBeforeFor,
  type RevocationWriter,
} from './revocation-writer';
import { createSecretKeyDocumentStore } from './secret-key-document-store';
import { defaultActor, writeAuditLine } from './user-admin';

const USAGE = `usage: npm run --silent keys -- <command> [options]

  create --name <name> --roles <a,b> [--expires-in-days <n>]
                         create a key and print it (shown once; stored hashed)
  list [--json]          key ids, names, roles and status (never secrets)
  revoke <key id>        revoke a key: refused within 10 s plus the authorizer cache TTL
  delete <key id>        remove a key from the document altogether (and refuse it as revoke
                         does), e.g. one naming a role this deployment no longer defines

  --file <path>          key file (default ${apiKeyFilePath()})
  --secret-id <id|arn>   the deployed Secrets Manager secret instead of the file: writes a new
                         version (region and credentials from the standard AWS environment)
  --revocations-table <name>
                         with --secret-id: the not-before table (or MCP_REVOCATIONS_TABLE,
                         stack output RevocationsTableName) revoke records the key in, so it is
                         refused in seconds rather than when cached copies of the secret expire
  --actor <name>         who revokes, for the record (default: user@host)
  roles: ${ROLES.join(', ')}`;

runCli(async () => {
  const { values, positionals } = parseCli({
    options: {
      name: { type: 'string' },
      roles: { type: 'string' },
      'expires-in-days': { type: 'string' },
      file: { type: 'string' },
      'secret-id': { type: 'string' },
      'revocations-table': { type: 'string' },
      actor: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    if (command === undefined && !values.help) throw new UsageError('a command is required');
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const secretId = values['secret-id'];
  if (secretId !== undefined && values.file !== undefined) {
    throw new UsageError('--file and --secret-id cannot be used together');
  }
  const store =
    secretId === undefined
      ? new FileKeyDocumentStore(values.file ?? apiKeyFilePath())
      : createSecretKeyDocumentStore(secretId);
  const now = new Date();
  try {
    switch (command) {
      case 'create': {
        if (values.name === undefined) throw new UsageError('create needs --name');
        const roles = commaList(values.roles);
        if (roles.length === 0) throw new UsageError(`create needs --roles (${ROLES.join(', ')})`);
        const days =
          values['expires-in-days'] === undefined ? undefined : Number(values['expires-in-days']);
        if (days !== undefined && !(Number.isInteger(days) && days > 0)) {
          throw new UsageError('--expires-in-days takes a positive whole number');
        }
        const result = addKey(await store.read(), {
          name: values.name,
          roles,
          knownRoles: ROLES,
          expiresInDays: days,
          now,
        });
        await store.write(result.document);
        process.stderr.write(
          `created key ${result.keyId} for ${values.name} (${roles.join(', ')}) in ${store.description}\n`,
        );
        process.stdout.write(`${result.key}\n`);
        return;
      }
      case 'list': {
        const keys = listKeys(await store.read(), now, ROLES);
        if (values.json) {
          process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
          return;
        }
        if (keys.length === 0) {
          process.stdout.write(`no keys in ${store.description}\n`);
          return;
        }
        for (const key of keys) {
          process.stdout.write(
            `${key.keyId}  ${key.status.padEnd(7)}  ${key.name.padEnd(20)}  ${key.roles.join(',').padEnd(24)}  created ${key.created}${key.expires === null ? '' : `  expires ${key.expires}`}\n`,
          );
        }
        const unknown = keys.filter((key) => key.unknownRoles.length > 0);
        for (const key of unknown) {
          process.stderr.write(
            `warning: key ${key.keyId} (${key.name}) names ${key.unknownRoles.join(', ')}, not a role of this deployment (${ROLES.join(', ')}): it is refused until you delete it (keys delete ${key.keyId}) and create it again with the roles there are\n`,
          );
        }
        return;
      }
      case 'revoke':
      case 'delete': {
        const keyId = rest[0];
        if (keyId === undefined) throw new UsageError(`${command} needs a key id (see keys list)`);
        const document = await store.read();
        await store.write(
          command === 'revoke' ? revokeKey(document, keyId, now) : deleteKey(document, keyId),
        );
        process.stderr.write(`${command === 'revoke' ? 'revoked' : 'deleted'} key ${keyId}\n`);
        // Authorizers hold copies of the document for a while: refuse the key in seconds.
        await recordRevokedKey(keyId, now, {
          secretId,
          file: values.file,
          table: values['revocations-table'] ?? process.env.MCP_REVOCATIONS_TABLE,
          actor: values.actor ?? defaultActor(),
          target: store.description,
          action: command === 'revoke' ? 'revoke-key' : 'delete-key',
        });
        return;
      }
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (error) {
    if (error instanceof KeyAdminError) throw new UsageError(error.message);
    throw error;
  }
}, USAGE);

/**
 * After the key document says revoked (the lasting record), put the key in the not-before list,
 * which authorizers read every few seconds: their cached copies of the document would otherwise
 * accept the key for up to API_KEYS_CACHE_TTL_SECONDS more.
 */
async function recordRevokedKey(
  keyId: string,
  now: Date,
  options: {
    secretId: string | undefined;
    file: string | undefined;
    table: string | undefined;
    actor: string;
    target: string;
    /** What the operator did, for the record. @default 'revoke-key' */
    action?: 'revoke-key' | 'delete-key';
  },
): Promise<void> {
  const action = options.action ?? 'revoke-key';
  let writer: RevocationWriter;
  if (options.secretId === undefined) {
    writer = new LocalRevocationWriter(
      options.file === undefined ? undefined : dirname(options.file),
    );
  } else if (options.table === undefined) {
    process.stderr.write(
      "warning: no --revocations-table: the key is refused once the authorizers' cached copies of the secret expire (API_KEYS_CACHE_TTL_SECONDS plus the authorizer cache TTL), not within seconds\n",
    );
    return;
  } else {
    writer = createDynamoDbRevocationWriter(options.table);
  }
  const notBefore = notBeforeFor(now);
  const record = {
    [AUDIT_FIELDS.event]: AUDIT_EVENTS.operatorAction,
    action,
    actor: options.actor,
    target: options.target,
    [AUDIT_FIELDS.keyId]: keyId,
    not_before: notBefore,
  } as const;
  try {
    await writer.record({
      principal: apiKeyPrincipal(keyId),
      notBefore,
      sessions: false,
      action,
      actor: options.actor,
    });
  } catch (error) {
    const errorType = error instanceof Error ? error.name : typeof error;
    writeAuditLine({
      ...record,
      [AUDIT_FIELDS.outcome]: 'partial',
      [AUDIT_FIELDS.errorType]: errorType,
      timestamp: new Date().toISOString(),
    });
    throw new Error(
      `Key ${keyId} is revoked in ${options.target}, but not in the not-before list ${writer.description} (${errorType}): it is refused once cached copies of the key document expire. Run revoke again to retry.`,
      { cause: error },
    );
  }
  writeAuditLine({
    ...record,
    [AUDIT_FIELDS.outcome]: 'done',
    timestamp: new Date().toISOString(),
  });
}
