import { Logger } from '@aws-lambda-powertools/logger';

/**
 * A Powertools JSON logger. The level comes from `POWERTOOLS_LOG_LEVEL` (default INFO); audit
 * records are written at INFO and above, so they survive the default level.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}
