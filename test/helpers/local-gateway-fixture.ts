/**
 * One local gateway per test file: a temporary identity folder, the audit logs captured, the
 * gateway on a free loopback port, and all of it torn down after the file's tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import {
  type LocalGateway,
  type LocalGatewayOptions,
  startLocalGateway,
} from '../../tools/local-gateway';
import { type CapturedLogs, captureLogs } from './capture-logs';

export interface LocalGatewayFixture {
  gateway: LocalGateway;
  /** The temporary folder holding the signing key and the API-key file. */
  dir: string;
  logs: CapturedLogs;
}

/**
 * Register beforeAll/afterAll hooks and return the fixture they fill in.
 * @param prepare runs on the new folder before the gateway starts (keys, files)
 * @param options more gateway options, read when the gateway starts
 */
export function useLocalGateway(
  prefix: string,
  prepare?: (dir: string) => void | Promise<void>,
  options?: () => Omit<LocalGatewayOptions, 'port' | 'dir'>,
): LocalGatewayFixture {
  const fixture = {} as LocalGatewayFixture;
  beforeAll(async () => {
    fixture.dir = mkdtempSync(join(tmpdir(), prefix));
    await prepare?.(fixture.dir);
    fixture.logs = captureLogs();
    fixture.gateway = await startLocalGateway({ ...options?.(), port: 0, dir: fixture.dir });
  });
  afterAll(async () => {
    fixture.logs?.restore();
    await fixture.gateway?.stop();
    rmSync(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
