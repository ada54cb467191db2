/**
 * The registration Lambda's handler over API Gateway proxy events: the HTTP answers (405, a
 * non-JSON or oversized body, bad JSON, refused, registered), their headers, the client id
 * minted from the validated metadata (sealed: nothing stored), and exactly one audit record per
 * request that holds counts and a digest, never the metadata sent.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AesSealer } from '../../../lambda/oauth-proxy/aes-sealer';
import { MAX_DCR_METADATA_BYTES, openDcrClientId } from '../../../lambda/oauth-proxy/clients';
import {
  createRegistrationHandler,
  isJsonContentType,
  RESPONSE_HEADERS,
} from '../../../lambda/registration/handler';
import { dcrClientIdMinter } from '../../../lambda/registration/mint';
import { AUDIT_EVENTS, AUDIT_FIELDS, REGISTRATION_OUTCOME } from '../../../lambda/shared/audit';
import type { RegistrationPolicy } from '../../../lambda/shared/client-registration';
import { createLogger } from '../../../lambda/shared/logger';
import { proxyEvent, type Values } from '../../support/apigw-events';
import { type CapturedLogs, captureLogs } from '../../support/capture-logs';

const CALLBACKS = ['http://localhost:8080/callback', 'https://claude.ai/api/mcp/auth_callback'];
const REQUEST_ID = 'c0ffee00-1234-4abc-8def-000000000099';
const SOURCE_IP = '198.51.100.23';
/** Text that must never reach the log: it stands for anything a caller writes. */
const MARKER = 'ZZcallerTextZZ';

const policy: RegistrationPolicy = {
  allowRedirectUri: (uri) => CALLBACKS.includes(uri),
  supportedScopes: ['mcp/tools', 'openid'],
  defaultScopes: ['mcp/tools'],
  grantTypes: ['authorization_code', 'refresh_token'],
  now: () => Date.UTC(2026, 0, 1),
};

/** What a test changes of the registration request; the rest is a valid JSON registration. */
interface RegistrationRequest {
  readonly method?: string;
  readonly headers?: Values;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

function event(request: RegistrationRequest = {}): APIGatewayProxyEvent {
  return proxyEvent({
    method: request.method ?? 'POST',
    path: '/register',
    headers: request.headers ?? { 'Content-Type': 'application/json' },
    body:
      request.body ??
      JSON.stringify({ redirect_uris: [CALLBACKS[1]], client_name: `Claude ${MARKER}` }),
    isBase64Encoded: request.isBase64Encoded ?? false,
    requestId: REQUEST_ID,
    sourceIp: SOURCE_IP,
  });
}

const jsonBody = (body: unknown) => ({ body: JSON.stringify(body) });

let logs: CapturedLogs;
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => logs.restore());

const sealer = new AesSealer();
const mintClientId = dcrClientIdMinter(sealer);

const handler = createRegistrationHandler({
  policy,
  mintClientId,
  logger: createLogger('mcp-client-registration'),
  maxBodyBytes: 1024,
});

/** The audit records written so far. */
const audits = () =>
  logs.records().filter((r) => r[AUDIT_FIELDS.event] === AUDIT_EVENTS.clientRegistration);

