/**
 * Captures what the Powertools loggers write to stdout, as Lambda would ship it to CloudWatch.
 */
import { vi } from 'vitest';

export interface CapturedLogs {
  /** Every line written, raw. */
  readonly lines: string[];
  /** The lines that parse as JSON objects. */
  records(): Record<string, unknown>[];
  restore(): void;
}

export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const line of text.split('\n')) if (line.trim() !== '') lines.push(line);
    return true;
  });
  return {
    lines,
    records: () =>
      lines.flatMap((line) => {
        try {
          const value: unknown = JSON.parse(line);
          return typeof value === 'object' && value !== null ? [value as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      }),
    restore: () => spy.mockRestore(),
  };
}
