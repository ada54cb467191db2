/**
 * DynamoDB for the emulator's functions: an embedded dynalite holding the template's tables,
 * behind a thin proxy that answers a call with an injected fault instead when a test asks
 * (`Faults`), as DynamoDB answers a throttled or failed request.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import type { Faults } from './faults';

export interface LocalDynamoDb {
  /** The endpoint the functions use (the proxy). */
  readonly endpoint: string;
  stop(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export async function startDynamoDb(faults: Faults): Promise<LocalDynamoDb> {
  const store = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const storePort = await listen(store as unknown as Server);
  const proxy = createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const fault = faults.take('DynamoDB', target.split('.').pop() ?? '');
    if (fault !== undefined) {
      req.resume();
      const body = JSON.stringify({
        __type: `com.amazonaws.dynamodb.v20120810#${fault.code}`,
        message: fault.message ?? 'Injected by the test',
      });
      res.writeHead(fault.status ?? 400, {
        'Content-Type': 'application/x-amz-json-1.0',
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    const forward = request(
      {
        host: '127.0.0.1',
        port: storePort,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 500, upstream.headers);
        upstream.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  const port = await listen(proxy);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await new Promise<void>((resolve) => store.close(() => resolve()));
    },
  };
}
