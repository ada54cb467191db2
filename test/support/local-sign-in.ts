/**
 * What a person does in a browser when an MCP client sends them to the local OAuth proxy:
 * read the consent page and press Approve (or Deny), then, on the local sign-in page (the
 * proxy's upstream, tools/local/auth-server.ts), pick a user and groups and press Sign in.
 * The browser's part is played by `fetch` with a cookie jar: cookies kept per origin, `Origin`
 * sent on form posts, redirects followed one by one. Returns where the browser ends up: the
 * client's callback URL with `code` (or `error`), `state` and `iss`.
 */

/** A browser's cookies, by cookie name (every test server is on loopback: one host). */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  /** Take the `Set-Cookie` headers of a response. */
  take(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const maxAge = /;\s*Max-Age=(-?\d+)/i.exec(header)?.[1];
      if (maxAge !== undefined && Number(maxAge) <= 0) this.#cookies.delete(name);
      else this.#cookies.set(name, pair.slice(eq + 1).trim());
    }
  }

  get header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  get names(): string[] {
    return [...this.#cookies.keys()];
  }

  set(name: string, value: string): void {
    this.#cookies.set(name, value);
  }

  delete(name: string): void {
    this.#cookies.delete(name);
  }
}

export interface PersonOptions {
  /** The person's answer on the consent page. Default approve. */
  readonly decision?: 'approve' | 'deny';
  /** Tick "remember this approval". Default false. */
  readonly remember?: boolean;
  /** The person's browser: cookies kept across sign-ins. Default a fresh one. */
  readonly jar?: CookieJar;
}

/** A page's meta-refresh target, for pages that go on by themselves. */
function refreshTarget(html: string, base: URL): URL | undefined {
  const url = /http-equiv="refresh" content="0; url=([^"]+)"/.exec(html)?.[1];
  return url === undefined ? undefined : new URL(url.replaceAll('&#38;', '&'), base);
}

/** The value of a hidden form field. */
export function formField(html: string, name: string): string {
  const value = new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1];
  if (value === undefined) throw new Error(`The page has no ${name} field`);
  return value;
}

/** A GET as a browser makes it, with the jar's cookies; no redirect followed. */
export async function browserGet(url: URL, jar: CookieJar): Promise<Response> {
  const response = await fetch(url, { headers: { Cookie: jar.header }, redirect: 'manual' });
  jar.take(response);
  return response;
}

/** A form POST as a browser sends it from a page on `url`'s origin. */
export async function browserPost(
  url: URL,
  form: URLSearchParams,
  jar: CookieJar,
  origin = url.origin,
): Promise<Response> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      Cookie: jar.header,
      Origin: origin,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: form,
    redirect: 'manual',
  });
  jar.take(response);
  return response;
}

function location(response: Response, base: URL): URL {
  const value = response.headers.get('location');
  if (value === null) throw new Error(`Expected a redirect, got ${response.status}`);
  return new URL(value, base);
}

/** The consent page: approve or deny; returns where the answer sends the browser. */
export async function answerConsent(
  page: Response,
  pageUrl: URL,
  jar: CookieJar,
  decision: 'approve' | 'deny' = 'approve',
  remember = false,
): Promise<Response> {
  const html = await page.text();
  const form = new URLSearchParams({ ticket: formField(html, 'ticket'), decision });
  if (remember) form.set('remember', 'yes');
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '';
  return browserPost(new URL(action, pageUrl), form, jar);
}

/** The local sign-in page: a user, groups, Sign in; returns the proxy callback URL. */
export async function signInUpstream(
  signInUrl: URL,
  sub: string,
  groups: readonly string[],
  jar: CookieJar,
): Promise<URL> {
  const page = await browserGet(signInUrl, jar);
  if (page.status !== 200) throw new Error(`The sign-in page answered ${page.status}`);
  const form = new URLSearchParams({ request: formField(await page.text(), 'request'), sub });
  for (const group of groups) form.append('groups', group);
  const answer = await browserPost(new URL('/oauth2/authorize', signInUrl), form, jar);
  if (answer.status !== 200) throw new Error(`Signing in answered ${answer.status}`);
  const next = refreshTarget(await answer.text(), signInUrl);
  if (next === undefined) throw new Error('Signing in did not go on to the callback');
  return next;
}

/** Follow the proxy's callback to the client's: a redirect, or a page that goes on. */
export async function followCallback(callbackUrl: URL, jar: CookieJar): Promise<URL> {
  const response = await browserGet(callbackUrl, jar);
  if (response.status === 302 || response.status === 303) return location(response, callbackUrl);
  const next =
    response.status === 200 ? refreshTarget(await response.text(), callbackUrl) : undefined;
  if (next === undefined) throw new Error(`The callback answered ${response.status}`);
  return next;
}

/**
 * The whole sign-in: consent (unless remembered), the upstream sign-in page, the callback.
 * Returns the client's callback URL the browser lands on.
 */
export async function signInLocally(
  authorizationUrl: URL,
  sub: string,
  groups: readonly string[],
  options: PersonOptions = {},
): Promise<URL> {
  const jar = options.jar ?? new CookieJar();
  const first = await browserGet(authorizationUrl, jar);
  let upstream: URL;
  if (first.status === 302) {
    // Remembered: straight on to the sign-in.
    upstream = location(first, authorizationUrl);
  } else if (first.status === 200) {
    const answered = await answerConsent(
      first,
      authorizationUrl,
      jar,
      options.decision ?? 'approve',
      options.remember ?? false,
    );
    if (answered.status === 200) {
      // Denied, to a callback CSP cannot name: a page that goes on.
      const next = refreshTarget(await answered.text(), authorizationUrl);
      if (next === undefined) throw new Error('The consent answer went nowhere');
      return next;
    }
    if (answered.status !== 303) throw new Error(`The consent answer was ${answered.status}`);
    upstream = location(answered, authorizationUrl);
    if (options.decision === 'deny') return upstream;
  } else {
    throw new Error(`The authorization request answered ${first.status}: ${await first.text()}`);
  }
  const callback = await signInUpstream(upstream, sub, groups, jar);
  return followCallback(callback, jar);
}
