/**
 * A real headless Chromium for the browser tests, with nothing that loosens what a browser
 * enforces: CSP, CORS, the same-origin policy and form validation are why these tests exist.
 *
 * The browser comes with `npm ci`: `@sparticuz/chromium` carries a Chromium build inside its
 * npm package (Linux x64 and arm64) and unpacks it to a temporary folder on first use. Set
 * `MCP_TEST_BROWSER` to a Chrome or Chromium binary to use that instead (macOS, or Debian's
 * `/usr/bin/chromium`). Nothing downloads a browser.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { expect, onTestFailed } from 'vitest';

/** Names a local Chrome or Chromium to use instead of the bundled one. */
export const BROWSER_ENV = 'MCP_TEST_BROWSER';
/** Where a failing test's screenshots go (git-ignored). */
export const SCREENSHOT_DIR = join('test-results', 'browser');

export interface LaunchOptions {
  /** Chromium's `--host-resolver-rules`, e.g. `MAP rebind.test 127.0.0.1`: DNS, as an attacker has it. */
  readonly hostResolverRules?: string;
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const local = process.env[BROWSER_ENV];
  let executablePath: string;
  if (local !== undefined && local !== '') {
    executablePath = local;
  } else {
    if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) {
      throw new Error(
        `@sparticuz/chromium ships Chromium for Linux x64 and arm64 only: set ${BROWSER_ENV} to a local Chrome or Chromium binary`,
      );
    }
    executablePath = await chromium.executablePath();
  }
  // Not chromium.args: that list turns off web security (CORS, same-origin), which would let
  // these tests pass for the wrong reason.
  const args = [
    '--no-first-run',
    '--no-default-browser-check',
    // No calls home: this machine's network is closed, and a test must not depend on one.
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-domain-reliability',
    '--disable-sync',
    '--disable-gpu',
    '--disable-dev-shm-usage',
  ];
  // Chromium's sandbox needs user namespaces, which a root process in a container lacks; the
  // bundled build runs without one.
  if (local === undefined || local === '' || process.getuid?.() === 0) args.push('--no-sandbox');
  if (options.hostResolverRules !== undefined) {
    args.push(`--host-resolver-rules=${options.hostResolverRules}`);
  }
  return puppeteer.launch({
    executablePath,
    // The bundled build is Chromium's headless shell; a full Chrome runs its new headless mode.
    headless: local === undefined || local === '' ? 'shell' : true,
    args,
    timeout: 30_000,
  });
}

/**
 * Screenshots of a test's steps, kept in memory and written under {@link SCREENSHOT_DIR} only
 * if the test fails, with one more of each page as it was when it failed.
 */
export class Steps {
  readonly #shots: { readonly name: string; readonly png: Uint8Array }[] = [];
  readonly #pages = new Set<Page>();

  /** Call inside a test. */
  constructor() {
    const testName = expect.getState().currentTestName ?? 'browser test';
    onTestFailed(async () => {
      for (const page of this.#pages) await this.shot(page, 'at failure');
      const dir = join(SCREENSHOT_DIR, slug(testName));
      mkdirSync(dir, { recursive: true });
      this.#shots.forEach((shot, index) => {
        writeFileSync(
          join(dir, `${String(index + 1).padStart(2, '0')}-${slug(shot.name)}.png`),
          shot.png,
        );
      });
      process.stderr.write(`browser test failed: screenshots in ${dir}\n`);
    });
  }

  /** Remember what `page` shows now, as step `name`. */
  async shot(page: Page, name: string): Promise<void> {
    this.#pages.add(page);
    if (page.isClosed()) return;
    try {
      this.#shots.push({ name, png: await page.screenshot({ fullPage: true }) });
    } catch {
      // A page mid-navigation cannot always be captured; the next step will be.
    }
  }
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);
}
