/**
 * What `npm run verify` sends and reads: plain HTTP through a `fetch` port (tests hand in
 * canned answers), MCP requests of both protocol eras as a client builds them, and answers read
 * as they arrive, each JSON-RPC message stamped with when it came off the wire (a streamed
 * progress report must be told from one held back until the end).
 */
import * as z from 'zod';
import { MCP_PATH } from '../../../lambda/shared/routes';

/** The HTTP client the checks use: `fetch` itself, or a test's canned answers. */
export type FetchPort = (url: string, init: RequestInit) => Promise<Response>;

/** The revision with `server/discover`, `Mcp-Method` headers and the `_meta` envelope. */
export const MODERN_REVISION = '2026-07-28';
/** The revision of stateless Streamable HTTP with `initialize`. */
export const LEGACY_REVISION = '2025-11-25';
export type Era = 'modern' | 'legacy';

const REVISION_OF: Readonly<Record<Era, string>> = {
  modern: MODERN_REVISION,
  legacy: LEGACY_REVISION,
};

/** How this client names itself to the server. */
const CLIENT_INFO = { name: 'mcp-verify', version: '1.0.0' };

/** The deployment's two URLs, from either one a team has at hand. */
export interface Target {
  /** The MCP endpoint: `…/mcp`, exactly as the protected-resource metadata must name it. */
  readonly mcpUrl: string;
  /** The API's base: the stage on the execute-api URL, or a custom domain's root. */
  readonly baseUrl: string;
}

export class TargetError extends Error {
  override readonly name = 'TargetError';
}

/**
 * Read the URL given on the command line: the MCP URL (`…/mcp`) or the base URL it hangs off
 * (`https://abc.execute-api.eu-west-1.amazonaws.com/prod`, `https://mcp.example.com`).
 */
export function resolveTarget(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new TargetError(`${url} is not a URL`, { cause: error });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new TargetError(`${url} is not an http(s) URL`);
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new TargetError(`${url}: give the URL without a query or fragment`);
  }
  const path = parsed.pathname.replace(/\/+$/, '');
  const basePath = path.endsWith(MCP_PATH) ? path.slice(0, -MCP_PATH.length) : path;
  const baseUrl = `${parsed.origin}${basePath}`;
  return { baseUrl, mcpUrl: `${baseUrl}${MCP_PATH}` };
}

const requestId = z.union([z.string(), z.number(), z.null()]);

/** A JSON-RPC message as this client reads one: only the members it looks at, checked. */
const jsonRpcMessage = z.looseObject({
  id: requestId.optional(),
  method: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z
    .looseObject({ code: z.number(), message: z.string(), data: z.unknown().optional() })
    .optional(),
});
export type JsonRpcMessage = z.output<typeof jsonRpcMessage>;

/** One message of an answer, and when it arrived (the clock of `Wire`). */
export interface Arrival {
  readonly message: JsonRpcMessage;
  readonly at: number;
}

/** An HTTP answer, read to its end. */
export interface Exchange {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  /** The body as text (an SSE body: every frame, as sent). */
  readonly text: string;
  /** The JSON-RPC messages of a JSON or SSE body, in arrival order. */
  readonly messages: readonly Arrival[];
}

export interface WireOptions {
  readonly fetch: FetchPort;
  /** Milliseconds on a monotonic clock. */
  readonly now: () => number;
  /** Longest wait for one answer, to its last byte. */
  readonly timeoutMs: number;
}

/** Parse a JSON text as JSON-RPC messages (one, or a batch); none when it is anything else. */
function messagesOf(text: string): JsonRpcMessage[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [];
  }
  return (Array.isArray(json) ? json : [json]).flatMap((item) => {
    const parsed = jsonRpcMessage.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  });
}

