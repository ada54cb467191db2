/**
 * Cognito access-token verification with aws-jwt-verify, and the mapping of its errors to
 * audit reason codes.
 */
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  FetchError,
  JwksNotAvailableInCacheError,
  JwksValidationError,
  JwtBaseError,
  JwtExpiredError,
  JwtInvalidIssuerError,
  JwtInvalidScopeError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  ParameterValidationError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import type { JwksCache } from 'aws-jwt-verify/jwk';
import type { AuthReason } from '../shared/audit';

export interface CognitoVerifierConfig {
  readonly userPoolId: string;
  /** The app clients whose tokens are accepted (`client_id` claim). */
  readonly clientIds: readonly string[];
  /** A token must carry at least one of these scopes (at least one is required). */
  readonly requiredScopes: readonly string[];
}

/**
 * The one verifier configuration, used in Lambda and by the local gateway alike: access tokens
 * only, issuer derived from the user pool id, client ids from an allow-list. Locally a
 * `jwksCache` serving the dev key pair replaces the fetch from Cognito.
 */
export function createCognitoVerifier(config: CognitoVerifierConfig, jwksCache?: JwksCache) {
  if (config.requiredScopes.length === 0) {
    throw new Error(
      'createCognitoVerifier: at least one required scope binds tokens to this server',
    );
  }
  return CognitoJwtVerifier.create(
    {
      userPoolId: config.userPoolId,
      tokenUse: 'access',
      clientId: [...config.clientIds],
      scope: [...config.requiredScopes],
    },
    jwksCache === undefined ? undefined : { jwksCache },
  );
}

/** What the authorizer needs of a verifier: resolve to the payload or throw. */
export interface AccessTokenVerifier {
  verify(token: string): Promise<Record<string, unknown>>;
}

/** The two ways aws-jwt-verify verifies: from the cached JWKS only, or fetching if needed. */
export interface CognitoVerifier extends AccessTokenVerifier {
  verifySync(token: string): Record<string, unknown>;
}

/** The least time between two JWKS refetches triggered by a `kid` the cache does not hold. */
export const UNKNOWN_KID_REFETCH_MS = 10_000;

/**
 * Verify from the cached JWKS when it holds the token's key: the warm case, with the same
 * checks as `verify` and none of its promise hops. Only when the JWKS is not cached yet, or
 * lacks the token's `kid` (the pool rotated its keys), go the async way, which fetches the JWKS.
 * Every other error is the token's and is thrown as it is.
 *
 * aws-jwt-verify rate-limits refetches for unknown kids only after a fetch that succeeded, so
 * while the JWKS endpoint fails, every forged `kid` would cost a fetch (and its timeout). Here an
 * unknown kid may trigger at most one refetch per {@link UNKNOWN_KID_REFETCH_MS}, whatever its
 * outcome; in between it is refused as unknown. A JWKS that was never fetched is always fetched.
 */
export function cachedKeysFirst(
  verifier: CognitoVerifier,
  now: () => number = Date.now,
): AccessTokenVerifier {
  let lastUnknownKidRefetch = Number.NEGATIVE_INFINITY;
  return {
    verify(token) {
      try {
        return Promise.resolve(verifier.verifySync(token));
      } catch (error) {
        if (error instanceof JwksNotAvailableInCacheError) return verifier.verify(token);
        if (error instanceof KidNotFoundInJwksError) {
          if (now() - lastUnknownKidRefetch < UNKNOWN_KID_REFETCH_MS) return Promise.reject(error);
          lastUnknownKidRefetch = now();
          return verifier.verify(token);
        }
        return Promise.reject(error);
      }
    },
  };
}

/** Failures that mean "we could not check", not "the token is bad": fail closed with a Deny. */
export function isJwksUnavailable(error: unknown): boolean {
  return (
    error instanceof FetchError ||
    error instanceof JwksValidationError ||
    error instanceof JwksNotAvailableInCacheError
  );
}

/** The audit reason for a verification failure. */
export function reasonForJwtError(error: unknown): AuthReason {
  if (isJwksUnavailable(error)) return 'jwks_unavailable';
  if (error instanceof JwtExpiredError) return 'token_expired';
  if (error instanceof JwtNotBeforeError) return 'token_not_yet_valid';
  if (error instanceof JwtInvalidSignatureAlgorithmError) return 'invalid_algorithm';
  if (error instanceof JwtInvalidSignatureError) return 'invalid_signature';
  if (error instanceof JwtInvalidIssuerError) return 'wrong_issuer';
  // aws-jwt-verify refuses an issuer it was not configured for before any claim check, with a
  // ParameterValidationError rather than JwtInvalidIssuerError.
  if (
    error instanceof ParameterValidationError &&
    error.message.startsWith('issuer not configured')
  ) {
    return 'wrong_issuer';
  }
  if (error instanceof CognitoJwtInvalidClientIdError) return 'wrong_client';
  if (error instanceof CognitoJwtInvalidTokenUseError) return 'wrong_token_use';
  if (error instanceof JwtInvalidScopeError) return 'missing_scope';
  if (
    error instanceof KidNotFoundInJwksError ||
    error instanceof JwtWithoutValidKidError ||
    error instanceof WaitPeriodNotYetEndedJwkError
  ) {
    return 'unknown_kid';
  }
  if (error instanceof JwtParseError) return 'malformed_credential';
  if (error instanceof JwtBaseError) return 'invalid_token';
  return 'internal_error';
}
