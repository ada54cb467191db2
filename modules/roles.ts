/**
 * This deployment's roles: each is a Cognito group (and an API-key role) and grants the
 * permissions listed. Permissions are the ones the listed modules declare; a role naming any
 * other stops the server starting and `cdk synth` finishing. A caller in several groups gets
 * the union; unknown groups grant nothing.
 */
export const ROLE_PERMISSIONS = {
  admin: ['read_data', 'write_data', 'delete_data', 'run_reports'],
  analyst: ['read_data', 'run_reports'],
  readonly: ['read_data'],
  // Runs `npm run verify`'s diagnostics and nothing else (no data): a key for deployment checks.
  operator: ['diagnostics'],
} as const satisfies Record<string, readonly string[]>;

export type Role = keyof typeof ROLE_PERMISSIONS;
export const ROLES = Object.keys(ROLE_PERMISSIONS) as Role[];

export function isRole(value: string): value is Role {
  return Object.hasOwn(ROLE_PERMISSIONS, value);
}
