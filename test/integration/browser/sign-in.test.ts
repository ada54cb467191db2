/**
 * A person signs in from a real browser: the example agent (the MCP SDK's OAuth client) starts
 * from nothing but the MCP URL, headless Chromium opens the URL it prints (the OAuth proxy's
 * consent page, on the API's origin under the stage), a person's clicks approve and fill in
 * the sign-in form (the proxy's upstream: the Cognito stand-in's hosted login, on an origin of
 * its own as Cognito's domain is in AWS), and the browser, not `fetch`, follows the answers
 * back to the agent's callback. The stack is the synthesized one in the local emulator. What
 * the browser enforces (cookies, CSP on the forms and their redirects, the `pattern` check,
 * `Host` names, Origin on form posts) is what is tested here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../../examples/agent';
import { LOCAL_CLIENT_ID } from '../../../tools/local/identity';
import { useLocalGateway } from '../../support/local-gateway-fixture';
import { launchBrowser, Steps } from './browser';

/** A host name an attacker's DNS points at 127.0.0.1 (DNS rebinding). */
const REBOUND_HOST = 'rebind.test';
/** A host off this machine, where a stolen code would go; the browser resolves it to a trap. */
const ATTACKER_HOST = 'attacker.test';

const local = useLocalGateway('mcp-browser-');
let browser: Browser;
/** The API's origin: the OAuth proxy's consent page is served there, under the stage. */
const apiOrigin = () => new URL(local.gateway.url).origin;
/** The Cognito stand-in's origin: the hosted sign-in page, as Cognito's domain is in AWS. */
const cognitoOrigin = () => local.gateway.emulator.cognitoOrigin;

/** A server that records every request: nothing the browser does may reach it. */
let trap: Server;
const trapped: string[] = [];
let trapPort = 0;