/** The `data:` lines of one SSE event, joined (comments and other fields dropped). */
function eventData(event: string): string {
  return event
    .split(/\r?\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
    .join('\n');
}

/** HTTP through the port, every answer read to its end with its messages timed. */
export class Wire {
  constructor(private readonly options: WireOptions) {}

  async send(url: string, init: RequestInit = {}): Promise<Exchange> {
    // Never follow a redirect (unless asked: no credential on it), and never wait forever.
    const response = await this.options.fetch(url, {
      redirect: 'manual',
      ...init,
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const streamed = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
    const messages: Arrival[] = [];
    let text = '';
    let pending = '';
    const decoder = new TextDecoder();
    const take = (final: boolean) => {
      // SSE events end with a blank line; read each as soon as it is whole.
      const events = pending.split(/\r?\n\r?\n/);
      pending = final ? '' : (events.pop() ?? '');
      const at = this.options.now();
      for (const event of events) {
        for (const message of messagesOf(eventData(event))) messages.push({ message, at });
      }
    };
    if (response.body !== null) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const chunk = decoder.decode(value, { stream: true });
        text += chunk;
        if (streamed) {
          pending += chunk;
          take(false);
        }
      }
    }
    text += decoder.decode();
    const endedAt = this.options.now();
    if (streamed) {
      take(true);
    } else {
      for (const message of messagesOf(text)) messages.push({ message, at: endedAt });
    }
    return {
      url,
      status: response.status,
      headers: response.headers,
      text,
      messages,
    };
  }

  /** GET a JSON document: the exchange, and the document when it is a JSON object. */
  async getJson(url: string): Promise<{ exchange: Exchange; document?: Record<string, unknown> }> {
    // No credential goes with it, so redirects are followed, as clients' discovery does.
    const exchange = await this.send(url, {
      headers: { Accept: 'application/json' },
      redirect: 'follow',
    });
    if (exchange.status !== 200) return { exchange };
    try {
      const json: unknown = JSON.parse(exchange.text);
      if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
        return { exchange, document: json as Record<string, unknown> };
      }
    } catch {
      // Not JSON: the caller reports the status and the body's type.
    }
    return { exchange };
  }
}

/** One MCP request or notification as a client of either era sends it. */
export interface McpCall {
  readonly era: Era;
  readonly method: string;
  readonly params?: Record<string, unknown>;
  /** `Mcp-Name` (2026-07-28): the tool, prompt or resource a call names. */
  readonly name?: string;
  readonly progressToken?: string;
  /** Absent: a notification. */
  readonly id?: number;
}

/** A 2026-07-28 `tools/call`, its tool named in `Mcp-Name` as well as in the body. */
export function toolCall(
  name: string,
  id: number,
  args: Record<string, unknown> = {},
  progressToken?: string,
): McpCall {
  return {
    era: 'modern',
    method: 'tools/call',
    name,
    params: { name, arguments: args },
    id,
    ...(progressToken === undefined ? {} : { progressToken }),
  };
}

/** The `_meta` envelope a 2026-07-28 client puts on every request. */
function modernEnvelope(): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
    'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
    'io.modelcontextprotocol/clientCapabilities': {},
  };
}

/** The `initialize` params of a 2025-11-25 client. */
export function legacyInitializeParams(): Record<string, unknown> {
  return { protocolVersion: LEGACY_REVISION, capabilities: {}, clientInfo: CLIENT_INFO };
}

/** MCP over the wire to one endpoint, with or without a credential. */
export class McpWire {
  constructor(
    private readonly wire: Wire,
    readonly mcpUrl: string,
  ) {}

  post(call: McpCall, credential: string | undefined): Promise<Exchange> {
    const meta = {
      ...(call.era === 'modern' ? modernEnvelope() : {}),
      ...(call.progressToken === undefined ? {} : { progressToken: call.progressToken }),
    };
    const params = { ...call.params, ...(Object.keys(meta).length === 0 ? {} : { _meta: meta }) };
    const body = {
      jsonrpc: '2.0',
      ...(call.id === undefined ? {} : { id: call.id }),
      method: call.method,
      ...(Object.keys(params).length === 0 ? {} : { params }),
    };
    return this.wire.send(this.mcpUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'MCP-Protocol-Version': REVISION_OF[call.era],
        ...(call.era === 'modern' ? { 'Mcp-Method': call.method } : {}),
        ...(call.era === 'modern' && call.name !== undefined ? { 'Mcp-Name': call.name } : {}),
        ...(credential === undefined ? {} : { Authorization: `Bearer ${credential}` }),
      },
      body: JSON.stringify(body),
    });
  }
}

/** The answer to request `id` in an exchange, if one came. */
export function answerTo(exchange: Exchange, id: number): Arrival | undefined {
  return exchange.messages.find(
    ({ message }) =>
      message.id === id && (message.result !== undefined || message.error !== undefined),
  );
}

/** A short account of an answer that was not what was expected: status and body's start. */
export function describeAnswer(exchange: Exchange): string {
  const body = exchange.text.trim().replace(/\s+/g, ' ');
  const type = exchange.headers.get('content-type');
  const shown = body.length > 160 ? `${body.slice(0, 160)}…` : body;
  return `HTTP ${exchange.status}${type === null ? '' : ` ${type.split(';')[0]}`}${shown === '' ? ', empty body' : `: ${shown}`}`;
}