describe('registration handler', () => {
  it('answers 201 with a client whose id is the validated metadata, sealed', async () => {
    // Act
    const response = await handler(event());

    // Assess
    expect(response.statusCode).toBe(201);
    const client = JSON.parse(response.body);
    expect(await openDcrClientId(sealer, client.client_id)).toEqual({
      redirectUris: [CALLBACKS[1]],
      clientName: `Claude ${MARKER}`,
      scope: 'mcp/tools',
      grantTypes: ['authorization_code', 'refresh_token'],
      issuedAt: Date.UTC(2026, 0, 1) / 1000,
    });
    expect(client.client_id).not.toContain(MARKER);
    expect(JSON.parse(response.body)).toMatchObject({
      redirect_uris: [CALLBACKS[1]],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'mcp/tools',
    });
    expect(JSON.parse(response.body)).not.toHaveProperty('client_secret');
  });

  it('mints a different id for each registration: nothing to look up, nothing stored', async () => {
    // Act
    const first = JSON.parse((await handler(event())).body).client_id;
    const second = JSON.parse((await handler(event())).body).client_id;

    // Assess
    expect(first).toMatch(/^dcr_[\w-]+$/);
    expect(second).not.toBe(first);
  });

  it('refuses metadata too large to carry in a client id with invalid_client_metadata', async () => {
    // Prepare: ten redirect URIs each within bounds, together over the sealed limit
    const uris = Array.from(
      { length: 10 },
      (_, i) => `https://claude.ai/${'x'.repeat(MAX_DCR_METADATA_BYTES / 10)}/${i}`,
    );
    const big = createRegistrationHandler({
      policy: { ...policy, allowRedirectUri: () => true },
      mintClientId,
      logger: createLogger('mcp-client-registration'),
      maxBodyBytes: 64 * 1024,
    });

    // Act
    const response = await big(event(jsonBody({ redirect_uris: uris })));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'invalid_client_metadata' });
    expect(audits().at(-1)).toMatchObject({ [AUDIT_FIELDS.field]: 'body' });
  });

  it('refuses a redirect URI that is not exactly an allowed callback with 400 invalid_redirect_uri', async () => {
    // Act
    const response = await handler(
      event(jsonBody({ redirect_uris: ['https://claude.ai/api/mcp/auth_callback/'] })),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: 'invalid_redirect_uri',
      error_description: expect.any(String),
    });
  });

  it('refuses bad metadata with 400 invalid_client_metadata', async () => {
    // Act
    const response = await handler(
      event(
        jsonBody({ redirect_uris: [CALLBACKS[0]], token_endpoint_auth_method: 'private_key_jwt' }),
      ),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'invalid_client_metadata' });
  });

  it.each(['GET', 'PUT', 'DELETE'])('answers %s with 405 and Allow: POST', async (httpMethod) => {
    // Act
    const response = await handler(event({ method: httpMethod }));

    // Assess
    expect(response.statusCode).toBe(405);
    expect(response.headers?.Allow).toBe('POST');
  });

  it.each([
    ['a form', { 'Content-Type': 'application/x-www-form-urlencoded' }],
    ['plain text', { 'content-type': 'text/plain' }],
    ['no content type', {}],
    ['a JSON lookalike', { 'Content-Type': 'application/jsonp' }],
  ])(
    'answers %s with 400 invalid_client_metadata (RFC 7591 §3.2.2, not 415)',
    async (_, headers) => {
      // Act
      const response = await handler(event({ headers }));

      // Assess
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body)).toMatchObject({ error: 'invalid_client_metadata' });
    },
  );

  it('accepts application/json with a charset, in any case', async () => {
    // Act
    const response = await handler(
      event({ headers: { 'CONTENT-TYPE': 'Application/JSON; charset=utf-8' } }),
    );

    // Assess
    expect(response.statusCode).toBe(201);
  });

  it('answers a body over the limit with 400 (RFC 7591 §3.2.2, not 413) before parsing it', async () => {
    // Act
    const response = await handler(event({ body: `{"x":"${'a'.repeat(1100)}"}` }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({
      error: 'invalid_client_metadata',
      error_description: expect.stringMatching(/exceeds/),
    });
  });

  it('counts the decoded bytes of a base64 body', async () => {
    // Act
    const body = Buffer.from(JSON.stringify({ redirect_uris: [CALLBACKS[0]] })).toString('base64');
    const response = await handler(event({ body, isBase64Encoded: true }));

    // Assess
    expect(response.statusCode).toBe(201);
  });

  it.each([
    ['broken JSON', '{"redirect_uris": ['],
    ['an empty body', ''],
  ])('answers %s with 400 invalid_client_metadata', async (_, body) => {
    // Act
    const response = await handler(event({ body }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'invalid_client_metadata' });
  });

  it.each([
    ['registered', event()],
    ['refused', event(jsonBody({ redirect_uris: ['https://attacker.example/cb'] }))],
    ['405', event({ method: 'GET' })],
    ['not JSON', event({ headers: {} })],
    ['too large', event({ body: 'x'.repeat(2000) })],
    ['bad JSON', event({ body: '{' })],
  ])('sends JSON that no cache may keep, and any origin may read, when %s', async (_, request) => {
    // Act
    const response = await handler(request);

    // Assess
    expect(response.headers).toMatchObject({
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
      'Access-Control-Allow-Origin': '*',
    });
    expect(() => JSON.parse(response.body)).not.toThrow();
  });
});

