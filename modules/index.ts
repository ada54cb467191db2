/**
 * The modules this deployment serves: the one list to change to add your own tools, resources
 * and prompts (see "Add your own tool" in the README). What AWS access each needs is said in
 * `modules/infra.ts`, which the compiler holds to this list.
 */
import { customerRecords } from './customer-records/module';
import { diagnostics } from './diagnostics/module';

export const MODULES = [
  customerRecords,
  // Serves `stream_check`, which `npm run verify` times progress streaming with.
  diagnostics,
] as const;
