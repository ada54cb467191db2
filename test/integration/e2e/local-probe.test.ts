/**
 * Local mode cannot be made to probe this machine's other ports: a web page can send any
 * developer's browser to `/authorize` with a client id of its choosing, and a client id may be
 * the URL of a metadata document (CIMD) that the OAuth proxy fetches. The proxy that runs here
 * is the deployed bundle, whose SSRF guard refuses loopback and private addresses as it does in
 * AWS: the local server never connects to them, whatever the port or scheme.
 */
import { describe, expect, it } from 'vitest';
import { LOCAL_SCOPE } from '../../../tools/local/identity';
import { useLocalGateway } from '../../support/local-gateway-fixture';
import {
  type DocumentServer,
  json,
  startDocumentServer,
} from '../../unit/oauth-proxy/cimd-fixtures';

const local = useLocalGateway('mcp-local-probe-');

describe('a CIMD client id naming another port of this machine', () => {
  it.each([
    ['http', (server: DocumentServer) => `http://127.0.0.1:${server.port}/client.json`],
    ['https', (server: DocumentServer) => `https://127.0.0.1:${server.port}/client.json`],
    ['http, localhost', (server: DocumentServer) => `http://localhost:${server.port}/client.json`],
  ])('is refused without a connection to it (%s)', async (_, clientIdOf) => {
    // Prepare: a server on another loopback port that would answer a valid document
    const server = await startDocumentServer(() => undefined);
    try {
      const clientId = clientIdOf(server);
      server.handle(
        json({
          client_id: clientId,
          client_name: 'probe',
          redirect_uris: ['http://127.0.0.1/callback'],
          token_endpoint_auth_method: 'none',
        }),
      );
      const url = new URL(`${local.gateway.url}/authorize`);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: 'http://127.0.0.1:40999/callback',
        code_challenge: 'c'.repeat(43),
        code_challenge_method: 'S256',
        scope: LOCAL_SCOPE,
        resource: local.gateway.mcpUrl,
      }).toString();

      // Act
      const response = await fetch(url, { redirect: 'manual' });

      // Assess: refused on the page, and the other port never heard from us
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(server.connections()).toBe(0);
    } finally {
      await server.close();
    }
  });
});
