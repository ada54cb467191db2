/**
 * Stateless dynamic client registration: a registered client's id is its validated metadata,
 * sealed by this server's key (purpose `dcr-client`). Registration stores nothing, only this
 * server can mint an id, and the id carries the redirect URIs registration checked. The
 * metadata is written in its wire form (`wire.ts`): ids already issued must keep opening. Kept
 * apart from `clients.ts` so the registration Lambda bundles this and nothing of the proxy's.
 */
import { SEAL_PURPOSES, SealError, type Sealer } from './ports';
import type { DcrMetadata } from './records';
import { REGISTRATION_WIRE } from './wire';

export type { DcrMetadata } from './records';

/** The prefix of a client id minted by registration (the rest is the sealed metadata). */
export const DCR_CLIENT_ID_PREFIX = 'dcr_';
/** The longest client id looked at: a sealed registration fits well within it. */
export const MAX_CLIENT_ID_LENGTH = 4096;
/**
 * The largest registration a DCR client id carries, as JSON: bounds the id's length (and stays
 * under KMS's 4 KB plaintext limit).
 */
export const MAX_DCR_METADATA_BYTES = 2048;

/** Seal validated registration metadata into a client id. */
export async function mintDcrClientId(sealer: Sealer, metadata: DcrMetadata): Promise<string> {
  const plaintext = JSON.stringify(REGISTRATION_WIRE.encode(metadata));
  if (Buffer.byteLength(plaintext) > MAX_DCR_METADATA_BYTES) {
    throw new RangeError(`The registration exceeds ${MAX_DCR_METADATA_BYTES} bytes`);
  }
  return `${DCR_CLIENT_ID_PREFIX}${await sealer.seal(SEAL_PURPOSES.dcrClient, plaintext)}`;
}

/** The metadata a DCR client id carries, or undefined if this server did not mint it. */
export async function openDcrClientId(
  sealer: Sealer,
  clientId: string,
): Promise<DcrMetadata | undefined> {
  if (!clientId.startsWith(DCR_CLIENT_ID_PREFIX)) return undefined;
  let plaintext: string;
  try {
    plaintext = await sealer.open(
      SEAL_PURPOSES.dcrClient,
      clientId.slice(DCR_CLIENT_ID_PREFIX.length),
    );
  } catch (error) {
    if (error instanceof SealError) return undefined;
    throw error;
  }
  try {
    return REGISTRATION_WIRE.decode(JSON.parse(plaintext));
  } catch {
    return undefined;
  }
}
