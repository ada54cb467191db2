/**
 * The roles of the deployment `own-module.test.ts` models: the project's, plus a `clerk` who
 * may read orders, as the README's "Add your own tool" has you add to `modules/roles.ts`.
 */
import { ROLE_PERMISSIONS } from '../../../modules/roles';

export const ORDERS_ROLES = { ...ROLE_PERMISSIONS, clerk: ['read_orders'] } as const;
