/**
 * Fake customer records for local runs and tests (names and e-mail domains are invented;
 * `example.com` is reserved for documentation).
 */
import type { CustomerFields } from './customer-record';

const FIRST = ['Ada', 'Bela', 'Chen', 'Dara', 'Emil', 'Farah', 'Goran', 'Hana', 'Ivo', 'Jonas'];
const LAST = ['Kovacs', 'Lindqvist', 'Moreau', 'Nakamura', 'Okafor', 'Petrov', 'Quinn'];
const COUNTRIES = ['DE', 'US', 'FR', 'JP', 'NG', 'SE', 'GB', 'BR'];
const SEGMENTS = ['retail', 'business', 'enterprise'] as const;
const STATUSES = ['active', 'active', 'active', 'suspended', 'closed'] as const;

export interface SampleRecord {
  readonly id: string;
  readonly fields: CustomerFields;
}

/** `count` deterministic records, ids `cust-0001`, `cust-0002`, ... */
export function sampleRecords(count = 40): SampleRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const first = FIRST[i % FIRST.length] as string;
    const last = LAST[(i * 3) % LAST.length] as string;
    return {
      id: `cust-${String(i + 1).padStart(4, '0')}`,
      fields: {
        name: `${first} ${last}`,
        email: `${first}.${last}${i + 1}@example.com`.toLowerCase(),
        country: COUNTRIES[(i * 5) % COUNTRIES.length] as string,
        segment: SEGMENTS[i % SEGMENTS.length] as (typeof SEGMENTS)[number],
        status: STATUSES[(i * 7) % STATUSES.length] as (typeof STATUSES)[number],
        balance: Math.round(((i * 7919) % 250_000) * 100 + ((i * 37) % 100)) / 100,
      },
    };
  });
}
