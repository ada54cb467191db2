/**
 * Captures what the Powertools loggers write, as Lambda would ship it to CloudWatch: both
 * stdout and stderr (Powertools writes WARN and ERROR to stderr).
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
  const collect = (chunk: string | Uint8Array) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const line of text.split('\n')) if (line.trim() !== '') lines.push(line);
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(collect),
    vi.spyOn(process.stderr, 'write').mockImplementation(collect),
  ];
  return {
    lines,
    records: () =>
      lines.flatMap((line) => {
        try {
          const value: unknown = JSON.parse(line);
          return typeof value === 'object' && value !== null
            ? [value as Record<string, unknown>]
            : [];
        } catch {
          return [];
        }
      }),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}
