/**
 * What `npm run users` does, over a directory and a list the test records: the directory change
 * first, then the not-before (taken after it), one audit record per action; nothing written when
 * the directory refuses; a clear "run it again" when only the list failed. And the Cognito
 * directory's calls, over a stand-in for the SDK client.
 */
import {
  AdminDisableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUserGlobalSignOutCommand,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { describe, expect, it } from 'vitest';
import { userPrincipal } from '../../../../lambda/shared/revocations';
import { CognitoUserDirectory } from '../../../../tools/cli/cognito-user-directory';
import type { NotBefore, RevocationWriter } from '../../../../tools/cli/revocation-writer';
import {
  applyUserChange,
  type OperatorAuditRecord,
  PartialChangeError,
  type UserChange,
} from '../../../../tools/cli/user-admin';
import { UserAdminError, type UserDirectory } from '../../../../tools/local/user-file';

const NOW = new Date('2026-12-01T12:00:00.400Z');

function setUp(options: { directoryFails?: Error; listFails?: Error } = {}) {
  const calls: string[] = [];
  const written: NotBefore[] = [];
  const audit: OperatorAuditRecord[] = [];
  const directory: UserDirectory = {
    description: 'user pool eu-west-1_Test',
    get: async (username) => {
      calls.push(`get ${username}`);
      return { username, sub: 'sub-0001', enabled: true, groups: ['admin'] };
    },
    disable: async (u) => {
      calls.push(`disable ${u}`);
    },
    enable: async (u) => {
      calls.push(`enable ${u}`);
    },
    signOut: async (u) => {
      calls.push(`signOut ${u}`);
      if (options.directoryFails) throw options.directoryFails;
    },
    addToGroup: async (u, g) => {
      calls.push(`addToGroup ${u} ${g}`);
    },
    removeFromGroup: async (u, g) => {
      calls.push(`removeFromGroup ${u} ${g}`);
    },
  };
  const revocations: RevocationWriter = {
    description: 'table T',
    record: async (entry) => {
      calls.push('record');
      if (options.listFails) throw options.listFails;
      written.push(entry);
    },
  };
  const run = (change: UserChange) =>
    applyUserChange(
      {
        directory,
        revocations,
        actor: 'ops@host',
        audit: (r) => audit.push(r),
        roles: ['analyst', 'admin', 'readonly'],
        now: () => NOW,
      },
      change,
    );
  return { calls, written, audit, run };
}

describe('applyUserChange', () => {
  it('disable: signs out, disables, then refuses the user’s sessions from the next second', async () => {
    const { calls, written, run } = setUp();
    await run({ action: 'disable', username: 'alice' });
    expect(calls).toEqual(['get alice', 'signOut alice', 'disable alice', 'record']);
    expect(written).toEqual([
      {
        principal: userPrincipal('sub-0001'),
        notBefore: Math.floor(NOW.getTime() / 1000) + 1,
        sessions: true,
        action: 'disable',
        actor: 'ops@host',
      },
    ]);
  });

  it('remove-group: bounds tokens by iat only, so a refresh carries the new groups', async () => {
    const { calls, written, run } = setUp();
    await run({ action: 'remove-group', username: 'alice', group: 'admin' });
    expect(calls).toEqual(['get alice', 'removeFromGroup alice admin', 'record']);
    expect(written[0]).toMatchObject({ sessions: false, action: 'remove-group' });
  });

  it('enable: changes the directory and writes no not-before (old sessions stay ended)', async () => {
    const { calls, written, audit, run } = setUp();
    await run({ action: 'enable', username: 'alice' });
    expect(calls).toEqual(['get alice', 'enable alice']);
    expect(written).toEqual([]);
    expect(audit).toEqual([expect.objectContaining({ action: 'enable', outcome: 'done' })]);
  });

  it('writes one audit record naming who did what to whom and when', async () => {
    const { audit, run } = setUp();
    await run({ action: 'sign-out', username: 'alice' });
    expect(audit).toEqual([
      {
        event: 'ops.operator_action',
        action: 'sign-out',
        outcome: 'done',
        actor: 'ops@host',
        target: 'user pool eu-west-1_Test',
        user: 'alice',
        sub: 'sub-0001',
        not_before: Math.floor(NOW.getTime() / 1000) + 1,
        timestamp: NOW.toISOString(),
      },
    ]);
  });

  it('writes nothing to the list when the directory refuses, and audits the failure', async () => {
    const { calls, audit, run } = setUp({ directoryFails: new Error('AccessDenied') });
    await expect(run({ action: 'sign-out', username: 'alice' })).rejects.toThrow('AccessDenied');
    expect(calls).not.toContain('record');
    expect(audit[0]).toMatchObject({ outcome: 'failed', error_type: 'Error' });
  });

  it('says the directory changed but the list did not, when only the list failed', async () => {
    const { audit, run } = setUp({ listFails: new Error('ProvisionedThroughputExceeded') });
    const error = await run({ action: 'disable', username: 'alice' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartialChangeError);
    expect((error as Error).message).toMatch(/was done in user pool .* Run the same command again/);
    expect(audit[0]).toMatchObject({ outcome: 'partial' });
  });

  it('refuses a group that is not a role before touching the directory', async () => {
    const { calls, run } = setUp();
    await expect(run({ action: 'add-group', username: 'alice', group: 'root' })).rejects.toThrow(
      UserAdminError,
    );
    expect(calls).toEqual([]);
  });
});

describe('CognitoUserDirectory', () => {
  /** Answers by command class; records every command sent. */
  function cognito(answers: Map<unknown, (input: Record<string, unknown>) => unknown>) {
    const sent: { name: string; input: Record<string, unknown> }[] = [];
    const client = {
      send: async (command: unknown) => {
        const { input } = command as { input: Record<string, unknown> };
        sent.push({ name: (command as object).constructor.name, input });
        const answer = answers.get((command as object).constructor);
        return answer === undefined ? {} : answer(input);
      },
    };
    return { sent, directory: new CognitoUserDirectory({ client, userPoolId: 'eu-west-1_Test' }) };
  }

  it('resolves the sub and every page of groups', async () => {
    const { directory } = cognito(
      new Map<unknown, (input: Record<string, unknown>) => unknown>([
        [
          AdminGetUserCommand,
          () => ({
            Username: 'alice',
            Enabled: true,
            UserAttributes: [
              { Name: 'email', Value: 'a@example.com' },
              { Name: 'sub', Value: 'sub-0001' },
            ],
          }),
        ],
        [
          AdminListGroupsForUserCommand,
          (input) =>
            input.NextToken === undefined
              ? { Groups: [{ GroupName: 'admin' }], NextToken: 'p2' }
              : { Groups: [{ GroupName: 'readonly' }] },
        ],
      ]),
    );
    expect(await directory.get('alice')).toEqual({
      username: 'alice',
      sub: 'sub-0001',
      enabled: true,
      groups: ['admin', 'readonly'],
    });
  });

  it('turns an unknown user into a usage error naming the pool', async () => {
    const { directory } = cognito(
      new Map([
        [
          AdminGetUserCommand,
          () => {
            throw new UserNotFoundException({ message: 'User does not exist.', $metadata: {} });
          },
        ],
      ]),
    );
    await expect(directory.get('mallory')).rejects.toThrow(
      /No user mallory in user pool eu-west-1_Test/,
    );
  });

  it('sends the admin calls with the pool, the user and the group', async () => {
    const { sent, directory } = cognito(new Map());
    await directory.signOut('alice');
    await directory.disable('alice');
    await directory.removeFromGroup('alice', 'admin');
    expect(sent).toEqual([
      {
        name: AdminUserGlobalSignOutCommand.name,
        input: { UserPoolId: 'eu-west-1_Test', Username: 'alice' },
      },
      {
        name: AdminDisableUserCommand.name,
        input: { UserPoolId: 'eu-west-1_Test', Username: 'alice' },
      },
      {
        name: AdminRemoveUserFromGroupCommand.name,
        input: { UserPoolId: 'eu-west-1_Test', Username: 'alice', GroupName: 'admin' },
      },
    ]);
  });
});
