/**
 * A canned deployment for the unit tests of `npm run verify`: a `fetch` port that answers as a
 * correct deployment on an execute-api URL does (the 401 challenge, the metadata under the
 * stage, both eras, the gateway's step-up challenge, a streamed `stream_check`), unless a test's
 * override answers first: each failure test breaks exactly one thing. Its clock moves only when
 * a streamed answer says so, so timings are exact.
 */
import type { FetchPort } from '../../../../tools/cli/verify/wire';

export const BASE = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod';
export const MCP_URL = `${BASE}/mcp`;
export const METADATA_URL = `${BASE}/.well-known/oauth-protected-resource`;
export const TOKEN = 'verify-test-credential-7f3a9c';
export const NARROW_TOKEN = 'verify-test-narrow-credential-51be0d';
export const TOOLS = ['get_record', 'delete_record', 'stream_check'];
export const NARROW_TOOLS = ['get_record', 'stream_check'];
export const ALLOWED_ORIGINS = ['https://app.example.com', 'https://console.example.com'];
export const MCP_HEADERS =
  'Authorization,Content-Type,Accept,Mcp-Protocol-Version,Mcp-Method,Mcp-Name';
/** The step-up challenge of the gateway's ACCESS_DENIED response. */
export const STEP_UP_CHALLENGE = `Bearer error="insufficient_scope", scope="secure-mcp/tools secure-mcp/read_data secure-mcp/delete_data", resource_metadata="${METADATA_URL}"`;

/** A JSON-RPC request or notification as the canned server read it. */
export interface RpcBody {
  readonly id?: number;
  readonly method: string;
  readonly params?: {
    readonly name?: string;
    readonly arguments?: Record<string, unknown>;
    readonly _meta?: Record<string, unknown>;
  };
}

/** What a test answers in place of the canned deployment, or `undefined` to let it answer. */
export type Override = (
  request: Request,
  body: RpcBody | undefined,
) => Response | undefined | Promise<Response | undefined>;

/** Milliseconds that pass only when a canned answer says so. */
export class FakeClock {
  private t = 1_000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', 'x-amzn-RequestId': 'req-canned', ...headers },
  });
}

export const rpcResult = (id: number | undefined, result: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  result,
});
export const rpcError = (
  id: number | null | undefined,
  code: number,
  message: string,
  data?: unknown,
) => ({
  jsonrpc: '2.0',
  id,
  error: { code, message, ...(data === undefined ? {} : { data }) },
});

const sseFrame = (message: unknown) => `event: message\ndata: ${JSON.stringify(message)}\n\n`;

/** An SSE answer whose frames arrive in chunks, the clock moved before each. */
export function timedSse(
  clock: FakeClock,
  chunks: readonly { readonly afterMs: number; readonly messages: readonly unknown[] }[],
): Response {
  const encoder = new TextEncoder();
  let next = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[next++];
        if (chunk === undefined) {
          controller.close();
          return;
        }
        clock.advance(chunk.afterMs);
        controller.enqueue(encoder.encode(chunk.messages.map(sseFrame).join('')));
      },
      // Pulled only when the reader asks: no chunk (and no clock move) ahead of the reader.
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}

/** The two frames of a `stream_check` that waited `waitMs`, as the server sends them. */
export function streamCheckFrames(progressToken: unknown, id: number | undefined, waitMs: number) {
  const sentAt = Date.parse('2026-03-01T00:00:00.000Z');
  return {
    progress: {
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken, progress: 0, total: 1, message: 'Waiting' },
    },
    result: rpcResult(id, {
      content: [{ type: 'text', text: 'done' }],
      structuredContent: {
        waited_ms: waitMs,
        progress_sent_at: new Date(sentAt).toISOString(),
        answered_at: new Date(sentAt + waitMs).toISOString(),
      },
    }),
  };
}

