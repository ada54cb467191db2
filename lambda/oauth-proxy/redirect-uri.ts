/**
 * Redirect URI matching: exactly one of the client's registered URIs, character for character,
 * except that a loopback URI (`http://127.0.0.1`, `http://[::1]`, `http://localhost`) matches
 * on any port, as RFC 8252 section 7.3 asks of servers for native clients (which pick a free
 * port per run). Scheme, host, path and query must still be the registered ones.
 */
import { isLoopbackHost, redirectUriProblem } from '../shared/client-registration';

/** Is `uri` a plain-http loopback URI, whose port is the client's choice? */
export function isLoopbackRedirectUri(uri: URL): boolean {
  return uri.protocol === 'http:' && isLoopbackHost(uri.hostname);
}

/**
 * Does the requested redirect URI match one of the registered ones? The request is held to the
 * registration rules first (canonical form, https or loopback http, no fragment or user info),
 * so no second spelling of a URL can slip through the comparison.
 */
export function matchRedirectUri(registered: readonly string[], requested: string): boolean {
  if (redirectUriProblem(requested) !== undefined) return false;
  if (registered.includes(requested)) return true;
  const wanted = new URL(requested);
  if (!isLoopbackRedirectUri(wanted)) return false;
  return registered.some((candidate) => {
    let url: URL;
    try {
      url = new URL(candidate);
    } catch {
      return false;
    }
    if (!isLoopbackRedirectUri(url)) return false;
    // Everything but the port, compared as the parser wrote it.
    url.port = '';
    const other = new URL(wanted.href);
    other.port = '';
    return url.href === other.href;
  });
}
