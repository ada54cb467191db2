/**
 * A loopback server speaking the AWS JSON protocol (the `X-Amz-Target` header names the
 * operation, the body is JSON, errors are `{"__type": "...", "message": "..."}` with a 4xx),
 * for the emulator's stand-ins of Secrets Manager and KMS. Signatures are not checked: the
 * stand-ins serve only the emulator's own functions (test/unit/shared/aws checks the client's
 * signing against SDK v3's signer).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Faults } from './faults';

/** An error the service answers with its code and HTTP status. */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type Operation = (input: Record<string, unknown>) => unknown | Promise<unknown>;

export interface JsonProtocolServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function serveJsonProtocol(
  targetPrefix: string,
  operations: Readonly<Record<string, Operation>>,
  faults?: { readonly faults: Faults; readonly service: string },
): Promise<JsonProtocolServer> {
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(`${targetPrefix}.`)
      ? operations[target.slice(targetPrefix.length + 1)]
      : undefined;
    const answer = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'Content-Type': 'application/x-amz-json-1.1',
        'Content-Length': Buffer.byteLength(text),
        'x-amzn-RequestId': crypto.randomUUID(),
      });
      res.end(text);
    };
    if (operation === undefined) {
      answer(400, { __type: 'UnknownOperationException', message: `Unknown operation ${target}` });
      return;
    }
    const fault = faults?.faults.take(faults.service, target.slice(targetPrefix.length + 1));
    if (fault !== undefined) {
      answer(fault.status ?? 400, {
        __type: fault.code,
        message: fault.message ?? 'Injected by the test',
      });
      return;
    }
    try {
      const input =
        chunks.length === 0
          ? {}
          : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      answer(200, (await operation(input)) ?? {});
    } catch (error) {
      if (error instanceof ServiceError)
        answer(error.status, { __type: error.code, message: error.message });
      else answer(500, { __type: 'InternalFailure', message: String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
