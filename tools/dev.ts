/**
 * `npm run dev`: the local API-Gateway-like server in front of the real handlers. The audit
 * records appear as the Lambdas write them (Powertools: INFO on stdout, WARN and ERROR on
 * stderr; Lambda ships both to CloudWatch); the banner goes to stderr.
 */
import { parseCli, runCli, UsageError } from './cli';
import { startLocalGateway } from './local-gateway';
import { apiKeyFilePath, localDir } from './local-identity';
import { parseAllowedOrigins } from './local-origins';

const USAGE = `usage: [PORT=3000] [MCP_ALLOWED_ORIGINS=<origin>,...] npm run dev [-- --allow-origin <origin> ...] [-- --early-deny]

  --allow-origin <origin>   a browser origin that may call /mcp besides this server's own,
                            exactly as the browser sends it (http://localhost:6274); repeatable,
                            or comma-separated in MCP_ALLOWED_ORIGINS
  --early-deny              the authorizer refuses forbidden 2026-07-28 calls by their headers
                            (as -c earlyDeny=true)`;

runCli(async () => {
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`PORT must be a port number, not ${process.env.PORT}`);
  const { values } = parseCli({
    options: {
      'allow-origin': { type: 'string', multiple: true },
      'early-deny': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  const allowedOrigins = [
    ...parseAllowedOrigins([process.env.MCP_ALLOWED_ORIGINS ?? ''], 'MCP_ALLOWED_ORIGINS'),
    ...parseAllowedOrigins(values['allow-origin'] ?? [], '--allow-origin'),
  ];
  const gateway = await startLocalGateway({
    port,
    allowedOrigins,
    earlyDeny: values['early-deny'] === true,
  });
  const url = gateway.mcpUrl;
  process.stderr.write(`
Secure MCP server (local mode) listening on ${url}
  local identity: ${localDir()}   API keys: ${apiKeyFilePath()}
  answers Host ${new URL(gateway.url).host} (and the other loopback names); browser origins
  allowed on /mcp: ${gateway.allowedOrigins.join(', ')}

Mint a token (roles: admin, analyst, readonly):
  TOKEN=$(npm run --silent token -- --sub alice --groups analyst)
Or create an API key:
  TOKEN=$(npm run --silent keys -- create --name ci-bot --roles readonly)

List and call tools with MCP Inspector's CLI (it needs Node 22; npx fetches it):
  npx -y -p node@22 -p @modelcontextprotocol/inspector@2 mcp-inspector --cli ${url} \\
    --transport http --header "Authorization: Bearer $TOKEN" --method tools/list
  npx -y -p node@22 -p @modelcontextprotocol/inspector@2 mcp-inspector --cli ${url} \\
    --transport http --header "Authorization: Bearer $TOKEN" \\
    --method tools/call --tool-name get_record --tool-arg id=cust-0001

Or sign in with OAuth from nothing but the URL (a local sign-in page lets you pick a user and
groups): add the server to Claude Code without a header and run /mcp there, or use MCP
Inspector's web UI (open http://localhost:6274 once it is up):
  npx -y -p node@22 -p @modelcontextprotocol/inspector@2 mcp-inspector --web \\
    --transport http --server-url ${url}

Add it to Claude Code:
  claude mcp add --transport http secure-mcp-local ${url} --header "Authorization: Bearer $TOKEN"

Or plain curl:
  curl -s ${url} -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
    -H 'Accept: application/json, text/event-stream' \\
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'

Audit records follow (JSON, as in CloudWatch). Ctrl-C stops.
`);
  const stop = () => {
    gateway.stop().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}, USAGE);
