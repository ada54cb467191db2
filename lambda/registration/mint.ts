/**
 * The registration Lambda's client ids: a validated registration sealed into a DCR client id,
 * which the OAuth proxy opens with the same key (`../oauth-proxy/clients.ts`).
 */
import { mintDcrClientId } from '../oauth-proxy/dcr-client-id';
import type { Sealer } from '../oauth-proxy/ports';
import type { ClientIdMinter } from './handler';

export function dcrClientIdMinter(sealer: Sealer): ClientIdMinter {
  return (registration) =>
    mintDcrClientId(sealer, {
      redirectUris: registration.redirect_uris,
      ...(registration.client_name === undefined ? {} : { clientName: registration.client_name }),
      scope: registration.scope,
      grantTypes: registration.grant_types,
      issuedAt: registration.client_id_issued_at,
    });
}
