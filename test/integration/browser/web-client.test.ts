/**
 * A browser-based client on an origin of its own (as MCP Inspector's web UI is): every request
 * to the server is cross-origin, so the browser sends CORS preflights and reads only what the
 * server's CORS answers let it. The public OAuth endpoints answer any origin; `/mcp` follows
 * the allowed-origins list the deployment was synthesized with (`-c allowedOrigins`, here
 * `http://localhost:<port>`, so `http://127.0.0.1:<port>`, the same page under another name,
 * is a foreign origin). The stack is the synthesized one in the local emulator, on its stage
 * URL: the client carries what discovery found across the sign-in (see `web-client/app.ts`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLocalGateway } from '../../support/local-gateway-fixture';
import { launchBrowser, Steps } from './browser';

let web: Server;
let webPort = 0;
let browser: Browser;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./web-client/app.ts', import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]?.text ?? '';
  web = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://web').pathname;
    if (path === '/app.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
    } else if (path === '/' || path === '/callback') {
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          '<!doctype html><title>web client</title><pre id="status">starting</pre><pre id="tools"></pre><script src="/app.js"></script>',
        );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  webPort = (web.address() as AddressInfo).port;
  browser = await launchBrowser();
});

const local = useLocalGateway('mcp-web-client-', undefined, () => ({
  allowedOrigins: [`http://localhost:${webPort}`],
}));

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => web?.close(resolve));
});

const allowedOrigin = () => `http://localhost:${webPort}`;
/** The same page under another name: an origin nobody listed. */
const foreignOrigin = () => `http://127.0.0.1:${webPort}`;

async function pageAt(origin: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${origin}/nothing`);
  return page;
}

describe('a browser-based client on its own origin', () => {
  it('signs in from nothing but the MCP URL and lists the tools of the chosen groups', async () => {
    // Prepare
    const steps = new Steps();
    const page = await browser.newPage();

    // Act: the client discovers, registers and sends the tab to the consent page; the person
    // approves, then signs in
    await page.goto(`${allowedOrigin()}/?mcp=${encodeURIComponent(local.gateway.mcpUrl)}`);
    await page.waitForSelector('button[value="approve"]', { timeout: 10_000 });
    await steps.shot(page, 'consent page');
    const consent = await page.$eval('body', (b) => b.textContent);
    await Promise.all([
      page.waitForNavigation({ timeout: 10_000 }),
      page.click('button[value="approve"]'),
    ]);
    await page.waitForSelector('input[name="sub"]', { timeout: 10_000 });
    await steps.shot(page, 'sign-in page');
    await page.click('input[name="groups"][value="analyst"]');
    await page.click('button[type="submit"]');
    // Back on the client's page: code exchange, then /mcp with the token
    await page.waitForFunction(
      () => /^(connected|failed)/.test(document.getElementById('status')?.textContent ?? ''),
      { timeout: 10_000 },
    );
    await steps.shot(page, 'client after sign-in');
    const status = await page.$eval('#status', (element) => element.textContent);
    const tools = await page.$eval('#tools', (element) => element.textContent);
    await page.close();

    // Assess: the consent page named the client (as unverified) and where the answer goes
    expect(consent).toContain('calling itself browser test client');
    expect(consent).toContain('has not verified it');
    expect(consent).toContain(`sent to localhost:${webPort}`);
    expect(status).toBe('connected');
    expect(tools).toBe('get_record,query_customer_data,run_report');
  });
});

describe('CORS, as a browser enforces it', () => {
  /** A cross-origin request from a page on `origin`: what the page may read of the answer. */
  async function fromPage(origin: string, url: string, init: RequestInit) {
    const page = await pageAt(origin);
    try {
      return await page.evaluate(
        async (target, options) => {
          try {
            const response = await fetch(target, options);
            return {
              status: response.status,
              body: await response.text(),
              wwwAuthenticate: response.headers.get('www-authenticate'),
            };
          } catch (error) {
            return { blocked: String(error) };
          }
        },
        url,
        init as Record<string, unknown>,
      );
    } finally {
      await page.close();
    }
  }

  // Each of these requests carries a header (or a Content-Type) that is not CORS-safelisted, so
  // the browser must send a preflight and gets to the request only if the preflight allows it.
  const PROTOCOL = { 'MCP-Protocol-Version': '2025-11-25' };

  it.each([
    '/.well-known/oauth-protected-resource/mcp',
    '/.well-known/oauth-protected-resource',
    '/.well-known/oauth-authorization-server',
  ])('lets a page on any origin read %s after a preflight', async (path) => {
    // Act
    const answer = await fromPage(foreignOrigin(), `${local.gateway.url}${path}`, {
      headers: PROTOCOL,
    });

    // Assess
    expect(answer).toMatchObject({ status: 200 });
    expect(JSON.parse((answer as { body: string }).body)).toHaveProperty(
      path.includes('protected') ? 'resource' : 'issuer',
    );
  });

  it('lets a page on any origin register a client (JSON body: a preflight)', async () => {
    // Act
    const answer = await fromPage(foreignOrigin(), `${local.gateway.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...PROTOCOL },
      body: JSON.stringify({ redirect_uris: [`${foreignOrigin()}/callback`] }),
    });

    // Assess
    expect(answer).toMatchObject({ status: 201 });
  });

  it('lets a page on any origin read the token endpoint’s answer, an error included', async () => {
    // Act
    const answer = await fromPage(foreignOrigin(), `${local.gateway.url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...PROTOCOL },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x' }).toString(),
    });

    // Assess
    expect(answer).toMatchObject({ status: 400 });
    expect(JSON.parse((answer as { body: string }).body)).toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('lets an allowed origin call /mcp and read the 401 challenge', async () => {
    // Act
    const answer = await fromPage(allowedOrigin(), local.gateway.mcpUrl, {
      method: 'POST',
      headers: {
        Authorization: 'Bearer not-a-token',
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        ...PROTOCOL,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });

    // Assess
    expect(answer).toMatchObject({
      status: 401,
      wwwAuthenticate: expect.stringContaining('resource_metadata='),
    });
  });

  it('keeps /mcp from an origin nobody listed: the preflight is refused', async () => {
    // Act
    const answer = await fromPage(foreignOrigin(), local.gateway.mcpUrl, {
      method: 'POST',
      headers: { Authorization: 'Bearer not-a-token', 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });

    // Assess
    expect(answer).toEqual({ blocked: expect.stringMatching(/Failed to fetch/) });
  });
});