describe('registration audit', () => {
  it('writes one INFO record for a registration, with counts and a digest', async () => {
    // Act
    await handler(event());

    // Assess
    expect(audits()).toEqual([
      expect.objectContaining({
        level: 'INFO',
        [AUDIT_FIELDS.outcome]: REGISTRATION_OUTCOME.registered,
        [AUDIT_FIELDS.httpStatus]: 201,
        [AUDIT_FIELDS.redirectUriCount]: 1,
        [AUDIT_FIELDS.clientNameLength]: `Claude ${MARKER}`.length,
        [AUDIT_FIELDS.metadataDigest]: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        [AUDIT_FIELDS.bodyBytes]: expect.any(Number),
        [AUDIT_FIELDS.requestId]: REQUEST_ID,
        [AUDIT_FIELDS.sourceIp]: SOURCE_IP,
      }),
    ]);
  });

  it('writes one WARN record for a refusal, with the error code and the field at fault', async () => {
    // Act
    await handler(
      event(jsonBody({ redirect_uris: [CALLBACKS[0]], logo_uri: `http://${MARKER}.example` })),
    );

    // Assess
    expect(audits()).toEqual([
      expect.objectContaining({
        level: 'WARN',
        [AUDIT_FIELDS.outcome]: REGISTRATION_OUTCOME.refused,
        [AUDIT_FIELDS.httpStatus]: 400,
        [AUDIT_FIELDS.oauthError]: 'invalid_client_metadata',
        [AUDIT_FIELDS.field]: 'logo_uri',
        [AUDIT_FIELDS.redirectUriCount]: 1,
      }),
    ]);
  });

  it.each([
    ['405', event({ method: 'GET' }), 405],
    ['not JSON', event({ headers: {} }), 400],
    ['too large', event({ body: `"${MARKER}${'x'.repeat(2000)}"` }), 400],
    ['bad JSON', event({ body: `{"${MARKER}` }), 400],
  ])('writes one WARN record for a %s refusal too', async (_, request, status) => {
    // Act
    await handler(request);

    // Assess
    expect(audits()).toEqual([
      expect.objectContaining({
        level: 'WARN',
        [AUDIT_FIELDS.outcome]: REGISTRATION_OUTCOME.refused,
        [AUDIT_FIELDS.httpStatus]: status,
        [AUDIT_FIELDS.sourceIp]: SOURCE_IP,
      }),
    ]);
  });

  it('never writes the metadata a caller sent, refused or not', async () => {
    // Prepare
    const hostile = {
      redirect_uris: [`https://${MARKER}.example/cb`],
      client_name: `${MARKER}\n{"level":"INFO"}`,
      contacts: [`${MARKER}@example.com`],
      software_statement: MARKER,
    };

    // Act
    await handler(event(jsonBody(hostile)));
    await handler(event(jsonBody({ ...hostile, redirect_uris: [CALLBACKS[0]] })));
    await handler(event({ body: `{"${MARKER}` }));

    // Assess
    expect(audits()).toHaveLength(3);
    expect(logs.lines.join('\n')).not.toContain(MARKER);
  });

  it('gives identical requests the same digest and different ones different digests', async () => {
    // Act
    await handler(event());
    await handler(event());
    await handler(event(jsonBody({ redirect_uris: [CALLBACKS[0]] })));

    // Assess
    const digests = audits().map((r) => r[AUDIT_FIELDS.metadataDigest]);
    expect(digests[0]).toBe(digests[1]);
    expect(digests[2]).not.toBe(digests[0]);
  });

  it('fails closed with 500 and an ERROR record when the policy throws', async () => {
    // Prepare
    const broken = createRegistrationHandler({
      policy: {
        ...policy,
        allowRedirectUri: () => {
          throw new TypeError('boom');
        },
      },
      mintClientId,
      logger: createLogger('mcp-client-registration'),
    });

    // Act
    const response = await broken(event());

    // Assess
    expect(response.statusCode).toBe(500);
    expect(response.headers).toMatchObject(RESPONSE_HEADERS);
    expect(audits()).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        [AUDIT_FIELDS.outcome]: REGISTRATION_OUTCOME.error,
        [AUDIT_FIELDS.httpStatus]: 500,
      }),
    ]);
  });
});

describe('the audit record of a registration', () => {
  it('names its step and client kind, as the other authorization steps do', async () => {
    // Act
    await handler(event());

    // Assess
    expect(audits()).toEqual([
      expect.objectContaining({
        [AUDIT_FIELDS.step]: 'register',
        [AUDIT_FIELDS.clientKind]: 'dcr',
      }),
    ]);
  });

  it('fails closed with 500 when sealing fails (KMS unavailable)', async () => {
    // Prepare
    const down = createRegistrationHandler({
      policy,
      mintClientId: async () => {
        throw new Error('KMS unavailable');
      },
      logger: createLogger('mcp-client-registration'),
    });

    // Act
    const response = await down(event());

    // Assess
    expect(response.statusCode).toBe(500);
    expect(audits().at(-1)).toMatchObject({ [AUDIT_FIELDS.outcome]: REGISTRATION_OUTCOME.error });
  });
});

describe('isJsonContentType', () => {
  it.each([
    ['application/json', true],
    ['application/json;charset=UTF-8', true],
    [' APPLICATION/JSON ', true],
    ['application/json-patch+json', false],
    ['text/json', false],
    [undefined, false],
  ])('%s -> %s', (value, expected) => {
    expect(isJsonContentType(value)).toBe(expected);
  });
});
