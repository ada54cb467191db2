/** Shared bits of the developer CLIs. */
import { type ParseArgsConfig, parseArgs } from 'node:util';

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

/**
 * `node:util` parseArgs, with usage errors reported as such, and negative numbers accepted as
 * option values (`--expires-in -60` would otherwise be read as the option `-6`).
 */
export function parseCli<T extends ParseArgsConfig>(config: T, args = process.argv.slice(2)) {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    if (arg.startsWith('--') && !arg.includes('=') && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  try {
    return parseArgs({ ...config, args: joined });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Split a comma-separated option into its non-empty items. */
export function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
