/**
 * Manages API keys in the local key file (the same schema as the deployed secret).
 *
 *   npm run --silent keys -- create --name ci-bot --roles analyst
 *   npm run --silent keys -- list
 *   npm run --silent keys -- revoke <key id>
 */
import { ROLES } from '../modules/roles';
import { addKey, FileKeyDocumentStore, KeyAdminError, listKeys, revokeKey } from './api-key-admin';
import { commaList, parseCli, runCli, UsageError } from './cli';
import { apiKeyFilePath } from './local-identity';
import { createSecretKeyDocumentStore } from './secret-key-document-store';

const USAGE = `usage: npm run --silent keys -- <command> [options]

  create --name <name> --roles <a,b> [--expires-in-days <n>]
                         create a key and print it (shown once; stored hashed)
  list [--json]          key ids, names, roles and status (never secrets)
  revoke <key id>        revoke a key

  --file <path>          key file (default ${apiKeyFilePath()})
  --secret-id <id|arn>   the deployed Secrets Manager secret instead of the file: writes a new
                         version (region and credentials from the standard AWS environment)
  roles: ${ROLES.join(', ')}`;

runCli(async () => {
  const { values, positionals } = parseCli({
    options: {
      name: { type: 'string' },
      roles: { type: 'string' },
      'expires-in-days': { type: 'string' },
      file: { type: 'string' },
      'secret-id': { type: 'string' },
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
        const keys = listKeys(await store.read(), now);
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
        return;
      }
      case 'revoke': {
        const keyId = rest[0];
        if (keyId === undefined) throw new UsageError('revoke needs a key id (see keys list)');
        await store.write(revokeKey(await store.read(), keyId, now));
        process.stderr.write(`revoked key ${keyId}\n`);
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
