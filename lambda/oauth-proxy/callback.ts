/**
 * `GET /callback`: the upstream's answer to a sign-in. The transaction (its `state`) is opened
 * and must have been started in this browser, so that a sign-in link started by someone else
 * cannot deliver this person's code to their client; it is marked used (one callback per
 * transaction); then the client's code is minted (256 random bits) and what redeeming it needs
 * is stored, sealed, under its SHA-256 for {@link CODE_SECONDS}. The client gets `code`, its
 * `state` and `iss`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { sha256, spendOnce } from './browser';
import type { ProxyContext } from './context';
import { errorPage, type ProxyRequest, parseCookies, uniqueParams } from './http';
import { constantTimeEqual } from './pkce';
import { openRecordOr, RECORDS, sealRecord } from './records';
import {
  type ClientFacts,
  noteAuthorization,
  type ProxyOutcome,
  StepError,
  stepAudit,
} from './step';

/** How long a code waits for the client's token request. */
export const CODE_SECONDS = 60;

/** The OAuth errors a client may be redirected with after the upstream refused. */
const PASSED_UPSTREAM_ERRORS = new Set(['access_denied', 'temporarily_unavailable']);

/** The store key of a code: its SHA-256, so the table never holds a usable code. */
export function codeKey(code: string): string {
  return `code#${createHash('sha256').update(code, 'utf8').digest('hex')}`;
}

export async function callback(
  ctx: ProxyContext,
  request: ProxyRequest,
  facts: ClientFacts,
): Promise<ProxyOutcome> {
  const params = uniqueParams(request.query);
  if (params === undefined) {
    throw new StepError(
      'duplicate_parameter',
      errorPage(400, 'invalid_request', 'A parameter is repeated'),
    );
  }
  const { value: transaction, expiresAt: transactionExpiry } = await openRecordOr(
    ctx.sealer,
    RECORDS.transaction,
    params.get('state') ?? '',
    ctx.seconds(),
    (failure) =>
      new StepError(
        failure === 'expired' ? 'transaction_expired' : 'invalid_transaction',
        errorPage(
          400,
          'invalid_request',
          failure === 'expired'
            ? 'This sign-in took too long; start again from the application'
            : 'This is not a sign-in this server started',
        ),
      ),
  );
  noteAuthorization(facts, transaction);
  if (transaction.issuer !== ctx.config.issuer) {
    throw new StepError(
      'invalid_transaction',
      errorPage(400, 'invalid_request', 'This sign-in was started at another server'),
    );
  }
  // Started in this browser, or refused: a sign-in link made by someone else (who approved
  // their own client) must not deliver this person's code to that client.
  const browserId = parseCookies(request.header('cookie')).get(ctx.cookieNames.browser);
  if (browserId === undefined || !constantTimeEqual(sha256(browserId), transaction.browserDigest)) {
    throw new StepError(
      'transaction_browser_mismatch',
      errorPage(
        403,
        'access_denied',
        'This sign-in was started in another browser; start again from the application',
      ),
    );
  }
  // Once: a transaction ends at its first callback, with a code or with the upstream's refusal
  // passed on; opened again (history, a reload, a replayed link) it mints nothing. Its PKCE
  // verifier at the upstream is random and its own: the transaction's nonce.
  if (!(await spendOnce(ctx.codes, 'txn', transaction.upstreamVerifier, transactionExpiry))) {
    throw new StepError(
      'transaction_replayed',
      errorPage(
        400,
        'invalid_request',
        'This sign-in was already completed; start again from the application',
      ),
    );
  }
  const upstreamError = params.get('error');
  if (upstreamError !== undefined) {
    const error = PASSED_UPSTREAM_ERRORS.has(upstreamError) ? upstreamError : 'server_error';
    return {
      response: ctx.clientRedirect(
        transaction.redirectUri,
        { error, error_description: 'The sign-in did not complete' },
        transaction.clientState,
      ),
      audit: stepAudit('callback', facts, 'refused', 'upstream_denied', 302, error),
    };
  }
  const upstreamCode = params.get('code');
  if (upstreamCode === undefined || upstreamCode === '' || upstreamCode.length > 2048) {
    throw new StepError(
      'upstream_error',
      ctx.clientRedirect(
        transaction.redirectUri,
        { error: 'server_error', error_description: 'The sign-in returned no code' },
        transaction.clientState,
      ),
    );
  }
  const code = randomBytes(32).toString('base64url');
  const expiresAt = ctx.seconds() + CODE_SECONDS;
  const sealed = await sealRecord(
    ctx.sealer,
    RECORDS.code,
    {
      upstreamCode,
      upstreamVerifier: transaction.upstreamVerifier,
      clientDigest: transaction.clientDigest,
      clientKind: transaction.clientKind,
      redirectUri: transaction.redirectUri,
      codeChallenge: transaction.codeChallenge,
      scopes: transaction.scopes,
      issuer: ctx.config.issuer,
      resource: ctx.config.resource,
    },
    expiresAt,
  );
  await ctx.codes.put(codeKey(code), sealed, expiresAt);
  return {
    response: ctx.clientRedirect(transaction.redirectUri, { code }, transaction.clientState),
    audit: stepAudit('callback', facts, 'ok', 'ok', 302),
  };
}
