/**
 * This project's roles (`modules/roles.ts`), chosen by what they grant, for the tests of the
 * deployed default stack (end to end, the CLIs): a test that needs "a role that may read
 * records but not delete them" asks for one, instead of naming `readonly`, so renaming, adding
 * or removing a role breaks only a test that needs what no role grants any more, and says so.
 * Core tests use the fixture deployment's roles instead (`fixture-deployment.ts`).
 */
import { permissionsFor, permittedItems } from '../../lambda/shared/policy';
import { POLICY } from '../../modules/policy';

/** Every role of the deployment, in `modules/roles.ts` order. */
export const DEPLOYMENT_ROLES: readonly string[] = Object.keys(POLICY.roles);

/** What a test needs of a role: permissions it must grant, and ones it must not. */
export interface RoleNeeds {
  readonly grants?: readonly string[];
  readonly lacks?: readonly string[];
}

/** The first role of the deployment that grants and lacks what `needs` says. */
export function deploymentRole(needs: RoleNeeds): string {
  const found = DEPLOYMENT_ROLES.find((role) => {
    const granted = new Set(POLICY.roles[role] ?? []);
    return (
      (needs.grants ?? []).every((permission) => granted.has(permission)) &&
      !(needs.lacks ?? []).some((permission) => granted.has(permission))
    );
  });
  if (found === undefined) {
    throw new Error(
      `This test needs a role of the deployment granting ${(needs.grants ?? []).join(', ') || 'anything'}${needs.lacks === undefined ? '' : ` but not ${needs.lacks.join(', ')}`}; modules/roles.ts has none`,
    );
  }
  return found;
}

/** The tools of every module a caller in `groups` may see and call, sorted. */
export function deploymentToolsOf(groups: readonly string[]): string[] {
  return permittedItems(POLICY, 'tool', permissionsFor(POLICY, [...groups]))
    .map((item) => item.name)
    .sort();
}
