/**
 * A loopback MCP server and authorization server in one, for the example agent's tests of what
 * the local server does not do (yet): CIMD, step-up (`403 insufficient_scope`), a wrong `iss`,
 * a busy server. The MCP part is the SDK v2 server; the authorization server approves every
 * request at once (no page) and records what it was sent. Every token is an opaque
 * `token-<n>` granted exactly the scopes its authorization asked for.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';

export interface StandInOptions {
  /** Advertise `client_id_metadata_document_supported`. @default false */
  readonly cimd?: boolean;
  /** Advertise a registration endpoint (DCR). @default true */
  readonly registration?: boolean;
  /** What `iss` the authorization response carries. @default 'correct' */
  readonly iss?: 'correct' | 'wrong' | 'omit';
  /** The scopes a request needs, by JSON-RPC method and tool name; none by default. */
  readonly needs?: (method: string, tool: string | undefined) => readonly string[];
  /** The scope named in the 401 challenge. @default none */
  readonly initialScope?: string;
  /** Tools whose call the server's roles refuse with JSON-RPC -32003 (never a 403). */
  readonly deniedTools?: readonly string[];
  /** Scopes the authorization server never grants, however often it is asked. */
  readonly withhold?: readonly string[];
  /** Tools answered with a plain 403 (no `insufficient_scope`): not a reason to step up. */
  readonly forbiddenTools?: readonly string[];
  /** Refuse every authorization with this OAuth error and description. */
  readonly refuse?: { readonly error: string; readonly description: string };
  /** Statuses to answer POST /mcp with before serving it (e.g. [503, 503]). */
  readonly failFirst?: readonly number[];
}

export interface McpRequestRecord {
  readonly method: string | undefined;
  readonly status: number;
  readonly authorization: string | undefined;
}