beforeAll(async () => {
  trap = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://trap');
    if (url.pathname === '/csrf') {
      // Another site's page carrying a sign-in form aimed at the local server.
      const action = (url.searchParams.get('action') ?? '').replace(/"/g, '');
      const ticket = (url.searchParams.get('ticket') ?? '').replace(/"/g, '');
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          `<form method="post" action="${action}"><input name="request" value="guess"><input name="sub" value="mallory"><input name="ticket" value="${ticket}"><input name="decision" value="approve"><button>go</button></form>`,
        );
      return;
    }
    trapped.push(`${req.method} ${req.headers.host}${req.url}`);
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('trapped');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapPort = (trap.address() as AddressInfo).port;
  browser = await launchBrowser({
    hostResolverRules: `MAP ${REBOUND_HOST} 127.0.0.1, MAP ${ATTACKER_HOST} 127.0.0.1`,
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => trap?.close(resolve));
});

/** A new tab whose browser-side refusals (CSP, CORS) are collected. */
async function newPage(): Promise<{ page: Page; console: string[] }> {
  const page = await browser.newPage();
  const messages: string[] = [];
  page.on('console', (message) => messages.push(message.text()));
  return { page, console: messages };
}

/**
 * Until the tab shows a URL that passes `done`: pages that go on by themselves (a meta refresh,
 * then redirects) are navigations no single `waitForNavigation` covers.
 */
async function waitForUrl(page: Page, done: (url: URL) => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done(new URL(page.url()))) {
    if (Date.now() > deadline) throw new Error(`The tab stayed at ${page.url()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What a person does on the consent page: read it, press Approve. */
async function approve(page: Page, steps: Steps) {
  await page.waitForSelector('button[value="approve"]', { timeout: 10_000 });
  await steps.shot(page, 'consent page');
  await Promise.all([
    page.waitForNavigation({ timeout: 10_000 }),
    page.click('button[value="approve"]'),
  ]);
  await page.waitForSelector('input[name="sub"]', { timeout: 10_000 });
  await steps.shot(page, 'sign-in page');
}

/** What a person does on the sign-in page: a user name, groups, "Sign in". */
async function signIn(page: Page, steps: Steps, sub: string, groups: readonly string[]) {
  await page.$eval('input[name="sub"]', (input) => {
    (input as HTMLInputElement).value = '';
  });
  await page.type('input[name="sub"]', sub);
  for (const group of groups) await page.click(`input[name="groups"][value="${group}"]`);
  await steps.shot(page, 'filled in');
  // The answer is a page that goes on by itself (to the proxy's callback, then the client's).
  await page.click('button[type="submit"]');
  await waitForUrl(page, (url) => url.origin !== cognitoOrigin() && url.origin !== apiOrigin());
  await steps.shot(page, 'after sign-in');
}

/**
 * The agent connects by OAuth; "opening the browser" is opening the sign-in URL in a real tab
 * and signing in there. Returns the tools the agent then lists, and where the tab ended up.
 */
async function agentSignsIn(sub: string, groups: readonly string[]) {
  const steps = new Steps();
  const { page } = await newPage();
  let browserSide: Promise<void> | undefined;
  let failed: ((error: unknown) => void) | undefined;
  const browserFailed = new Promise<never>((_, reject) => {
    failed = reject;
  });
  const client = await Promise.race([
    connect(local.gateway.mcpUrl, {
      callbackPort: 0,
      openBrowser: (url) => {
        browserSide = (async () => {
          const response = await page.goto(url.href);
          expect(response?.status()).toBe(200);
          await approve(page, steps);
          await signIn(page, steps, sub, groups);
        })();
        // A step that fails in the browser fails the test now, not at the agent's timeout.
        browserSide.catch(failed);
      },
    }),
    browserFailed,
  ]);
  try {
    // The agent has its code once the callback is hit; the tab is done once it shows the page.
    await browserSide;
    const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
    return {
      tools,
      landedOn: new URL(page.url()),
      text: await page.$eval('body', (b) => b.textContent),
    };
  } finally {
    await client.close();
    await page.close();
  }
}

describe('a person signs in from a real browser', () => {
  it.each([
    ['analyst', ['analyst'], ['get_record', 'query_customer_data', 'run_report']],
    [
      'admin',
      ['admin'],
      ['delete_record', 'get_record', 'put_record', 'query_customer_data', 'run_report'],
    ],
    ['readonly', ['readonly'], ['get_record', 'query_customer_data']],
    ['no group', [], []],
  ])('as %s, by clicking, and the agent lists exactly those tools', async (_, groups, expected) => {
    // Act
    const { tools, landedOn, text } = await agentSignsIn('alice', groups);

    // Assess: the browser followed the answer to the agent's own loopback callback.
    expect(tools).toEqual(expected);
    expect(landedOn.host).toMatch(/^localhost:\d+$/);
    expect(landedOn.pathname).toBe('/callback');
    expect(text).toContain('Signed in');
  });

  it('has the browser check the user name: the pattern is one Chromium compiles', async () => {
    // Prepare: a sign-in page, opened as a person would
    const steps = new Steps();
    const { page } = await newPage();
    await page.goto(authorizationUrl('http://localhost:1/callback').href);
    await approve(page, steps);

    // Act
    await page.type('input[name="sub"]', ' has spaces!');
    const validity = await page.$eval('input[name="sub"]', (input) => ({
      patternMismatch: (input as HTMLInputElement).validity.patternMismatch,
      formValid: (input as HTMLInputElement).form?.checkValidity(),
    }));
    await steps.shot(page, 'invalid user name');
    await page.close();

    // Assess: a dropped pattern would leave patternMismatch false
    expect(validity).toEqual({ patternMismatch: true, formValid: false });
  });

  it('signs in to an IPv6 loopback callback, which CSP cannot name, through a page of its own', async () => {
    // Prepare: a client listening on [::1]
    const steps = new Steps();
    const hits: string[] = [];
    const client = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('Signed in (IPv6 client)');
    });
    await new Promise<void>((resolve) => client.listen(0, '::1', resolve));
    const callback = `http://[::1]:${(client.address() as AddressInfo).port}/cb`;
    const clientId = await register(callback);
    const { page } = await newPage();
    try {
      await page.goto(authorizationUrl(callback, undefined, clientId).href);
      await approve(page, steps);

      // Act
      await page.click('button[type="submit"]');
      await page.waitForFunction(() => location.hostname === '[::1]', { timeout: 10_000 });
      await steps.shot(page, 'callback');

      // Assess
      expect(hits).toHaveLength(1);
      expect(new URL(hits[0] as string, callback).searchParams.get('code')).toMatch(/^[\w-]{43}$/);
    } finally {
      await page.close();
      await new Promise((resolve) => client.close(resolve));
    }
  });
});

