/**
 * Lambda entry point of the API-key rotation function. The client and logger live for the life
 * of the execution environment. No configuration: Secrets Manager names the secret in each
 * event, and the SDK takes its region (and any `AWS_ENDPOINT_URL_SECRETS_MANAGER`, e.g. a VPC
 * endpoint) from the standard environment.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createLogger } from '../shared/logger';
import { createRotationHandler } from './handler';
import { AwsSecretsManager } from './secrets-manager-port';

const logger = createLogger('mcp-key-rotation');
const secrets = new AwsSecretsManager(new SecretsManagerClient({}));

export const handler = createRotationHandler({ secrets, logger });
