/**
 * The orders module's quota, as docs/modules.md adds it to `modules/quotas.ts`: each caller
 * may look up at most 300 orders a minute.
 */
import type { QuotaRule } from '../../lambda/shared/quota';

export const ORDERS_QUOTAS: readonly QuotaRule[] = [
  { id: 'order-lookups', tool: 'get_order', limit: 300, windowSeconds: 60 },
];
