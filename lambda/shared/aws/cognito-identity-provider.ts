/**
 * The Cognito user-pool admin calls an operator CLI needs, over the small AWS client.
 */
import { invalidResponseError } from './error';
import { type AwsClientOptions, AwsJsonClient, type CallOptions } from './json-client';
import { COGNITO_IDENTITY_PROVIDER } from './services';

export interface AdminUserInput {
  readonly UserPoolId: string;
  readonly Username: string;
}

export interface AdminGroupInput extends AdminUserInput {
  readonly GroupName: string;
}

export interface AdminListGroupsForUserInput extends AdminUserInput {
  /** 1 to 60. */
  readonly Limit?: number;
  readonly NextToken?: string;
}

export interface UserPoolGroup {
  readonly GroupName: string;
  readonly Description?: string;
  readonly Precedence?: number;
}

export interface AdminListGroupsForUserOutput {
  readonly Groups: readonly UserPoolGroup[];
  readonly NextToken?: string;
}

/**
 * A Cognito Identity Provider client for user administration. An unknown user rejects with
 * `code` `UserNotFoundException`, an unknown group with `ResourceNotFoundException`.
 */
export class CognitoIdentityProviderClient {
  readonly client: AwsJsonClient;

  constructor(options: AwsClientOptions = {}) {
    this.client = new AwsJsonClient(COGNITO_IDENTITY_PROVIDER, options);
  }

  /** Block sign-in; existing tokens stay valid until they expire or are signed out. */
  async adminDisableUser(input: AdminUserInput, options?: CallOptions): Promise<void> {
    await this.client.call('AdminDisableUser', input, options);
  }

  async adminEnableUser(input: AdminUserInput, options?: CallOptions): Promise<void> {
    await this.client.call('AdminEnableUser', input, options);
  }

  /** Revoke the user's refresh tokens (access tokens live until they expire). */
  async adminUserGlobalSignOut(input: AdminUserInput, options?: CallOptions): Promise<void> {
    await this.client.call('AdminUserGlobalSignOut', input, options);
  }

  async adminAddUserToGroup(input: AdminGroupInput, options?: CallOptions): Promise<void> {
    await this.client.call('AdminAddUserToGroup', input, options);
  }

  async adminRemoveUserFromGroup(input: AdminGroupInput, options?: CallOptions): Promise<void> {
    await this.client.call('AdminRemoveUserFromGroup', input, options);
  }

  async adminListGroupsForUser(
    input: AdminListGroupsForUserInput,
    options?: CallOptions,
  ): Promise<AdminListGroupsForUserOutput> {
    const wire = await this.client.call<{ Groups?: unknown; NextToken?: unknown }>(
      'AdminListGroupsForUser',
      input,
      options,
    );
    if (!Array.isArray(wire.Groups)) {
      throw invalidResponseError(
        COGNITO_IDENTITY_PROVIDER.name,
        'AdminListGroupsForUser',
        'No Groups',
      );
    }
    const groups: UserPoolGroup[] = [];
    for (const group of wire.Groups as unknown[]) {
      const { GroupName, Description, Precedence } =
        typeof group === 'object' && group !== null ? (group as Record<string, unknown>) : {};
      if (typeof GroupName !== 'string') {
        // An operator acting on a partial list could miss a group: refuse the answer.
        throw invalidResponseError(
          COGNITO_IDENTITY_PROVIDER.name,
          'AdminListGroupsForUser',
          'A group without a GroupName',
        );
      }
      groups.push({
        GroupName,
        ...(typeof Description === 'string' ? { Description } : {}),
        ...(typeof Precedence === 'number' ? { Precedence } : {}),
      });
    }
    return {
      Groups: groups,
      ...(typeof wire.NextToken === 'string' ? { NextToken: wire.NextToken } : {}),
    };
  }
}
