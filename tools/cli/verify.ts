/**
 * `npm run verify -- <url>`: check a deployment right after `cdk deploy`, as MCP clients and
 * browsers will meet it. Prints a table (✔ / ✘ with what to do / – with why not) and exits 1 on
 * any ✘. The URL is the MCP URL or the API's base URL (the stage, or a custom domain's root).
 *
 * Environment:
 * - MCP_VERIFY_TOKEN: an access token or API key (sent as `Authorization: Bearer …`), required;
 * - MCP_VERIFY_NARROW_TOKEN: an access token narrowed to fewer permission scopes than its
 *   roles grant, for the step-up row;
 * - MCP_VERIFY_ORIGINS: the browser origins the deployment allows (comma-separated), for CORS.
 *
 * Credentials are read from the environment only (not arguments, which `ps` shows) and never
 * printed.
 */
import { commaList, parseCli, runCli, UsageError } from './common';
import { exitCodeOf, renderReport } from './verify/report';
import { verifyDeployment } from './verify/run';
import { resolveTarget, TargetError } from './verify/wire';

const USAGE = `Usage: MCP_VERIFY_TOKEN=… npm run verify -- <url>

  <url>  the MCP URL (…/mcp) or the API's base URL (the stage URL, or the custom domain)

Environment:
  MCP_VERIFY_TOKEN         access token or API key (required)
  MCP_VERIFY_NARROW_TOKEN  access token with fewer permission scopes than its roles grant
  MCP_VERIFY_ORIGINS       allowed browser origins, comma-separated`;

runCli(async () => {
  const { positionals, values } = parseCli({
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const [url, ...extra] = positionals;
  if (url === undefined || extra.length > 0) throw new UsageError('give exactly one URL');
  try {
    resolveTarget(url);
  } catch (error) {
    if (error instanceof TargetError) throw new UsageError(error.message);
    throw error;
  }
  const credential = process.env.MCP_VERIFY_TOKEN ?? '';
  if (credential === '') throw new UsageError('set MCP_VERIFY_TOKEN to an access token or API key');
  const narrow = process.env.MCP_VERIFY_NARROW_TOKEN;
  const origins = commaList(process.env.MCP_VERIFY_ORIGINS);
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      throw new UsageError(`MCP_VERIFY_ORIGINS: ${origin} is not an origin (scheme://host[:port])`);
    }
  }
  const verification = await verifyDeployment({
    url,
    credential,
    ...(narrow === undefined || narrow === '' ? {} : { narrowCredential: narrow }),
    origins,
  });
  process.stdout.write(renderReport(verification, [credential, narrow]));
  process.exitCode = exitCodeOf(verification.rows);
}, USAGE);
