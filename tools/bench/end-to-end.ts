/**
 * End to end on loopback: the local gateway (what `npm run dev` runs: the synthesized API in
 * the emulator, the authorizer and MCP bundles in their own execution environments, dynalite)
 * driven over HTTP by the real MCP SDK client, a fixed number of clients calling tools/call
 * concurrently. Every answer is checked: a failed call stops the bench rather than count as a
 * fast one. The deployment's stage throttle (50 requests per second) and WAF rate limit are
 * raised for it: it measures the machinery, not the limits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CloudAssembly, synthesize } from '../local/emulator/assembly';
import { startLocalGateway } from '../local/gateway';
import { loadSigningKey, mintAccessToken } from '../local/identity';
import { GET_RECORD_CALL } from './events';
import { quietly } from './quietly';
import { percentile } from './stats';

export interface EndToEndOptions {
  /** Timed tools/call requests, across all clients. */
  readonly requests: number;
  /** Clients calling at once, each one request at a time. */
  readonly concurrency: number;
  /** Untimed requests first, across all clients. */
  readonly warmup: number;
  /** The deployment to drive, synthesized already (a test's). @default the bench's own */
  readonly assembly?: CloudAssembly;
}

export interface EndToEndReport {
  readonly requests: number;
  readonly concurrency: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const CALL = GET_RECORD_CALL.params;

/** The deployment benched: the defaults but for throttles and WAF's rate limit. */
const BENCH_CONTEXT = {
  throttleRateLimit: 10_000,
  throttleBurstLimit: 5_000,
  wafRateLimit: 2_000_000_000,
};

async function callOnce(client: Client): Promise<void> {
  const result = await client.callTool(CALL);
  const content = result.structuredContent as { found?: unknown } | undefined;
  if (result.isError === true || content?.found !== true) {
    throw new Error(`bench: an end-to-end tools/call failed: ${JSON.stringify(result)}`);
  }
}

/**
 * `total` calls shared by the clients, each client calling as soon as its previous call
 * returned; the latency of each call is written to `samples` when given.
 */
async function drive(clients: readonly Client[], total: number, samples?: Float64Array) {
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      for (let i = next++; i < total; i = next++) {
        const before = process.hrtime.bigint();
        await callOnce(client);
        if (samples !== undefined) samples[i] = Number(process.hrtime.bigint() - before) / 1e6;
      }
    }),
  );
}

export async function runEndToEnd(options: EndToEndOptions): Promise<EndToEndReport> {
  const { requests, concurrency, warmup } = options;
  if (!(Number.isInteger(requests) && requests > 0 && Number.isInteger(concurrency))) {
    throw new RangeError('end to end: requests and concurrency must be positive integers');
  }
  const dir = mkdtempSync(join(tmpdir(), 'mcp-bench-e2e-'));
  // The gateway's audit logs would otherwise flood the terminal: they are still written.
  return quietly(async () => {
    const assembly =
      options.assembly ?? synthesize({ outdir: join(dir, 'cdk.out'), context: BENCH_CONTEXT });
    const gateway = await startLocalGateway({ port: 0, dir, assembly });
    const clients: Client[] = [];
    try {
      const token = mintAccessToken(loadSigningKey(dir), {
        sub: 'bench-e2e',
        groups: ['analyst'],
        expiresIn: 3600,
      });
      for (let i = 0; i < concurrency; i++) {
        const client = new Client({ name: `mcp-bench-${i}`, version: '0.0.0' });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(gateway.mcpUrl), {
            requestInit: { headers: { Authorization: `Bearer ${token}` } },
          }),
        );
        // As a real client does: it learns the tools (and their output schemas) first.
        await client.listTools();
        clients.push(client);
      }
      await drive(clients, warmup);
      const samples = new Float64Array(requests);
      const started = process.hrtime.bigint();
      await drive(clients, requests, samples);
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      return {
        requests,
        concurrency,
        requestsPerSecond: (requests * 1000) / elapsedMs,
        p50Ms: percentile(samples, 50),
        p99Ms: percentile(samples, 99),
      };
    } finally {
      await Promise.allSettled(clients.map((client) => client.close()));
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
