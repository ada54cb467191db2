/**
 * Run `fn` with stdout and stderr swallowed: the handlers log every decision (audit records),
 * and printing thousands of lines would be measured along with them and bury the tables.
 */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
