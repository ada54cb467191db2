/**
 * One local gateway per test file: a temporary identity folder, the gateway on a free loopback
 * port serving the synthesized stack (the run's shared assembly, or one for the suite's own
 * `-c` values), and all of it torn down after the file's tests. The audit records are the
 * JSON lines the functions wrote to their log groups, as CloudWatch holds them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import {
  type LocalGateway,
  type LocalGatewayOptions,
  startLocalGateway,
} from '../../tools/local/gateway';
import { testAssembly } from './test-assembly';

/** What a suite reads of the logs. */
export interface GatewayLogs {
  /** Every JSON record the functions wrote (audit records among them), in order. */
  records(): Record<string, unknown>[];
  /** Every line the functions wrote, raw. */
  readonly lines: string[];
}

export interface LocalGatewayFixture {
  gateway: LocalGateway;
  /** The temporary folder holding the signing key and the API-key file. */
  dir: string;
  logs: GatewayLogs;
}

export type TestGatewayOptions = Omit<LocalGatewayOptions, 'port' | 'dir' | 'assembly'>;

/** The context (`-c` values) the options model. */
export function contextOf(options: TestGatewayOptions): Record<string, unknown> {
  return {
    ...(options.allowedOrigins === undefined
      ? {}
      : { allowedOrigins: options.allowedOrigins.join(',') }),
    ...(options.context ?? {}),
  };
}

/** Start a gateway for a test on a free port, on the run's assemblies. */
export async function startTestGateway(
  dir: string,
  options: TestGatewayOptions = {},
): Promise<LocalGateway> {
  const assembly = testAssembly(contextOf(options), options.mcp?.modules);
  return startLocalGateway({ ...options, assembly, port: 0, dir });
}

/** The function log groups' lines and records of a gateway. */
export function gatewayLogs(gateway: () => LocalGateway): GatewayLogs {
  const events = () => {
    const accessLog = gateway().emulator.api.stage.accessLog;
    const accessGroup = accessLog?.destinationArn.split(':log-group:')[1]?.replace(/:\*$/, '');
    return gateway()
      .logs.events()
      .filter((event) => event.group !== accessGroup && event.group !== 'local-emulator');
  };
  return {
    records: () =>
      events().flatMap((event) => {
        if (!event.message.startsWith('{')) return [];
        try {
          return [JSON.parse(event.message) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    get lines() {
      return events().map((event) => event.message);
    },
  };
}

/**
 * Register beforeAll/afterAll hooks and return the fixture they fill in.
 * @param prepare runs on the new folder before the gateway starts (keys, files)
 * @param options more gateway options, read when the gateway starts
 */
export function useLocalGateway(
  prefix: string,
  prepare?: (dir: string) => void | Promise<void>,
  options?: () => TestGatewayOptions,
): LocalGatewayFixture {
  const fixture = {} as LocalGatewayFixture;
  fixture.logs = gatewayLogs(() => fixture.gateway);
  beforeAll(async () => {
    fixture.dir = mkdtempSync(join(tmpdir(), prefix));
    await prepare?.(fixture.dir);
    fixture.gateway = await startTestGateway(fixture.dir, options?.());
  }, 120_000);
  afterAll(async () => {
    await fixture.gateway?.stop();
    rmSync(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
