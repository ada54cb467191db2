/**
 * Who a `client_id` names, in the three ways this authorization server knows clients:
 *
 * - `cimd`: the id is an https URL of a Client ID Metadata Document, fetched (with SSRF
 *   protection) by the CIMD resolver; its name is the client's own claim, so unverified;
 * - `dcr`: the id is a dynamically registered client's validated metadata, sealed by this
 *   server (purpose `dcr-client`): registration stores nothing, and only this server can mint
 *   one, so its redirect URIs are the ones registration checked; the name is still unverified;
 * - `preregistered`: the operator's own app client id, with the redirect URIs from the config.
 *
 * Anything else is unknown. Pure but for the resolver and the sealer, both injected.
 */
import { createHash } from 'node:crypto';
import type { AuthorizationReason, ClientKind } from '../shared/audit';
import { isCimdClientId } from './cimd';
import { DCR_CLIENT_ID_PREFIX, MAX_CLIENT_ID_LENGTH, openDcrClientId } from './dcr-client-id';
import type { CimdClientResolver, Sealer } from './ports';

export {
  DCR_CLIENT_ID_PREFIX,
  type DcrMetadata,
  MAX_CLIENT_ID_LENGTH,
  MAX_DCR_METADATA_BYTES,
  mintDcrClientId,
  openDcrClientId,
} from './dcr-client-id';

/** A client this server recognises, with what the consent page may say about it. */
export interface ResolvedClient {
  readonly kind: Exclude<ClientKind, 'unknown'>;
  readonly clientId: string;
  /** The name to show. Only the pre-registered client's name is the operator's own. */
  readonly name: string;
  readonly nameVerified: boolean;
  readonly redirectUris: readonly string[];
  /** The scopes the client registered or declared, if it did: asked for when a request names none. */
  readonly scopes?: readonly string[];
  /** A CIMD client id's host: where the document (and so the client's identity) lives. */
  readonly clientHost?: string;
}

/** A client id this server does not recognise, or whose document was refused. */
export class UnknownClientError extends Error {
  override readonly name = 'UnknownClientError';
  constructor(
    readonly reason: AuthorizationReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A short, stable, irreversible label of a client id for the audit log and for bindings. */
export function clientDigest(clientId: string): string {
  return createHash('sha256').update(clientId, 'utf8').digest('base64url');
}

export interface ClientDirectoryOptions {
  readonly sealer: Sealer;
  readonly cimd: CimdClientResolver;
  readonly preRegistered: {
    readonly clientId: string;
    readonly name: string;
    readonly redirectUris: readonly string[];
  };
  /** Local mode only: CIMD client ids on a plain-http loopback URL. @default false */
  readonly allowLoopbackHttpCimd?: boolean;
  /**
   * Which of a CIMD or DCR client's redirect URIs this deployment accepts at all (local mode:
   * loopback only). @default every one
   */
  readonly allowRedirectUri?: (uri: string) => boolean;
}

/** Which kind of client id this is, by its form alone (nothing fetched or opened). */
export function classifyClientId(
  clientId: string,
  options: Pick<ClientDirectoryOptions, 'preRegistered' | 'allowLoopbackHttpCimd'>,
): ClientKind {
  if (clientId === options.preRegistered.clientId) return 'preregistered';
  if (clientId.startsWith(DCR_CLIENT_ID_PREFIX)) return 'dcr';
  return isCimdClientId(clientId, { allowLoopbackHttp: options.allowLoopbackHttpCimd === true })
    ? 'cimd'
    : 'unknown';
}

/** The CIMD resolver's refusal reason (`cimd_…`), if the error is one. */
export function cimdReason(error: unknown): `cimd_${string}` | undefined {
  const reason = (error as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' && reason.startsWith('cimd_')
    ? (reason as `cimd_${string}`)
    : undefined;
}

function scopeList(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined;
  const scopes = scope.split(' ').filter((s) => s !== '');
  return scopes.length === 0 ? undefined : scopes;
}

/** Finds the client a `client_id` names. */
export class ClientDirectory {
  readonly #options: ClientDirectoryOptions;

  constructor(options: ClientDirectoryOptions) {
    this.#options = options;
  }

  #allowed(uris: readonly string[]): readonly string[] {
    const allow = this.#options.allowRedirectUri;
    return allow === undefined ? uris : uris.filter(allow);
  }

  classify(clientId: string): ClientKind {
    return classifyClientId(clientId, this.#options);
  }

  /**
   * The client, or an {@link UnknownClientError} saying why not. Outages (KMS, a resolver bug)
   * reject with their own error.
   */
  async resolve(clientId: string): Promise<ResolvedClient> {
    if (clientId.length === 0 || clientId.length > MAX_CLIENT_ID_LENGTH) {
      throw new UnknownClientError('invalid_client_id', 'client_id is missing or too long');
    }
    const kind = this.classify(clientId);
    const pre = this.#options.preRegistered;
    if (kind === 'preregistered') {
      return {
        kind,
        clientId,
        name: pre.name,
        nameVerified: true,
        redirectUris: pre.redirectUris,
      };
    }
    if (kind === 'dcr') {
      const metadata = await openDcrClientId(this.#options.sealer, clientId);
      if (metadata === undefined) {
        throw new UnknownClientError('unknown_client', 'client_id was not issued by this server');
      }
      return {
        kind,
        clientId,
        name: metadata.clientName ?? 'Unnamed client',
        nameVerified: false,
        redirectUris: this.#allowed(metadata.redirectUris),
        scopes: scopeList(metadata.scope),
      };
    }
    if (kind === 'cimd') {
      let document: Awaited<ReturnType<CimdClientResolver['resolve']>>;
      try {
        document = await this.#options.cimd.resolve(clientId);
      } catch (error) {
        const reason = cimdReason(error);
        if (reason === undefined) throw error;
        throw new UnknownClientError(reason, 'The client metadata document could not be used', {
          cause: error,
        });
      }
      if (document.clientId !== clientId) {
        throw new UnknownClientError(
          'cimd_client_id_mismatch',
          'The document names another client',
        );
      }
      return {
        kind,
        clientId,
        name: document.clientName,
        nameVerified: false,
        redirectUris: this.#allowed(document.redirectUris),
        scopes: scopeList(document.scope),
        clientHost: new URL(clientId).host,
      };
    }
    throw new UnknownClientError('unknown_client', 'Unknown client_id');
  }
}
