/**
 * A loopback HTTP server standing in for an AWS JSON-protocol endpoint: it records every
 * request as it arrived and answers with whatever the test's `respond` says, including
 * nothing at all (a hang) or a dropped connection.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReceivedRequest } from './sigv4-verifier';

export type LoopbackAnswer =
  | { readonly status: number; readonly body: unknown; readonly headers?: Record<string, string> }
  | { readonly raw: string; readonly status?: number }
  | 'hang'
  | 'reset';

export interface LoopbackAws {
  readonly endpoint: string;
  readonly requests: ReceivedRequest[];
  /** Change the answer between calls; called with the request and its index. */
  respond: (request: ReceivedRequest, index: number) => LoopbackAnswer;
  stop(): Promise<void>;
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, answer: LoopbackAnswer): void {
  if (answer === 'hang') return;
  if (answer === 'reset') {
    res.socket?.destroy();
    return;
  }
  if ('raw' in answer) {
    res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/x-amz-json-1.1' });
    res.end(answer.raw);
    return;
  }
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'x-amzn-RequestId': 'loopback-request-id',
    ...answer.headers,
  });
  res.end(text);
}

export async function startLoopbackAws(
  respond: LoopbackAws['respond'] = () => ({ status: 200, body: {} }),
): Promise<LoopbackAws> {
  const requests: ReceivedRequest[] = [];
  const state = { respond };
  const server = createServer((req, res) => {
    readText(req)
      .then((body) => {
        const received = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
        };
        requests.push(received);
        send(res, state.respond(received, requests.length - 1));
      })
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    get respond() {
      return state.respond;
    },
    set respond(next) {
      state.respond = next;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