export interface StandIn {
  readonly mcpUrl: string;
  readonly issuer: string;
  /** The query of every authorization request, in order. */
  readonly authorizations: URLSearchParams[];
  readonly tokenRequests: URLSearchParams[];
  readonly registrations: unknown[];
  readonly mcpRequests: McpRequestRecord[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function jsonRpc(body: string): { id?: unknown; method?: string; tool?: string } {
  try {
    const parsed = JSON.parse(body) as { id?: unknown; method?: unknown; params?: unknown };
    const params = parsed.params as { name?: unknown } | undefined;
    return {
      id: parsed.id,
      method: typeof parsed.method === 'string' ? parsed.method : undefined,
      tool: typeof params?.name === 'string' ? params.name : undefined,
    };
  } catch {
    return {};
  }
}

export async function startStandIn(options: StandInOptions = {}): Promise<StandIn> {
  let base = '';
  const authorizations: URLSearchParams[] = [];
  const tokenRequests: URLSearchParams[] = [];
  const registrations: unknown[] = [];
  const mcpRequests: McpRequestRecord[] = [];
  const failFirst = [...(options.failFirst ?? [])];
  /** token -> granted scopes */
  const tokens = new Map<string, Set<string>>();
  /** code -> scopes of its authorization request */
  const codes = new Map<string, string>();

  const mcp = createMcpHandler(
    () => {
      const server = new McpServer({ name: 'stand-in', version: '1.0.0' });
      server.registerTool('echo', { description: 'Says hello.' }, async () => ({
        content: [{ type: 'text', text: 'hello' }],
      }));
      server.registerTool('write_note', { description: 'Needs a wider scope.' }, async () => ({
        content: [{ type: 'text', text: 'written' }],
      }));
      return server;
    },
    { legacy: 'stateless', responseMode: 'auto' },
  );

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const resourceMetadata = `${base}/.well-known/oauth-protected-resource/mcp`;

    if (url.pathname === '/.well-known/oauth-protected-resource/mcp') {
      json(200, { resource: `${base}/mcp`, authorization_servers: [base] });
      return;
    }
    if (url.pathname === '/.well-known/oauth-authorization-server') {
      json(200, {
        issuer: base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        ...(options.registration === false ? {} : { registration_endpoint: `${base}/register` }),
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
        authorization_response_iss_parameter_supported: true,
        ...(options.cimd ? { client_id_metadata_document_supported: true } : {}),
      });
      return;
    }
    if (url.pathname === '/authorize') {
      authorizations.push(url.searchParams);
      const code = `code-${authorizations.length}`;
      codes.set(code, url.searchParams.get('scope') ?? '');
      const back = new URL(url.searchParams.get('redirect_uri') ?? '');
      if (options.refuse === undefined) back.searchParams.set('code', code);
      else {
        back.searchParams.set('error', options.refuse.error);
        back.searchParams.set('error_description', options.refuse.description);
      }
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      if (options.iss !== 'omit') {
        back.searchParams.set('iss', options.iss === 'wrong' ? 'https://mix-up.example' : base);
      }
      res.writeHead(302, { Location: back.href }).end();
      return;
    }
    if (url.pathname === '/register' && req.method === 'POST') {
      const body: unknown = JSON.parse(await readBody(req));
      registrations.push(body);
      json(201, {
        ...(body as object),
        client_id: `dcr-client-${registrations.length}`,
      });
      return;
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      tokenRequests.push(form);
      const scope = codes.get(form.get('code') ?? '');
      if (scope === undefined) {
        json(400, { error: 'invalid_grant' });
        return;
      }
      codes.delete(form.get('code') ?? '');
      const token = `token-${tokenRequests.length}`;
      const granted = scope.split(' ').filter((s) => s !== '' && !options.withhold?.includes(s));
      tokens.set(token, new Set(granted));
      json(200, {
        access_token: token,
        token_type: 'Bearer',
        expires_in: 3600,
        ...(granted.length > 0 ? { scope: granted.join(' ') } : {}),
      });
      return;
    }
    if (url.pathname === '/mcp' && req.method === 'POST') {
      const body = await readBody(req);
      const { id, method, tool } = jsonRpc(body);
      const authorization = req.headers.authorization;
      const record = (status: number) => mcpRequests.push({ method, status, authorization });
      const failure = failFirst.shift();
      if (failure !== undefined) {
        record(failure);
        json(failure, { message: 'busy' }, { 'Retry-After': '0' });
        return;
      }
      const granted = tokens.get(authorization?.replace(/^Bearer /, '') ?? '');
      if (granted === undefined) {
        record(401);
        const scope = options.initialScope ? `, scope="${options.initialScope}"` : '';
        json(
          401,
          { error: 'invalid_token' },
          { 'WWW-Authenticate': `Bearer resource_metadata="${resourceMetadata}"${scope}` },
        );
        return;
      }
      const needed = method === undefined ? [] : (options.needs?.(method, tool) ?? []);
      if (!needed.every((scope) => granted.has(scope))) {
        record(403);
        json(
          403,
          { error: 'insufficient_scope' },
          {
            'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${needed.join(' ')}", resource_metadata="${resourceMetadata}"`,
          },
        );
        return;
      }
      if (method === 'tools/call' && tool !== undefined && options.forbiddenTools?.includes(tool)) {
        record(403);
        json(403, { error: 'forbidden' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
        return;
      }
      if (method === 'tools/call' && tool !== undefined && options.deniedTools?.includes(tool)) {
        record(200);
        json(200, {
          jsonrpc: '2.0',
          id,
          error: { code: -32003, message: `Forbidden: your roles do not allow ${tool}` },
        });
        return;
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') headers.set(name, value);
      }
      const answer = await mcp.fetch(
        new Request(`${base}${req.url ?? '/'}`, { method: 'POST', headers, body }),
      );
      record(answer.status);
      res.writeHead(answer.status, Object.fromEntries(answer.headers));
      res.end(Buffer.from(await answer.arrayBuffer()));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    mcpUrl: `${base}/mcp`,
    issuer: base,
    authorizations,
    tokenRequests,
    registrations,
    mcpRequests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
