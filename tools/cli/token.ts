/**
 * Prints a Cognito-shaped access token that the local gateway accepts.
 *
 *   npm run --silent token -- --sub alice --groups analyst
 */
import { isRole, ROLES } from '../../modules/roles';
import { LOCAL_CLIENT_ID, LOCAL_SCOPE, loadSigningKey, mintAccessToken } from '../local/identity';
import { commaList, parseCli, runCli, UsageError } from './common';

const USAGE = `usage: npm run --silent token -- --sub <user> [options]

  --sub <user>             the user (Cognito sub and username)            required
  --groups <a,b>           Cognito groups = roles: ${ROLES.join(', ')}
  --expires-in <seconds>   lifetime; negative for an already expired token  (3600)
  --client-id <id>         app client id                                   (${LOCAL_CLIENT_ID})
  --scopes <a,b>           OAuth scopes                                    (${LOCAL_SCOPE})`;

runCli(async () => {
  const { values } = parseCli({
    options: {
      sub: { type: 'string' },
      groups: { type: 'string' },
      'expires-in': { type: 'string' },
      'client-id': { type: 'string' },
      scopes: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.sub === undefined || values.sub.trim() === '')
    throw new UsageError('--sub is required');
  const expiresIn = values['expires-in'] === undefined ? 3600 : Number(values['expires-in']);
  if (!Number.isInteger(expiresIn))
    throw new UsageError('--expires-in takes a whole number of seconds');
  const groups = commaList(values.groups);
  const unknown = groups.filter((group) => !isRole(group));
  if (unknown.length > 0) {
    // Allowed (unknown groups grant nothing, and that is worth trying), but say so.
    process.stderr.write(
      `note: ${unknown.join(', ')} is not a role in the policy table and grants nothing\n`,
    );
  }
  const token = mintAccessToken(loadSigningKey(), {
    sub: values.sub,
    groups,
    expiresIn,
    clientId: values['client-id'],
    scopes: values.scopes === undefined ? undefined : commaList(values.scopes),
  });
  process.stdout.write(`${token}\n`);
}, USAGE);
