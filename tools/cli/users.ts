/**
 * Cuts a person off, or changes what they may do, within seconds: the change is made in the
 * user pool (or local mode's user file) and recorded in the not-before list the authorizer
 * reads, so tokens issued before it are refused.
 *
 *   npm run --silent users -- disable alice
 *   npm run --silent users -- remove-group alice admin
 *   npm run --silent users -- sign-out alice --user-pool-id eu-west-1_AbC --revocations-table T
 */
import { ROLES } from '../../modules/roles';
import { localDir } from '../local/identity';
import { LocalRevocationWriter } from '../local/revocations';
import { LocalUserDirectory, UserAdminError, usersFilePath } from '../local/user-file';
import { createCognitoUserDirectory } from './cognito-user-directory';
import { commaList, parseCli, runCli, UsageError } from './common';
import { createDynamoDbRevocationWriter, type RevocationWriter } from './revocation-writer';
import {
  applyUserChange,
  defaultActor,
  type UserAction,
  type UserChange,
  writeAuditLine,
} from './user-admin';

const USAGE = `usage: npm run --silent users -- <command> <user> [options]

  disable <user>               sign the user out everywhere and disable them
  enable <user>                enable again (sessions ended before stay ended)
  sign-out <user>              end every session: refresh tokens issued before it stop
                               working for good (Cognito's global sign-out; locally the sign-in
                               server refuses them), so no new access token comes from them
  add-group <user> <group>     add to a group (a role)
  remove-group <user> <group>  remove from a group
  show <user>                  the user's sub, status and groups

  After each change but enable, the user's tokens issued before it are refused by the
  authorizer within 10 seconds plus the authorizer cache TTL (60 s by default).

  --user-pool-id <id>          the deployed user pool (or MCP_USER_POOL_ID); without it, local
                               mode: ${usersFilePath()}
  --revocations-table <name>   the deployed not-before table (or MCP_REVOCATIONS_TABLE); needed
                               with --user-pool-id (stack outputs UserPoolId, RevocationsTableName)
  --actor <name>               who is acting, for the record (default: user@host)
  --json                       show: JSON`;

const ACTIONS: readonly UserAction[] = [
  'disable',
  'enable',
  'sign-out',
  'add-group',
  'remove-group',
];

runCli(async () => {
  const { values, positionals } = parseCli({
    options: {
      'user-pool-id': { type: 'string' },
      'revocations-table': { type: 'string' },
      actor: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  const [command, username, group, ...extra] = positionals;
  if (values.help || command === undefined) {
    if (command === undefined && !values.help) throw new UsageError('a command is required');
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (username === undefined) throw new UsageError(`${command} needs a user`);
  const userPoolId = values['user-pool-id'] ?? process.env.MCP_USER_POOL_ID;
  const table = values['revocations-table'] ?? process.env.MCP_REVOCATIONS_TABLE;
  let revocations: RevocationWriter;
  let directory: LocalUserDirectory | ReturnType<typeof createCognitoUserDirectory>;
  let local: LocalRevocationWriter | undefined;
  if (userPoolId === undefined) {
    if (table !== undefined) {
      throw new UsageError('--revocations-table goes with --user-pool-id (the deployed stack)');
    }
    directory = new LocalUserDirectory(usersFilePath());
    local = new LocalRevocationWriter(localDir());
    revocations = local;
  } else {
    if (table === undefined) {
      // Without the list, the change would take up to an hour to bite: refuse to half do it.
      throw new UsageError(
        '--user-pool-id needs --revocations-table (stack output RevocationsTableName)',
      );
    }
    directory = createCognitoUserDirectory(userPoolId);
    revocations = createDynamoDbRevocationWriter(table);
  }

  try {
    if (command === 'show') {
      const user = await directory.get(username);
      if (values.json) {
        process.stdout.write(`${JSON.stringify(user, null, 2)}\n`);
      } else {
        const groups = user.groups === undefined ? '(picked at sign-in)' : user.groups.join(',');
        process.stdout.write(
          `${user.username}  sub ${user.sub}  ${user.enabled ? 'enabled' : 'disabled'}  groups ${groups || '(none)'}\n`,
        );
      }
      return;
    }
    if (!(ACTIONS as readonly string[]).includes(command)) {
      throw new UsageError(`unknown command ${command}`);
    }
    const action = command as UserAction;
    const needsGroup = action === 'add-group' || action === 'remove-group';
    if (needsGroup && commaList(group).length !== 1) {
      throw new UsageError(`${action} needs one group`);
    }
    if ((!needsGroup && group !== undefined) || extra.length > 0) {
      throw new UsageError(`too many arguments for ${action}`);
    }
    const change: UserChange = { action, username, ...(needsGroup ? { group } : {}) };
    const result = await applyUserChange(
      {
        directory,
        revocations,
        actor: values.actor ?? defaultActor(),
        audit: writeAuditLine,
        roles: ROLES,
      },
      change,
    );
    const where =
      local === undefined
        ? revocations.description
        : local.reachedServer
          ? `${revocations.description} and the running local server`
          : `${revocations.description} (no local server running: loaded when it starts)`;
    process.stderr.write(
      result.notBefore === undefined
        ? `${action} ${username}: done in ${directory.description}\n`
        : `${action} ${username}: done in ${directory.description}; tokens issued before ${new Date(result.notBefore * 1000).toISOString()} refused (${where})\n`,
    );
  } catch (error) {
    if (error instanceof UserAdminError) throw new UsageError(error.message);
    throw error;
  }
}, USAGE);
