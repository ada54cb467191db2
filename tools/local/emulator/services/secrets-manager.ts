/**
 * Secrets Manager as the emulator's functions reach it: GetSecretValue of the template's
 * secrets, by ARN, by name or by the ARN without its six-character suffix, at a stage
 * (AWSCURRENT by default) or a version id. Each secret's value is read when asked (a local
 * file the operator CLIs write), so `npm run keys` takes effect as it does in AWS.
 */
import { randomUUID } from 'node:crypto';
import type { Faults } from './faults';
import { type JsonProtocolServer, ServiceError, serveJsonProtocol } from './json-protocol';

export interface LocalSecret {
  readonly arn: string;
  readonly name: string;
  /** The value of each stage that exists now (AWSCURRENT at least). */
  readonly read: () => Readonly<Record<string, string>>;
}

export async function startSecretsManager(
  secrets: readonly LocalSecret[],
  faults?: Faults,
): Promise<JsonProtocolServer> {
  const find = (id: string) =>
    secrets.find(
      (secret) => secret.arn === id || secret.name === id || secret.arn.slice(0, -7) === id,
    );
  /** A version id per (secret, stage, value), stable while the value is. */
  const versionIds = new Map<string, string>();
  return serveJsonProtocol(
    'secretsmanager',
    {
      GetSecretValue: (input) => {
        const secret = find(String(input.SecretId ?? ''));
        if (secret === undefined) {
          throw new ServiceError(
            'ResourceNotFoundException',
            "Secrets Manager can't find the specified secret.",
          );
        }
        const stages = secret.read();
        const wantedStage =
          input.VersionStage === undefined ? undefined : String(input.VersionStage);
        const wantedVersion = input.VersionId === undefined ? undefined : String(input.VersionId);
        const entries = Object.entries(stages).map(([stage, value]) => {
          const key = `${secret.arn} ${stage} ${value}`;
          let versionId = versionIds.get(key);
          if (versionId === undefined) {
            versionId = randomUUID();
            versionIds.set(key, versionId);
          }
          return { stage, value, versionId };
        });
        const entry =
          wantedVersion !== undefined
            ? entries.find(
                (e) =>
                  e.versionId === wantedVersion &&
                  (wantedStage === undefined || e.stage === wantedStage),
              )
            : entries.find((e) => e.stage === (wantedStage ?? 'AWSCURRENT'));
        if (entry === undefined) {
          throw new ServiceError(
            'ResourceNotFoundException',
            "Secrets Manager can't find the specified secret value for staging label: " +
              (wantedStage ?? 'AWSCURRENT'),
          );
        }
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: entry.versionId,
          VersionStages: [entry.stage],
          SecretString: entry.value,
          CreatedDate: Math.floor(Date.now() / 1000),
        };
      },
    },
    faults === undefined ? undefined : { faults, service: 'SecretsManager' },
  );
}
