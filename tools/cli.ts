/** Shared bits of the developer CLIs. */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Run a CLI's main, printing errors without stack traces and exiting non-zero. */
export function runCli(main: () => Promise<void>, usage: string): void {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message}\n`);
    if (error instanceof UsageError) process.stderr.write(`\n${usage}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  });
}

/** Split a comma-separated option into its non-empty items. */
export function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
