/**
 * A serverless-http-style adapter, for the bench's Express baseline only: an API Gateway proxy
 * event becomes a Node `IncomingMessage`/`ServerResponse` pair in memory, the Node request
 * listener (an Express app) answers it, and the bytes it writes become the proxy result. No
 * socket, no server: measured in process exactly like our handler's warm path.
 *
 * It does what serverless-http does, openly: a stub socket under the request, a `Writable`
 * standing in for the response's socket that collects what Node's HTTP layer writes (status
 * line, headers, body), and `close` emitted after `finish` as a real server would once the
 * socket is released (the SDK's samples close the transport and server on it).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => unknown;

export type ProxyHandler = (
  event: APIGatewayProxyEvent,
  context?: Context,
) => Promise<APIGatewayProxyResult>;

/** What serverless-http hangs on `req.apiGateway`: the event and context behind a request. */
export interface ProxySource {
  readonly event: APIGatewayProxyEvent;
  readonly context: Context | undefined;
}

const sources = new WeakMap<IncomingMessage, ProxySource>();

/**
 * The event a request was made from. A WeakMap rather than a property on the request: Express
 * swaps the request's prototype, and a typed lookup needs no augmentation of its types.
 */
export function proxySourceOf(req: IncomingMessage): ProxySource | undefined {
  return sources.get(req);
}

const HEADER_END = Buffer.from('\r\n\r\n');

function requestFrom(event: APIGatewayProxyEvent, body: Buffer): IncomingMessage {
  // The least of a socket that IncomingMessage, Express and @hono/node-server read.
  const socket = {
    encrypted: true,
    readable: false,
    remoteAddress: event.requestContext?.identity?.sourceIp ?? '127.0.0.1',
    remotePort: 0,
    address: () => ({ port: 443 }),
    on: () => socket,
    once: () => socket,
    removeListener: () => socket,
    end: () => {},
    destroy: () => {},
    destroySoon: () => {},
  };
  const req = new IncomingMessage(socket as unknown as Socket);
  const headers: Record<string, string> = {};
  const rawHeaders: string[] = [];
  const multi = event.multiValueHeaders ?? {};
  const single = event.headers ?? {};
  for (const name of new Set([...Object.keys(single), ...Object.keys(multi)])) {
    const values = multi[name] ?? [single[name] ?? ''];
    headers[name.toLowerCase()] = values.join(', ');
    for (const value of values) rawHeaders.push(name, value);
  }
  headers.host ??= event.requestContext?.domainName ?? 'localhost';
  // API Gateway drops Transfer-Encoding and hands over a whole body: say how long it is.
  headers['content-length'] = String(body.byteLength);
  const query = new URLSearchParams();
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    for (const value of values ?? []) query.append(name, value);
  }
  const search = query.size > 0 ? `?${query}` : '';
  Object.assign(req, {
    method: event.httpMethod,
    url: `${event.path}${search}`,
    headers,
    rawHeaders,
    httpVersion: '1.1',
    httpVersionMajor: 1,
    httpVersionMinor: 1,
    complete: true,
  });
  if (body.byteLength > 0) req.push(body);
  req.push(null);
  return req;
}

/** Single-value and multi-value header maps, as a proxy result carries them. */
function resultHeaders(res: ServerResponse) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(res.getHeaders())) {
    if (value === undefined) continue;
    if (Array.isArray(value)) multiValueHeaders[name] = value;
    else headers[name] = String(value);
  }
  return { headers, multiValueHeaders };
}

/** Wrap a Node request listener as a Lambda proxy handler. */
export function proxyHandler(listener: NodeListener): ProxyHandler {
  return (event, context) =>
    new Promise<APIGatewayProxyResult>((resolve, reject) => {
      const raw = event.body ?? '';
      const body = Buffer.from(raw, event.isBase64Encoded ? 'base64' : 'utf8');
      const req = requestFrom(event, body);
      sources.set(req, { event, context });

      const written: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          written.push(chunk);
          callback();
        },
      });
      const res = new ServerResponse(req);
      // No chunked framing: the bytes after the header block are the body as sent.
      res.useChunkedEncodingByDefault = false;
      res.assignSocket(sink as unknown as Socket);
      res.once('finish', () => {
        res.detachSocket(sink as unknown as Socket);
        res.emit('close');
        const bytes = Buffer.concat(written);
        const headerEnd = bytes.indexOf(HEADER_END);
        if (headerEnd === -1) {
          reject(new Error('proxy adapter: the response wrote no header block'));
          return;
        }
        resolve({
          statusCode: res.statusCode,
          ...resultHeaders(res),
          body: bytes.subarray(headerEnd + HEADER_END.length).toString('utf8'),
          isBase64Encoded: false,
        });
      });
      try {
        const returned = listener(req, res);
        if (returned instanceof Promise) returned.catch(reject);
      } catch (error) {
        reject(error);
      }
    });
}
