/**
 * This deployment's per-caller quotas: each caller (a person, an API key) may use a tool, or
 * every item needing a permission, at most `limit` times in each window of `windowSeconds`.
 * Over it, the call is refused (HTTP 429) before it runs, and audited. Checked against the
 * policy on `cdk synth` and at cold start; `-c enableQuotas=false` turns them all off.
 */
import type { QuotaRule } from '../lambda/shared/quota';

export const QUOTA_RULES: readonly QuotaRule[] = [
  // Bulk reads of customer records: the seed's abuse scenario, stopped instead of alarmed.
  { id: 'customer-queries', tool: 'query_customer_data', limit: 100, windowSeconds: 300 },
];
