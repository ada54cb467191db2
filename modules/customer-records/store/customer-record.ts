/**
 * The example domain: customer records, as the seed's financial-services example describes.
 */
import * as z from 'zod';

export const SEGMENTS = ['retail', 'business', 'enterprise'] as const;
export const STATUSES = ['active', 'suspended', 'closed'] as const;

export const recordIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
    'letters, digits, _ and - (1-64, not starting with _ or -)',
  );

/** What a caller supplies to create or replace a record. */
export const customerFieldsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  email: z.email().max(254),
  country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code such as DE or US'),
  segment: z.enum(SEGMENTS),
  status: z.enum(STATUSES),
  /** Account balance in the account's currency, two decimals. */
  balance: z.number().finite().min(-1e12).max(1e12),
});
export type CustomerFields = z.infer<typeof customerFieldsSchema>;

export const customerRecordSchema = customerFieldsSchema.extend({
  id: recordIdSchema,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type CustomerRecord = z.infer<typeof customerRecordSchema>;

/** Filters of `query_customer_data`; all optional, combined with AND. */
export interface RecordFilter {
  readonly segment?: (typeof SEGMENTS)[number] | undefined;
  readonly status?: (typeof STATUSES)[number] | undefined;
  readonly country?: string | undefined;
  readonly minBalance?: number | undefined;
  readonly maxBalance?: number | undefined;
  /** Case-sensitive prefix of the name. */
  readonly namePrefix?: string | undefined;
}

export interface ScanResult {
  readonly records: CustomerRecord[];
  readonly truncated: boolean;
}

export interface RecordPage {
  readonly records: CustomerRecord[];
  /** Opaque cursor for the next page; absent on the last page. */
  readonly nextCursor?: string | undefined;
}

/** The store behind the tools: DynamoDB in Lambda and, through dynalite, locally and in tests. */
export interface RecordStore {
  get(id: string): Promise<CustomerRecord | undefined>;
  /** Create or replace; `created` tells which. */
  put(
    id: string,
    fields: CustomerFields,
    now: Date,
  ): Promise<{ record: CustomerRecord; created: boolean }>;
  /** Delete and return the deleted record, or `undefined` if there was none. */
  delete(id: string): Promise<CustomerRecord | undefined>;
  query(filter: RecordFilter, limit: number, cursor?: string): Promise<RecordPage>;
  /**
   * The records matching `filter`, reading at most `maxRead` records of the table (matching or
   * not): a filter that matches nothing must not make one call read a whole table.
   * `truncated` tells whether the table holds more than was read.
   */
  /**
   * Every match among the first `maxRead` records of the table. `onProgress` hears how many
   * records have been read after each batch (a report on a large table takes a while).
   */
  scan(
    filter: RecordFilter,
    maxRead: number,
    onProgress?: (read: number) => Promise<void>,
  ): Promise<ScanResult>;
}

/** A cursor that this store did not issue. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}
