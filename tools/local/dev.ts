/**
 * `npm run dev`: the stack as `cdk synth` builds it (into `.local/cdk.out`), served locally by
 * the AWS emulator: API Gateway as the template defines it, every Lambda run from the bundle
 * `cdk deploy` would upload. The functions' log lines appear as Lambda writes them to
 * CloudWatch (the audit records among them); the banner goes to stderr.
 */
import { createServer } from 'node:net';
import { ROLES } from '../../modules/roles';
import { parseCli, runCli, UsageError } from '../cli/common';
import { startLocalGateway } from './gateway';
import { apiKeyFilePath, localDir } from './identity';
import { parseAllowedOrigins } from './origins';

const USAGE = `usage: [PORT=3000] [MCP_ALLOWED_ORIGINS=<origin>,...] npm run dev -- [options]

  -c <key>=<value>          a CDK context value, as \`cdk synth -c\` takes it: the deployment to
                            model (e.g. -c authorizerCacheTtlSeconds=60, -c earlyDeny=true
                            -c gatewayStepUp=false, -c customDomainName=mcp.example.com
                            -c customDomainCertificateArn=arn:aws:acm:…); repeatable
  --allow-origin <origin>   a browser origin that may call /mcp (-c allowedOrigins), exactly as
                            the browser sends it (http://localhost:6274); repeatable, or
                            comma-separated in MCP_ALLOWED_ORIGINS`;

/** `key=value` pairs of `-c`, values as the CDK CLI passes them (strings). */
function contextValues(values: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (const pair of values) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`-c takes key=value, not ${pair}`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return context;
}

/** Fail with what to do if `port` is taken (0 asks the system for a free one). */
async function ensurePortFree(port: number): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new UsageError(
              `port ${port} is in use (another npm run dev?): stop it, or choose another port: PORT=${port === 65535 ? 3001 : port + 1} npm run dev`,
            )
          : error,
      );
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

runCli(async () => {
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`PORT must be a port number, not ${process.env.PORT}`);
  const { values } = parseCli({
    options: {
      context: { type: 'string', short: 'c', multiple: true },
      'allow-origin': { type: 'string', multiple: true },
    },
    strict: true,
    allowPositionals: false,
  });
  const allowedOrigins = [
    ...parseAllowedOrigins([process.env.MCP_ALLOWED_ORIGINS ?? ''], 'MCP_ALLOWED_ORIGINS'),
    ...parseAllowedOrigins(values['allow-origin'] ?? [], '--allow-origin'),
  ];
  // Before the half-minute synth: a busy port would only fail after it, as a bare EADDRINUSE.
  await ensurePortFree(port);
  process.stderr.write('Synthesizing the stack as cdk synth does (the Lambdas bundled)…\n');
  const gateway = await startLocalGateway({
    port,
    context: contextValues(values.context ?? []),
    ...(allowedOrigins.length > 0 ? { allowedOrigins } : {}),
  });
  const url = gateway.mcpUrl;
  const { emulator } = gateway;
  const onExecuteApi = gateway.url.startsWith(emulator.executeApiOrigin);
  // The deployment's own roles, whatever modules/roles.ts names them.
  const exampleRole = ROLES.includes('analyst' as never) ? 'analyst' : (ROLES[0] ?? '<role>');
  process.stderr.write(`
Secure MCP server (local mode) listening on ${url}
  the synthesized stack (${localDir()}/cdk.out): API Gateway as its template defines it, each
  Lambda run from the bundle cdk deploy uploads; AWS services stood in for on loopback
  local identity: ${localDir()}   API keys: ${apiKeyFilePath()}
${
  onExecuteApi
    ? `  this is the execute-api URL: everything sits under /${emulator.api.stage.name}, and the root
  /.well-known/... paths answer 403, as in AWS (-c customDomainName=… serves them at the root)
`
    : ''
}
Mint a token (roles: ${ROLES.join(', ')}):
  TOKEN=$(npm run --silent token -- --sub alice --groups ${exampleRole})
Or create an API key:
  TOKEN=$(npm run --silent keys -- create --name ci-bot --roles ${exampleRole})
Revoke: npm run --silent users -- disable alice   (or keys -- revoke <key id>)

List and call tools with MCP Inspector's CLI (it needs Node 22; npx fetches it):
  npx -y -p node@22 -p @modelcontextprotocol/inspector@2 mcp-inspector --cli ${url} \\
    --transport http --header "Authorization: Bearer $TOKEN" --method tools/list

Or sign in with OAuth from nothing but the URL (the local sign-in page stands in for
Cognito's hosted login): MCP Inspector's web UI. Open the address it prints
(http://127.0.0.1:6274?MCP_INSPECTOR_API_TOKEN=…) and keep to it: opened at localhost it asks
for another callback, which the client it registered at 127.0.0.1 may not use
(redirect_uri_mismatch): after switching, clear its saved sign-in for this server so it
registers again.
  npx -y -p node@22 -p @modelcontextprotocol/inspector@2 mcp-inspector --web \\
    --transport http --server-url ${url}

Check it as you would a deployment:
  MCP_VERIFY_TOKEN=$TOKEN npm run verify -- ${url}

Or plain curl:
  curl -s ${url} -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
    -H 'Accept: application/json, text/event-stream' \\
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'

Log lines follow (as in CloudWatch: each function's log group, and the access log). Ctrl-C stops.
`);
  // Each line under the name of what wrote it: a function's service name, or the access log.
  const labels = new Map<string, string>(
    Object.entries(gateway.functions).map(([service, logicalId]) => [
      emulator.lambda.definition(logicalId).logGroupName,
      service,
    ]),
  );
  gateway.logs.subscribe((event) => {
    const label =
      labels.get(event.group) ?? (event.group.includes('AccessLogs') ? 'api-gateway' : 'emulator');
    process.stdout.write(`${label.padEnd(23)} ${event.message}\n`);
  });
  const stop = () => {
    gateway.stop().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}, USAGE);
