/**
 * Local identity for `npm run dev` and the tests: a signing key pair standing in for the
 * Cognito user pool's, and a local API-key file with the same schema as the deployed secret.
 * Both live in `.local/` (git-ignored) and are created on first use.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  randomUUID,
  sign,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FetchError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { ApiKeySource, ApiKeyVersions } from '../../lambda/authorizer/api-key-store';
import { emptyApiKeyDocument } from '../../lambda/shared/api-key';
import { RESOURCE_SERVER_ID, TOOLS_SCOPE } from '../../lib/identity-names';

/** The local stand-in for the user pool: a real-looking id, so the real verifier config runs. */
export const LOCAL_USER_POOL_ID = 'us-east-1_LocalDev01';
export const LOCAL_ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${LOCAL_USER_POOL_ID}`;
export const LOCAL_JWKS_URI = `${LOCAL_ISSUER}/.well-known/jwks.json`;
export const LOCAL_CLIENT_ID = 'localdevmcpclient000000000';
/**
 * The resource-server scope a local token carries: the stack's own (the authorizer the template
 * configures requires it).
 */
export const LOCAL_SCOPE = `${RESOURCE_SERVER_ID}/${TOOLS_SCOPE}`;

/**
 * The local scope of each permission (`mcp-server/read_data`), as the stack's resource server
 * names them in Cognito: the local authorization server issues them, step-up challenges name them.
 */
export function localPermissionScopes(permissions: readonly string[]): string[] {
  const resourceServer = LOCAL_SCOPE.slice(0, LOCAL_SCOPE.lastIndexOf('/'));
  return permissions.map((permission) => `${resourceServer}/${permission}`);
}

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `.local/` in the project, or `MCP_LOCAL_DIR` when set (tests use a temporary folder). */
export function localDir(): string {
  return process.env.MCP_LOCAL_DIR ?? join(PROJECT_ROOT, '.local');
}

export function apiKeyFilePath(dir = localDir()): string {
  return join(dir, 'api-keys.json');
}

/** Write a file atomically with owner-only permissions. */
export function writePrivateFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

export interface SigningKey {
  readonly kid: string;
  readonly privateJwk: JsonWebKey;
  readonly publicJwk: JsonWebKey;
}

/** The local signing key, created on first use. */
export function loadSigningKey(dir = localDir()): SigningKey {
  const path = join(dir, 'signing-key.json');
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as SigningKey;
  // Generated as DER and imported afresh before the JWK export: exporting a key object
  // generateKeyPairSync returned can deadlock Node 20 when a garbage collection during the
  // export destroys the key-generation job, which takes the lock the export holds (seen here:
  // a test worker hung in ExportJWKRsaKey → ~KeyGenJob → uv_mutex_lock). Imported keys share
  // no lock with any job.
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  const key: SigningKey = {
    kid: `local-${randomUUID()}`,
    privateJwk: createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' }).export({
      format: 'jwk',
    }),
    publicJwk: createPublicKey({ key: publicKey, format: 'der', type: 'spki' }).export({
      format: 'jwk',
    }),
  };
  writePrivateFile(path, `${JSON.stringify(key, null, 2)}\n`);
  return key;
}

/** The JWKS the local "user pool" publishes. */
export function localJwks(key: SigningKey) {
  return { keys: [{ ...key.publicJwk, kid: key.kid, alg: 'RS256', use: 'sig' }] };
}

/**
 * A JWKS cache that "fetches" the local JWKS instead of calling Cognito: the verifier's
 * production code path (including refetch on an unknown kid) runs unchanged, offline.
 */
export function localJwksCache(key: SigningKey): SimpleJwksCache {
  const body = new TextEncoder().encode(JSON.stringify(localJwks(key)));
  const fetcher: Fetcher = {
    fetch: async (uri) => {
      if (uri !== LOCAL_JWKS_URI)
        throw new FetchError(uri, 'the local user pool publishes no JWKS there');
      return body.slice().buffer;
    },
  };
  return new SimpleJwksCache({ fetcher });
}

export interface TokenOptions {
  readonly sub: string;
  readonly groups?: readonly string[];
  /** Seconds until expiry; negative for an already expired token. */
  readonly expiresIn?: number;
  readonly clientId?: string;
  readonly scopes?: readonly string[];
  readonly tokenUse?: 'access' | 'id';
  readonly issuer?: string;
  /** Extra or overriding claims (tests use this for not-yet-valid tokens and the like). */
  readonly claims?: Record<string, unknown>;
  /** Header overrides (tests: unknown kid, alg). */
  readonly header?: Record<string, unknown>;
  readonly now?: Date;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A Cognito-shaped access token signed with the local key (RS256). */
export function mintAccessToken(key: SigningKey, options: TokenOptions): string {
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const header = { kid: key.kid, alg: 'RS256', ...options.header };
  const groups = options.groups ?? [];
  const payload = {
    sub: options.sub,
    ...(groups.length > 0 ? { 'cognito:groups': groups } : {}),
    iss: options.issuer ?? LOCAL_ISSUER,
    client_id: options.clientId ?? LOCAL_CLIENT_ID,
    origin_jti: randomUUID(),
    event_id: randomUUID(),
    token_use: options.tokenUse ?? 'access',
    scope: (options.scopes ?? [LOCAL_SCOPE]).join(' '),
    auth_time: now,
    exp: now + (options.expiresIn ?? 3600),
    iat: now,
    jti: randomUUID(),
    username: options.sub,
    version: 2,
    ...options.claims,
  };
  const signingInput = `${b64url(header)}.${b64url(payload)}`;
  const signature = sign(
    'RSA-SHA256',
    Buffer.from(signingInput),
    createPrivateKey({ key: key.privateJwk, format: 'jwk' }),
  );
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** The local API-key file as an {@link ApiKeySource}; a missing file means "no keys". */
export class FileApiKeySource implements ApiKeySource {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  async load(): Promise<ApiKeyVersions> {
    if (!existsSync(this.#path)) return { current: JSON.stringify(emptyApiKeyDocument()) };
    return { current: readFileSync(this.#path, 'utf8') };
  }
}