/**
 * An authorization request to the OAuth proxy, as a client would build it: the pre-registered
 * client (its `http://localhost:8765/callback` on any port) unless another client is named.
 */
function authorizationUrl(redirectUri: string, host?: string, clientId = LOCAL_CLIENT_ID): URL {
  const url = new URL(`${local.gateway.url}/authorize`);
  if (host !== undefined) url.host = host;
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    resource: local.gateway.mcpUrl,
    state: 'browser-test',
  }).toString();
  return url;
}

/** A client registered for `redirectUri` (RFC 7591): its client id. */
async function register(redirectUri: string): Promise<string> {
  const response = await fetch(`${local.gateway.url}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [redirectUri], client_name: 'browser test' }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { client_id: string }).client_id;
}

describe('what the browser must refuse', () => {
  it('refuses the consent page, discovery and /mcp under a foreign Host name (DNS rebinding)', async () => {
    // Prepare: the attacker's name, pointed at this machine by its DNS
    const steps = new Steps();
    const { page } = await newPage();
    const rebound = (url: string) => {
      const moved = new URL(url);
      moved.hostname = REBOUND_HOST;
      return moved.href;
    };

    // Act
    const consentPage = await page.goto(
      rebound(authorizationUrl('http://localhost:1/callback').href),
    );
    await steps.shot(page, 'consent page under the rebound name');
    const consentText = await page.$eval('body', (b) => b.textContent);
    const discovery = await page.goto(
      rebound(`${local.gateway.url}/.well-known/oauth-protected-resource`),
    );
    // The attacker's own page, same-origin with the rebound name, calling /mcp.
    const mcp = await page.evaluate(async (path) => {
      const response = await fetch(path, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      return { status: response.status, body: await response.json() };
    }, new URL(local.gateway.mcpUrl).pathname);
    await page.close();

    // Assess: API Gateway serves no API by that name; nothing reaches a function.
    expect(consentPage?.status()).toBe(403);
    expect(JSON.parse(consentText ?? '')).toEqual({ message: 'Forbidden' });
    expect(discovery?.status()).toBe(403);
    expect(mcp).toEqual({ status: 403, body: { message: 'Forbidden' } });
  });

  it('never sends the browser to a callback off this machine', async () => {
    // Prepare
    const steps = new Steps();
    const { page } = await newPage();
    trapped.length = 0;

    // Act
    const response = await page.goto(
      authorizationUrl(`http://${ATTACKER_HOST}:${trapPort}/callback`).href,
    );
    await steps.shot(page, 'refused callback');
    const text = await page.$eval('body', (b) => b.textContent);
    const landedOn = page.url();
    await page.close();

    // Assess
    expect(response?.status()).toBe(400);
    expect(text).toMatch(
      /^Sign-in refused.*\(invalid_request\): redirect_uri is not one this client registered/,
    );
    expect(new URL(landedOn).origin).toBe(apiOrigin());
    expect(trapped).toEqual([]);
  });

  it.each([
    ['the consent form', false, () => `${local.gateway.url}/authorize`],
    ['the sign-in form', true, () => `${cognitoOrigin()}/oauth2/authorize`],
  ])('lets %s go only where it must (CSP form-action)', async (_, pastConsent, formUrl) => {
    // Prepare: a valid page whose form is pointed elsewhere, as injected markup would
    const steps = new Steps();
    const { page, console } = await newPage();
    trapped.length = 0;
    await page.goto(authorizationUrl('http://localhost:1/callback').href);
    if (pastConsent) await approve(page, steps);
    await page.$eval(
      'form',
      (form, target) => {
        (form as HTMLFormElement).action = target;
      },
      `http://localhost:${trapPort}/steal`,
    );

    // Act
    await page.click('button[type="submit"]');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await steps.shot(page, 'after the tampered submit');
    const stayedOn = page.url();
    await page.close();

    // Assess
    expect(trapped).toEqual([]);
    const { origin, pathname } = new URL(stayedOn);
    expect(`${origin}${pathname}`).toBe(formUrl());
    expect(console.join('\n')).toMatch(
      /violates the following Content Security Policy directive: "form-action/,
    );
  });

  it('keeps a person’s open sign-in working however many page loads another site sends', async () => {
    // Prepare: a person's sign-in page, and another site's page in a second tab
    const steps = new Steps();
    const { page: person } = await newPage();
    await person.goto(authorizationUrl(`http://localhost:${trapPort}/callback`).href);
    await approve(person, steps);
    const signInUrl = person.url();
    const { page: attacker } = await newPage();
    await attacker.goto(`http://localhost:${trapPort}/`);
    trapped.length = 0;

    // Act: the other site has the browser load the sign-in URL 1,500 times (more than anything
    // is kept for), then the person signs in
    await attacker.evaluate(async (url) => {
      for (let i = 0; i < 1500; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, () => fetch(url, { mode: 'no-cors' }).catch(() => undefined)),
        );
      }
    }, signInUrl);
    await person.click('button[type="submit"]');
    await person.waitForFunction(
      (port) => location.port === port,
      { timeout: 10_000 },
      String(trapPort),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await steps.shot(person, 'signed in after the flood');
    await Promise.all([person.close(), attacker.close()]);

    // Assess: the person's browser arrived at its callback with a code
    expect(trapped).toEqual([
      expect.stringMatching(/^GET localhost:\d+\/callback\?code=[\w-]{43}&state=browser-test&iss=/),
    ]);
  });

  it('refuses the consent form when another origin posts it (consent CSRF), with a real ticket', async () => {
    // Prepare: the attacker's own valid ticket, on a page of their origin
    const steps = new Steps();
    const page = await fetch(authorizationUrl('http://localhost:1/callback'));
    const ticket = /name="ticket" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const { page: tab } = await newPage();
    await tab.goto(
      `http://localhost:${trapPort}/csrf?action=${encodeURIComponent(`${local.gateway.url}/authorize`)}&ticket=${encodeURIComponent(ticket)}`,
    );

    // Act
    const [response] = await Promise.all([
      tab.waitForNavigation({ timeout: 10_000 }),
      tab.click('button'),
    ]);
    await steps.shot(tab, 'cross-origin consent post');
    const text = await tab.$eval('body', (b) => b.textContent);
    await tab.close();

    // Assess: refused for its Origin, before the ticket was even looked at
    expect(ticket).not.toBe('');
    expect(response?.status()).toBe(403);
    expect(text).toContain('accepted only from this server’s own page');
  });

  it('refuses the sign-in form when another origin posts it (login CSRF)', async () => {
    // Prepare: a page on another origin with a copy of the form, pointed at this server
    const steps = new Steps();
    const { page } = await newPage();
    await page.goto(
      `http://localhost:${trapPort}/csrf?action=${encodeURIComponent(`${cognitoOrigin()}/oauth2/authorize`)}`,
    );

    // Act
    const [response] = await Promise.all([
      page.waitForNavigation({ timeout: 10_000 }),
      page.click('button'),
    ]);
    await steps.shot(page, 'cross-origin form post');
    const text = await page.$eval('body', (b) => b.textContent);
    await page.close();

    // Assess: the browser said where the form came from, and the server refused it
    expect(response?.status()).toBe(403);
    expect(text).toMatch(/^Forbidden: the sign-in form is accepted only from this server/);
  });
});
