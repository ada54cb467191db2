/**
 * A loopback stand-in for the one Secrets Manager call the authorizer makes at init
 * (GetSecretValue, AWSCURRENT and AWSPREVIOUS), spoken over HTTP as the SDK speaks it (JSON
 * 1.1 protocol), so a cold-init child can point `AWS_ENDPOINT_URL_SECRETS_MANAGER` at it and
 * nothing leaves the machine. Any other call is answered with an error and remembered, so the
 * bench can fail loudly instead of measuring a path it did not mean to.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackSecrets {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** GetSecretValue calls answered. */
  served(): number;
  /** Descriptions of the requests that were not the expected GetSecretValue. */
  unexpected(): readonly string[];
  stop(): Promise<void>;
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Serve `secretString` as both AWSCURRENT and AWSPREVIOUS of the secret named `secretId`. */
export async function startLoopbackSecrets(
  secretId: string,
  secretString: string,
): Promise<LoopbackSecrets> {
  let served = 0;
  const unexpected: string[] = [];
  const server = createServer((req, res) => {
    readText(req)
      .then((text) => {
        const target = req.headers['x-amz-target'];
        let input: { SecretId?: unknown; VersionStage?: unknown } = {};
        try {
          input = JSON.parse(text) as typeof input;
        } catch {
          // Left empty: answered as unexpected below.
        }
        const stage = input.VersionStage ?? 'AWSCURRENT';
        if (
          target === 'secretsmanager.GetSecretValue' &&
          input.SecretId === secretId &&
          (stage === 'AWSCURRENT' || stage === 'AWSPREVIOUS')
        ) {
          served++;
          res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
          res.end(
            JSON.stringify({
              ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretId}-AbCdEf`,
              Name: secretId,
              VersionId: stage === 'AWSCURRENT' ? 'bench-current' : 'bench-previous',
              SecretString: secretString,
              VersionStages: [stage],
              CreatedDate: 1_767_225_600,
            }),
          );
          return;
        }
        unexpected.push(`${req.method} ${req.url} ${String(target)} ${text.slice(0, 200)}`);
        res.writeHead(400, {
          'Content-Type': 'application/x-amz-json-1.1',
          'x-amzn-errortype': 'InvalidRequestException',
        });
        res.end(JSON.stringify({ __type: 'InvalidRequestException', message: 'not in the bench' }));
      })
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    served: () => served,
    unexpected: () => unexpected,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
