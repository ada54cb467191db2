/**
 * The sealed records' wire form (`lambda/oauth-proxy/wire.ts`): values sealed before the
 * records had readable names open to the records the code now reads, and sealing those records
 * gives back the same JSON, byte for byte. A wrong shape never opens.
 */
import { describe, expect, it } from 'vitest';
import { AesSealer } from '../../../lambda/oauth-proxy/aes-sealer';
import { sha256 } from '../../../lambda/oauth-proxy/browser';
import { clientDigest } from '../../../lambda/oauth-proxy/clients';
import {
  DCR_CLIENT_ID_PREFIX,
  mintDcrClientId,
  openDcrClientId,
} from '../../../lambda/oauth-proxy/dcr-client-id';
import { SEAL_PURPOSES } from '../../../lambda/oauth-proxy/ports';
import {
  type AuthorizationRequest,
  openRecord,
  RECORDS,
  type RecordKind,
  sealRecord,
} from '../../../lambda/oauth-proxy/records';
import { OpenSealedError, sealJson } from '../../../lambda/oauth-proxy/sealed-json';
import { REGISTRATION_WIRE } from '../../../lambda/oauth-proxy/wire';
import { CHALLENGE, CIMD_ID, CIMD_REDIRECT, ISSUER, PRE_ID, RESOURCE } from './proxy-fixture';
import { SEALED_AT_MS, SEALED_BEFORE, SEALED_BEFORE_KEY } from './sealed-before-fixture';

const sealer = new AesSealer(SEALED_BEFORE_KEY);
const NOW = Math.floor(SEALED_AT_MS / 1000);
const LOOPBACK = 'http://localhost:51234/callback';
const { consentTicket, consentTicketCimd, approvalSignIn } = SEALED_BEFORE;

const preRegisteredRequest: AuthorizationRequest = {
  clientDigest: clientDigest(PRE_ID),
  clientKind: 'preregistered',
  redirectUri: LOOPBACK,
  clientState: 'client-state',
  codeChallenge: CHALLENGE,
  scopes: ['mcp/tools', 'mcp/read_data'],
};
const cimdRequest: AuthorizationRequest = {
  clientDigest: clientDigest(CIMD_ID),
  clientKind: 'cimd',
  clientHost: 'app.example.org',
  redirectUri: CIMD_REDIRECT,
  codeChallenge: CHALLENGE,
  scopes: ['mcp/tools'],
};

