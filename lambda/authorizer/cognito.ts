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
import { type Jwks, type JwksCache, SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import type { AuthReason } from '../shared/audit';

export interface CognitoVerifierConfig {
  readonly userPoolId: string;
  /** The app clients whose tokens are accepted (`client_id` claim). */
  readonly clientIds: readonly string[];
  /** A token must carry at least one of these scopes (at least one is required). */
  readonly requiredScopes: readonly string[];
}

/** What the authorizer needs of a verifier: resolve to the payload or throw. */
export interface AccessTokenVerifier {
  verify(token: string): Promise<Record<string, unknown>>;
}

/** The two ways aws-jwt-verify verifies: from the cached JWKS only, or fetching if needed. */
export interface CognitoVerifier extends AccessTokenVerifier {
  verifySync(token: string): Record<string, unknown>;
}

/** The user pool's verifier: {@link CognitoVerifier} plus warming its one JWKS. */
export interface UserPoolVerifier extends CognitoVerifier {
  /** The one issuer accepted. */
  readonly issuer: string;
  /** Fetch and cache the pool's JWKS (cold start). */
  hydrate(): Promise<void>;
  /** Put the pool's JWKS in the cache without fetching it. */
  cacheJwks(jwks: Jwks): void;
}

/**
 * The issuer the user pool's tokens carry: Cognito's ORIGINAL issuer format,
 * `https://cognito-idp.<region>.amazonaws.com/<pool>`, which the Identity construct pins on the
 * pool (`IssuerConfiguration`), and whose JWKS the OAuth metadata advertises.
 */
export function userPoolIssuer(userPoolId: string): string {
  return CognitoJwtVerifier.parseUserPoolId(userPoolId).issuer;
}

/**
 * The one verifier configuration, used in Lambda and by the local gateway alike: access tokens
 * only, one issuer (the pool's), client ids from an allow-list. Locally a `jwksCache` serving
 * the dev key pair replaces the fetch from Cognito.
 *
 * aws-jwt-verify also accepts the pool's UPDATED issuer spelling
 * (`https://issuer-cognito-idp.<region>.amazonaws.com/<pool>`) with a JWKS of its own, which it
 * fetches for every such token while it is not cached: anyone could make the authorizer call
 * out once per request with a forged token. So the unverified `iss` is compared with the pool's
 * one issuer first, and anything else is refused as a wrong issuer before a key is looked up.
 */
export function createCognitoVerifier(
  config: CognitoVerifierConfig,
  jwksCache: JwksCache = new SimpleJwksCache(),
): UserPoolVerifier {
  if (config.requiredScopes.length === 0) {
    throw new Error(
      'createCognitoVerifier: at least one required scope binds tokens to this server',
    );
  }
  const { issuer, jwksUri } = CognitoJwtVerifier.parseUserPoolId(config.userPoolId);
  const verifier = CognitoJwtVerifier.create(
    {
      userPoolId: config.userPoolId,
      tokenUse: 'access',
      clientId: [...config.clientIds],
      scope: [...config.requiredScopes],
    },
    { jwksCache },
  );
  const checkIssuer = (token: string) => {
    // Decoded, not trusted: only so that no other issuer's JWKS is ever looked up (or fetched).
    // A token that does not decode throws JwtParseError here, as it would in verify().
    const { payload } = decomposeUnverifiedJwt(token);
    if (payload.iss !== issuer) {
      throw new JwtInvalidIssuerError('Issuer not allowed', payload.iss, issuer);
    }
  };
  return {
    issuer,
    verifySync(token) {
      checkIssuer(token);
      return verifier.verifySync(token);
    },
    async verify(token) {
      checkIssuer(token);
      return verifier.verify(token);
    },
    async hydrate() {
      // The pool's JWKS only: the library's own hydrate() would also fetch the other spelling's.
      await jwksCache.getJwks(jwksUri);
    },
    cacheJwks(jwks) {
      verifier.cacheJwks(jwks);
    },
  };
}

/**
 * The least time between two JWKS fetches that a request triggers: for a `kid` the cached JWKS
 * lacks, or while the JWKS has never been fetched (the cold-start fetch failed).
 */
export const JWKS_REFETCH_MS = 10_000;

/**
 * Verify from the cached JWKS when it holds the token's key: the warm case, with the same
 * checks as `verify` and none of its promise hops. Only when the JWKS is not cached yet, or
 * lacks the token's `kid` (the pool rotated its keys), go the async way, which fetches the JWKS.
 * Every other error is the token's and is thrown as it is.
 *
 * aws-jwt-verify rate-limits refetches for unknown kids only after a fetch that succeeded, and a
 * JWKS never fetched not at all, so while the JWKS endpoint fails every request would cost a
 * fetch (and its timeout). Here requests trigger at most one fetch per {@link JWKS_REFETCH_MS},
 * whatever its outcome; in between, an unknown kid is refused as unknown (401) and a JWKS that
 * is still missing as unavailable (fail closed).
 */
export function cachedKeysFirst(
  verifier: CognitoVerifier,
  now: () => number = Date.now,
): AccessTokenVerifier {
  // One window per cause: a cold fetch that just succeeded must not hold up a key rotation.
  const lastFetch = { neverCached: Number.NEGATIVE_INFINITY, unknownKid: Number.NEGATIVE_INFINITY };
  return {
    verify(token) {
      try {
        return Promise.resolve(verifier.verifySync(token));
      } catch (error) {
        const cause =
          error instanceof JwksNotAvailableInCacheError
            ? 'neverCached'
            : error instanceof KidNotFoundInJwksError
              ? 'unknownKid'
              : undefined;
        if (cause === undefined) return Promise.reject(error);
        if (now() - lastFetch[cause] < JWKS_REFETCH_MS) return Promise.reject(error);
        lastFetch[cause] = now();
        return verifier.verify(token);
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
