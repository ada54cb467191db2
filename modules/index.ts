/**
 * The modules this deployment serves: the one list to change to add your own tools, resources
 * and prompts (see "Add your own tool" in the README). What AWS access each needs is said in
 * `modules/infra.ts`, which the compiler holds to this list.
 */
import { customerRecords } from './customer-records/module';

export const MODULES = [customerRecords] as const;
