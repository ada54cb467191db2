/**
 * The not-before step of a decision: a credential that verified is refused when the operator's
 * list names its principal with a bound it was issued before. A separate step after the
 * credential's own checks, so nothing else in the decision depends on it.
 */
import { apiKeyPrincipal, userPrincipal } from '../shared/revocations';
import type { Decision } from './decide';
import type { RevocationList } from './revocation';

/** What a decision needs of the list. */
export type RevocationCheck = Pick<RevocationList, 'isRevoked'>;

/**
 * Pass a decision through the list: an Allow may become a 401 (revoked) or a Deny (the list
 * could not be read recently enough: fail closed); anything else is returned as it is.
 */
export async function checkRevocation(
  decision: Decision,
  revocations: RevocationCheck | undefined,
): Promise<Decision> {
  if (decision.effect !== 'allow' || revocations === undefined) return decision;
  const { principal } = decision;
  const isKey = principal.authMethod === 'api_key';
  const key = isKey ? apiKeyPrincipal(principal.keyId) : userPrincipal(principal.principalId);
  const who = {
    authMethod: principal.authMethod,
    caller: principal.principalId,
    ...(isKey ? { keyId: principal.keyId } : {}),
  };
  let revoked: boolean;
  try {
    revoked = await revocations.isRevoked(key, decision.issued ?? {});
  } catch (error) {
    return { effect: 'deny', reason: 'revocations_unavailable', ...who, cause: error };
  }
  if (!revoked) return decision;
  return { effect: 'unauthorized', reason: isKey ? 'key_revoked' : 'token_revoked', ...who };
}