/** Each value sealed before, its kind, and the record it must open to. */
const CASES: [string, { sealed: string; wire: string }, RecordKind<unknown>, unknown][] = [
  [
    'a consent ticket',
    consentTicket,
    RECORDS.consentTicket,
    {
      browserDigest: sha256(consentTicket.browserId),
      nonce: '-nE6fhjV1wVbC56Ntohm9w',
      request: preRegisteredRequest,
    },
  ],
  [
    "a CIMD client's consent ticket (a host, no state)",
    consentTicketCimd,
    RECORDS.consentTicket,
    {
      browserDigest: sha256(consentTicketCimd.browserId),
      nonce: 'iopfaQGPESPldLOjWAO6_g',
      request: cimdRequest,
    },
  ],
  [
    'a transaction',
    SEALED_BEFORE.transaction,
    RECORDS.transaction,
    {
      ...preRegisteredRequest,
      browserDigest: sha256(consentTicket.browserId),
      issuer: ISSUER,
      upstreamVerifier: 'mzHsbXGa3ouL-RH5tJeFlqUHkra6cHM7hdWUnTbiJD4',
    },
  ],
  [
    "a CIMD client's transaction",
    SEALED_BEFORE.transactionCimd,
    RECORDS.transaction,
    {
      ...cimdRequest,
      browserDigest: sha256(consentTicketCimd.browserId),
      issuer: ISSUER,
      upstreamVerifier: 'ds1e6QyJZfaUd-unA3CQTTdrG0lYbvaX0p7iE8ZUuG0',
    },
  ],
  [
    "a code's record",
    SEALED_BEFORE.codeRecord,
    RECORDS.code,
    {
      upstreamCode: 'upstream-code',
      upstreamVerifier: 'mzHsbXGa3ouL-RH5tJeFlqUHkra6cHM7hdWUnTbiJD4',
      clientDigest: clientDigest(PRE_ID),
      clientKind: 'preregistered',
      redirectUri: LOOPBACK,
      codeChallenge: CHALLENGE,
      scopes: ['mcp/tools', 'mcp/read_data'],
      issuer: ISSUER,
      resource: RESOURCE,
    },
  ],
  [
    "a refresh-token family's state, naming the person",
    SEALED_BEFORE.refreshFamily,
    RECORDS.refreshFamily,
    {
      familyKey: 'family#f5a817ee6d438a14da506e96f55271000a2f1a76142fcb21f158509763304adf',
      upstreamRefreshToken: 'upstream-refresh',
      clientDigest: clientDigest(PRE_ID),
      clientKind: 'preregistered',
      scopes: ['mcp/tools', 'mcp/read_data'],
      issuer: ISSUER,
      resource: RESOURCE,
      subject: 'alice-sub',
      authTime: 1796126400,
    },
  ],
  [
    "a refresh-token family's state naming nobody",
    SEALED_BEFORE.refreshFamilyAnonymous,
    RECORDS.refreshFamily,
    {
      familyKey: 'family#fb5afb8064034c11b66ff9fe3a019e45c54a11075e16df7440784bf232e1c4a3',
      upstreamRefreshToken: 'upstream-refresh-2',
      clientDigest: clientDigest(CIMD_ID),
      clientKind: 'cimd',
      scopes: ['mcp/tools'],
      issuer: ISSUER,
      resource: RESOURCE,
    },
  ],
  [
    'remembered approvals',
    SEALED_BEFORE.rememberedApprovals,
    RECORDS.rememberedApprovals,
    {
      browserDigest: sha256(consentTicket.browserId),
      grants: { 'n-Wo0ySjjo_0mr_0Tav6S0': 1796731200 },
    },
  ],
  [
    "the approval page's sign-in",
    approvalSignIn,
    RECORDS.approvalSignIn,
    {
      browserDigest: sha256(approvalSignIn.browserId),
      upstreamVerifier: 'zQXT_d2ubgFX_QqkNtztWzQkDI-61W_SCok6DNaVT1E',
      ticket: approvalSignIn.ticket,
    },
  ],
  [
    'an approver',
    SEALED_BEFORE.approver,
    RECORDS.approver,
    {
      browserDigest: sha256(approvalSignIn.browserId),
      subject: 'alice-sub',
      groups: ['admin', 'ops'],
      authTime: 1796126400,
    },
  ],
  [
    "an approval form's token",
    SEALED_BEFORE.approvalForm,
    RECORDS.approvalForm,
    {
      browserDigest: sha256(approvalSignIn.browserId),
      approvalId: 'A'.repeat(22),
      nonce: 'ADPcxbKL_mNNhj6JSPwMDg',
    },
  ],
];

describe('values sealed before the readable names', () => {
  it.each(CASES)('open to the readable record: %s', async (_, before, kind, record) => {
    // Act
    const { value, expiresAt } = await openRecord(sealer, kind, before.sealed, NOW);

    // Assess
    expect(value).toEqual(record);
    expect(expiresAt).toBe((JSON.parse(before.wire) as { e: number }).e);
  });

  it.each(CASES)('seal back to the same wire JSON: %s', async (_, before, kind, record) => {
    // Prepare
    const { e } = JSON.parse(before.wire) as { e: number };

    // Act
    const sealed = await sealRecord(sealer, kind, record, e);

    // Assess
    expect(await sealer.open(kind.purpose, sealed)).toBe(before.wire);
  });

  it.each([
    ['named', SEALED_BEFORE.registration],
    ['unnamed', SEALED_BEFORE.registrationUnnamed],
  ])('registrations (%s) map both ways to the same JSON', async (_, before) => {
    // Act
    const plaintext = await sealer.open(SEAL_PURPOSES.dcrClient, before.sealed);
    const record = REGISTRATION_WIRE.decode(JSON.parse(plaintext));

    // Assess
    expect(plaintext).toBe(before.wire);
    expect(JSON.stringify(REGISTRATION_WIRE.encode(record as never))).toBe(before.wire);
  });

  it.each([
    ['named', SEALED_BEFORE.registration],
    ['unnamed', SEALED_BEFORE.registrationUnnamed],
  ])(
    'registration mints a client id (%s) that opens to the same metadata and JSON',
    async (_, before) => {
      // Prepare
      const metadata = await openDcrClientId(sealer, before.clientId);
      if (metadata === undefined) throw new Error('the id registered before did not open');

      // Act
      const minted = await mintDcrClientId(sealer, metadata);

      // Assess
      expect(minted.startsWith(DCR_CLIENT_ID_PREFIX)).toBe(true);
      expect(
        await sealer.open(SEAL_PURPOSES.dcrClient, minted.slice(DCR_CLIENT_ID_PREFIX.length)),
      ).toBe(before.wire);
      expect(await openDcrClientId(sealer, minted)).toEqual(metadata);
    },
  );

  it('a registration opens to its readable metadata', () => {
    // Act
    const record = REGISTRATION_WIRE.decode(JSON.parse(SEALED_BEFORE.registration.wire));

    // Assess
    expect(record).toEqual({
      redirectUris: ['http://localhost:51234/callback', 'https://app.example.net/cb'],
      clientName: 'Registered <App>',
      scope: 'mcp/tools mcp/read_data',
      grantTypes: ['authorization_code', 'refresh_token'],
      issuedAt: 1796126400,
    });
  });
});

