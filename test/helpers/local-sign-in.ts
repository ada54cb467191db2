/**
 * What a developer does on the local sign-in page (tools/local-auth-server.ts): pick a user and
 * groups and press Sign in. Returns where the page redirects the browser: the client's callback
 * URL with `code` and `state`.
 */
export async function signInLocally(
  authorizationUrl: URL,
  sub: string,
  groups: readonly string[],
): Promise<URL> {
  const page = await fetch(authorizationUrl);
  if (page.status !== 200) throw new Error(`The sign-in page answered ${page.status}`);
  const request = /name="request" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const form = new URLSearchParams({ request, sub });
  for (const group of groups) form.append('groups', group);
  const approved = await fetch(new URL('/oauth2/authorize', authorizationUrl), {
    method: 'POST',
    body: form,
    redirect: 'manual',
  });
  if (approved.status !== 303) throw new Error(`Signing in answered ${approved.status}`);
  return new URL(approved.headers.get('location') ?? '');
}
