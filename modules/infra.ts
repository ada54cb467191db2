/**
 * What AWS access each module of `modules/index.ts` needs: its resources and grants, created by
 * the stack. A listed module missing here (or an entry for a module not listed) is a compile
 * error; a module that needs no AWS access says `null`.
 */
import type { ModuleInfraMap } from '#module-infra';
import { customerRecordsInfra } from './customer-records/infra';
import type { MODULES } from './index';

export const MODULE_INFRA: ModuleInfraMap<typeof MODULES> = {
  'customer-records': customerRecordsInfra,
  // Reads and writes nothing.
  diagnostics: null,
};
