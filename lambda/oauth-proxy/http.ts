/**
 * The proxy's requests and answers, free of API Gateway's event shape (the handler converts),
 * and the pieces every answer is made of: hardened HTML pages, OAuth JSON errors, redirects,
 * cookies.
 */
import { createHash } from 'node:crypto';
import { PUBLIC_CORS_HEADERS } from '../shared/cors';

/** One request to the proxy, as the handler hands it over. */
export interface ProxyRequest {
  readonly method: string;
  /** The route, relative to the issuer: `/authorize`, `/callback`, `/token`. */
  readonly path: string;
  /** Every query parameter with every value it was given. */
  readonly query: URLSearchParams;
  /** A header by its lower-case name. */
  readonly header: (name: string) => string | undefined;
  /** The body as text (forms are small; the handler caps it). */
  readonly body: string;
  readonly requestId: string;
  readonly sourceIp: string;
}

export interface ProxyResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** `Set-Cookie` values, one each. */
  readonly cookies: readonly string[];
  readonly body: string;
}

/** The largest form body read (a refresh token is about 2 KB). */
export const MAX_FORM_BYTES = 16 * 1024;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * An origin as a CSP source expression, or undefined where CSP has none: its grammar has no
 * IPv6 literals, so Chromium drops `http://[::1]:8080` from a policy (and then blocks).
 */
export function cspSource(origin: string): string | undefined {
  return new URL(origin).hostname.startsWith('[') ? undefined : origin;
}

const STYLE_TEXT =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.4}.warn{color:#8a4b00}code{word-break:break-all}button{font-size:1rem;padding:.4rem 1rem;margin-right:.5rem}';
const STYLE = `<style>${STYLE_TEXT}</style>`;
/** The one style block pages carry, allowed by its hash: no inline style or script otherwise. */
const STYLE_SOURCE = `'sha256-${createHash('sha256').update(STYLE_TEXT).digest('base64')}'`;

/** Headers of every page a person sees: no script, no framing, no caching. */
export function pageHeaders(formAction: readonly string[] = []): Record<string, string> {
  const action = formAction.length === 0 ? "'none'" : formAction.join(' ');
  return {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    // The page's URL (state, PKCE challenge) goes nowhere else; a form's Origin header stays
    // intact for the check on POST (no-referrer would make it "null").
    'Referrer-Policy': 'same-origin',
    'Content-Security-Policy': `default-src 'none'; style-src ${STYLE_SOURCE}; form-action ${action}; frame-ancestors 'none'; base-uri 'none'`,
  };
}

/** A page for a person: the answer where no redirect may be sent (yet). */
export function htmlPage(
  status: number,
  title: string,
  bodyHtml: string,
  options: { formAction?: readonly string[]; cookies?: readonly string[] } = {},
): ProxyResponse {
  return {
    status,
    headers: pageHeaders(options.formAction),
    cookies: options.cookies ?? [],
    body: `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title>${STYLE}<h1>${escapeHtml(title)}</h1>${bodyHtml}</html>`,
  };
}

/** An error page: what went wrong, in words, and nothing the caller sent. */
export function errorPage(status: number, error: string, description: string): ProxyResponse {
  return htmlPage(
    status,
    'Sign-in refused',
    `<p>This sign-in request cannot continue (<code>${escapeHtml(error)}</code>): ${escapeHtml(description)}</p><p>Go back to the application and start again.</p>`,
  );
}

/** A redirect; `303` after a form, so the browser follows with a GET. */
export function redirect(
  location: string,
  status: 302 | 303 = 302,
  cookies: readonly string[] = [],
): ProxyResponse {
  return {
    status,
    headers: { Location: location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' },
    cookies,
    body: '',
  };
}

/**
 * Where a redirect cannot be sent as one (an IPv6 loopback callback CSP cannot name), a page of
 * the proxy's own that goes on: a meta refresh is the new page's navigation, not the form's.
 */
export function continuePage(location: string, cookies: readonly string[] = []): ProxyResponse {
  const href = escapeHtml(location);
  return {
    status: 200,
    headers: {
      ...pageHeaders(),
      'Referrer-Policy': 'no-referrer',
    },
    cookies,
    body: `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${href}"><title>Continuing</title><p>Continuing to <a href="${href}">${escapeHtml(new URL(location).origin)}</a>…</p>`,
  };
}

/** JSON answers of the token endpoint: never cached, readable from any origin. */
const TOKEN_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  ...PUBLIC_CORS_HEADERS,
};

export function jsonResponse(status: number, body: unknown): ProxyResponse {
  return { status, headers: { ...TOKEN_HEADERS }, cookies: [], body: JSON.stringify(body) };
}

/**
 * The proxy's cookie names for an issuer origin: `__Host-` (this host only, path /, Secure) on
 * https; a plain-http (loopback) issuer cannot have it. One place, so the consent page and the
 * approval page name the one browser cookie they share alike.
 */
export function cookieNames(origin: string) {
  const prefix = origin.startsWith('https://') ? '__Host-' : '';
  return {
    /** The browser's id, shared by the consent and approval pages. */
    browser: `${prefix}mcp-browser`,
    /** A person's remembered consent to a client (consent page). */
    consent: `${prefix}mcp-consent`,
    /** A person's fresh sign-in to approve calls (approval page). */
    approver: `${prefix}mcp-approver`,
  } as const;
}

/** Cookie values by name, from a `Cookie` header; the first of a repeated name wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name !== '' && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** A `Set-Cookie` value: this site's pages only (HttpOnly, SameSite=Lax), Secure on https. */
export function setCookie(
  name: string,
  value: string,
  maxAgeSeconds: number,
  secure: boolean,
): string {
  return `${name}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** Parse a form body, refusing repeated parameters (RFC 6749 section 3.1). */
export function uniqueParams(params: URLSearchParams): Map<string, string> | undefined {
  const map = new Map<string, string>();
  for (const [name, value] of params) {
    if (map.has(name)) return undefined;
    map.set(name, value);
  }
  return map;
}
