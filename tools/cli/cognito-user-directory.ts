/**
 * The `users` CLI's directory for the deployed user pool: Cognito's admin API. The CLI runs on
 * an operator's machine, off the request path, so it uses the AWS SDK's Cognito client (region
 * and credentials from the standard AWS environment); the operator's role needs the actions of
 * the stack's `RevocationOperatorPolicyArn` output.
 */
import {
  AdminAddUserToGroupCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUserGlobalSignOutCommand,
  CognitoIdentityProviderClient,
  type CognitoIdentityProviderClientConfig,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { UserAdminError, type UserDirectory, type UserRecord } from '../local/user-file';

/** The part of the SDK client used here, so tests can stand in for Cognito. */
export interface CognitoSender {
  send(command: unknown): Promise<unknown>;
}

export class CognitoUserDirectory implements UserDirectory {
  readonly description: string;
  readonly #client: CognitoSender;
  readonly #userPoolId: string;

  constructor(options: { client: CognitoSender; userPoolId: string }) {
    this.#client = options.client;
    this.#userPoolId = options.userPoolId;
    this.description = `user pool ${options.userPoolId}`;
  }

  async get(username: string): Promise<UserRecord> {
    const Username = username;
    const UserPoolId = this.#userPoolId;
    let user: {
      Username?: string;
      Enabled?: boolean;
      UserAttributes?: { Name?: string; Value?: string }[];
    };
    try {
      user = (await this.#client.send(
        new AdminGetUserCommand({ UserPoolId, Username }),
      )) as typeof user;
    } catch (error) {
      if (error instanceof UserNotFoundException) {
        throw new UserAdminError(`No user ${username} in ${this.description}`);
      }
      throw error;
    }
    const sub = user.UserAttributes?.find((attribute) => attribute.Name === 'sub')?.Value;
    if (sub === undefined) throw new UserAdminError(`${username} has no sub attribute`);
    const groups: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = (await this.#client.send(
        new AdminListGroupsForUserCommand({ UserPoolId, Username, NextToken }),
      )) as { Groups?: { GroupName?: string }[]; NextToken?: string };
      for (const group of page.Groups ?? []) if (group.GroupName) groups.push(group.GroupName);
      NextToken = page.NextToken;
    } while (NextToken !== undefined);
    return { username: user.Username ?? username, sub, enabled: user.Enabled !== false, groups };
  }

  async disable(username: string): Promise<void> {
    await this.#client.send(
      new AdminDisableUserCommand({ UserPoolId: this.#userPoolId, Username: username }),
    );
  }

  async enable(username: string): Promise<void> {
    await this.#client.send(
      new AdminEnableUserCommand({ UserPoolId: this.#userPoolId, Username: username }),
    );
  }

  async signOut(username: string): Promise<void> {
    await this.#client.send(
      new AdminUserGlobalSignOutCommand({ UserPoolId: this.#userPoolId, Username: username }),
    );
  }

  async addToGroup(username: string, group: string): Promise<void> {
    await this.#client.send(
      new AdminAddUserToGroupCommand({
        UserPoolId: this.#userPoolId,
        Username: username,
        GroupName: group,
      }),
    );
  }

  async removeFromGroup(username: string, group: string): Promise<void> {
    await this.#client.send(
      new AdminRemoveUserFromGroupCommand({
        UserPoolId: this.#userPoolId,
        Username: username,
        GroupName: group,
      }),
    );
  }
}

export function createCognitoUserDirectory(
  userPoolId: string,
  config: CognitoIdentityProviderClientConfig = {},
): CognitoUserDirectory {
  return new CognitoUserDirectory({
    client: new CognitoIdentityProviderClient(config),
    userPoolId,
  });
}