describe('a wrong shape never opens', () => {
  const request = JSON.parse(consentTicket.wire).d.q as Record<string, unknown>;
  const transaction = JSON.parse(SEALED_BEFORE.transaction.wire).d as Record<string, unknown>;
  const code = JSON.parse(SEALED_BEFORE.codeRecord.wire).d as Record<string, unknown>;
  const family = JSON.parse(SEALED_BEFORE.refreshFamily.wire).d as Record<string, unknown>;

  it.each<[string, RecordKind<unknown>, unknown]>([
    ['a ticket without its request', RECORDS.consentTicket, { b: 'b', n: 'n' }],
    [
      'a ticket whose request names an unknown client kind',
      RECORDS.consentTicket,
      { b: 'b', n: 'n', q: { ...request, k: 'unknown' } },
    ],
    [
      'a ticket whose state is null',
      RECORDS.consentTicket,
      { b: 'b', n: 'n', q: { ...request, s: null } },
    ],
    [
      'a ticket whose scopes are a string',
      RECORDS.consentTicket,
      { b: 'b', n: 'n', q: { ...request, sc: 'mcp/tools' } },
    ],
    ['a transaction without its verifier', RECORDS.transaction, { ...transaction, v: undefined }],
    ['a transaction whose host is a number', RECORDS.transaction, { ...transaction, h: 1 }],
    ['a code record without its resource', RECORDS.code, { ...code, res: undefined }],
    ['a family whose auth time is text', RECORDS.refreshFamily, { ...family, at: '1796126400' }],
    ['a family whose subject is a number', RECORDS.refreshFamily, { ...family, sub: 7 }],
    [
      'remembered grants that are not numbers',
      RECORDS.rememberedApprovals,
      { b: 'b', g: { x: '1' } },
    ],
    ['an approver without groups', RECORDS.approver, { b: 'b', sub: 's', at: 1 }],
    ['a sign-in without its ticket', RECORDS.approvalSignIn, { b: 'b', v: 'v' }],
    ['a form token without its nonce', RECORDS.approvalForm, { b: 'b', approvalId: 'a' }],
    ['an array', RECORDS.approvalForm, ['b', 'a', 'n']],
    ['null', RECORDS.code, null],
  ])('%s', async (_, kind, wire) => {
    // Prepare
    const sealed = await sealJson(sealer, kind.purpose, wire, NOW + 60);

    // Act
    const opening = openRecord(sealer, kind, sealed, NOW);

    // Assess
    await expect(opening).rejects.toEqual(new OpenSealedError('invalid'));
  });

  it.each<[string, unknown]>([
    ['no redirect URI', { r: [], s: 'mcp/tools', g: [], i: 1 }],
    ['a name that is a number', { r: ['https://a.example/cb'], n: 1, s: 'mcp/tools', g: [], i: 1 }],
    ['no issue time', { r: ['https://a.example/cb'], s: 'mcp/tools', g: [] }],
  ])('a registration with %s', (_, wire) => {
    // Act & Assess
    expect(REGISTRATION_WIRE.decode(wire)).toBeUndefined();
  });

  it('a record sealed for one kind does not open as another', async () => {
    // Act
    const opening = openRecord(sealer, RECORDS.transaction, consentTicket.sealed, NOW);

    // Assess
    await expect(opening).rejects.toEqual(new OpenSealedError('invalid'));
  });
});