function metadata(url: URL): Response | undefined {
  const resource = { resource: MCP_URL, authorization_servers: [BASE] };
  const server = {
    issuer: BASE,
    authorization_endpoint: `${BASE}/authorize`,
    token_endpoint: `${BASE}/token`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
  };
  // Under the stage only, as on an execute-api URL (the root paths are outside it).
  if (url.pathname === '/prod/.well-known/oauth-protected-resource') return json(resource);
  if (url.pathname === '/prod/.well-known/openid-configuration') return json(server);
  if (url.pathname.startsWith('/.well-known/')) return json({ message: 'Forbidden' }, 403);
  return undefined;
}

function preflight(request: Request): Response {
  const origin = request.headers.get('origin') ?? '';
  return new Response(null, {
    status: 204,
    headers: {
      // API Gateway's template for several origins: the listed one echoed, else the first.
      'Access-Control-Allow-Origin': ALLOWED_ORIGINS.includes(origin)
        ? origin
        : (ALLOWED_ORIGINS[0] as string),
      'Access-Control-Allow-Methods': 'POST',
      'Access-Control-Allow-Headers': MCP_HEADERS,
    },
  });
}

/** The MCP function behind the authorizer: the SDK's header checks, both eras, the policy. */
function mcp(request: Request, body: RpcBody, clock: FakeClock): Response {
  const credential = request.headers.get('authorization')?.replace(/^Bearer /, '');
  if (credential !== TOKEN && credential !== NARROW_TOKEN) {
    return json({ message: 'Unauthorized' }, 401, {
      'WWW-Authenticate': `Bearer resource_metadata="${METADATA_URL}", scope="secure-mcp/tools"`,
    });
  }
  const modern = request.headers.get('mcp-protocol-version') === '2026-07-28';
  const envelope = body.params?._meta?.['io.modelcontextprotocol/protocolVersion'];
  if (modern && (request.headers.get('mcp-method') !== body.method || envelope !== '2026-07-28')) {
    return json(rpcError(body.id, -32020, 'Mcp-Method header or _meta envelope missing'), 400);
  }
  if (body.method.startsWith('notifications/')) return new Response(null, { status: 202 });
  const listed = credential === NARROW_TOKEN ? NARROW_TOOLS : TOOLS;
  switch (body.method) {
    case 'server/discover':
      return json(
        rpcResult(body.id, {
          supportedVersions: ['2026-07-28'],
          capabilities: { tools: {} },
          _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'canned', version: '1.0.0' } },
        }),
      );
    case 'initialize':
      return json(rpcResult(body.id, { protocolVersion: '2025-11-25', capabilities: {} }));
    case 'tools/list':
      return json(rpcResult(body.id, { tools: listed.map((name) => ({ name, inputSchema: {} })) }));
    case 'tools/call': {
      const name = body.params?.name ?? '';
      if (!TOOLS.includes(name)) return json(rpcError(body.id, -32602, `Unknown tool: ${name}`));
      if (!listed.includes(name)) {
        return json(rpcError(null, -32003, 'Insufficient scope'), 403, {
          'WWW-Authenticate': STEP_UP_CHALLENGE,
        });
      }
      if (name === 'stream_check') {
        const waitMs = Number(body.params?.arguments?.seconds ?? 0) * 1000;
        const frames = streamCheckFrames(body.params?._meta?.progressToken, body.id, waitMs);
        return timedSse(clock, [
          { afterMs: 40, messages: [frames.progress] },
          { afterMs: waitMs + 5, messages: [frames.result] },
        ]);
      }
      return json(rpcResult(body.id, { content: [] }));
    }
    default:
      return json(rpcError(body.id, -32601, 'Method not found'));
  }
}

/** The canned deployment, with a test's override answering first. */
export function cannedDeployment(clock: FakeClock, override?: Override): FetchPort {
  return async (url, init) => {
    const request = new Request(url, init);
    const text = request.method === 'POST' ? await request.text() : '';
    const body = text === '' ? undefined : (JSON.parse(text) as RpcBody);
    const overridden = await override?.(request, body);
    if (overridden !== undefined) return overridden;
    const parsed = new URL(url);
    if (parsed.pathname === '/prod/mcp' && request.method === 'OPTIONS') return preflight(request);
    if (parsed.pathname === '/prod/mcp' && body !== undefined) return mcp(request, body, clock);
    return metadata(parsed) ?? json({ message: 'Missing Authentication Token' }, 403);
  };
}
