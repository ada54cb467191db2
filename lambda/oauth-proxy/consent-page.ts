/**
 * The consent page: who asks (and whether this server vouches for the name), where the browser
 * goes next, for which permissions; Approve or Deny, and optionally remember. Everything a
 * client chose is escaped, and the page's CSP names the only places its form's answer may go.
 */
import { OAUTH_PATHS } from '../shared/routes';
import type { ResolvedClient } from './clients';
import type { OAuthProxyConfig } from './context';
import { cspSource, escapeHtml, htmlPage, type ProxyResponse } from './http';

export interface ConsentPageRequest {
  readonly client: ResolvedClient;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  /** The sealed consent ticket the form carries. */
  readonly ticket: string;
  /** The upstream sign-in's origin, where an approval goes next. */
  readonly upstreamOrigin: string;
  /** `Set-Cookie` values to send with the page. */
  readonly cookies: readonly string[];
}

export function consentPage(config: OAuthProxyConfig, request: ConsentPageRequest): ProxyResponse {
  const { client, redirectUri, scopes, ticket, cookies } = request;
  const descriptions = config.scopeDescriptions ?? {};
  const permissions = scopes
    .map(
      (scope) =>
        `<li>${escapeHtml(descriptions[scope] ?? scope)} <small>(<code>${escapeHtml(scope)}</code>)</small></li>`,
    )
    .join('');
  const redirectHost = new URL(redirectUri).host;
  const who = client.nameVerified
    ? `<p><strong>${escapeHtml(client.name)}</strong> asks to use this MCP server as you.</p>`
    : `<p>An application calling itself <strong>${escapeHtml(client.name)}</strong> asks to use this MCP server as you.</p><p class="warn">This name is the application’s own claim; this server has not verified it.${
        client.clientHost === undefined
          ? ' The application registered itself.'
          : ` It is published at <strong>${escapeHtml(client.clientHost)}</strong>.`
      }</p>`;
  const days = Math.floor(config.consentRememberSeconds / 86400);
  const remember =
    config.consentRememberSeconds > 0
      ? `<p><label><input type="checkbox" name="remember" value="yes"> Remember this approval in this browser for ${
          days >= 1
            ? `${days} day${days === 1 ? '' : 's'}`
            : `${config.consentRememberSeconds} seconds`
        }</label></p>`
      : '';
  const body = `${who}
<p>If you approve, you sign in next, and then your browser is sent to <strong>${escapeHtml(redirectHost)}</strong>${
    client.kind === 'preregistered' ? '' : ' with access'
  }.</p>
<p>It asks for:</p><ul>${permissions}</ul>
<form method="post" action="${escapeHtml(`${new URL(config.issuer).pathname.replace(/\/$/, '')}${OAUTH_PATHS.authorize}`)}">
<input type="hidden" name="ticket" value="${escapeHtml(ticket)}">
${remember}<p><button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="deny">Deny</button></p>
</form>
<p><small>Only approve if you started this sign-in and expect ${escapeHtml(redirectHost)}.</small></p>`;
  // A browser applies form-action to the redirects that answer the form too: this server,
  // the upstream sign-in (and its return here), and the client's callback (Deny, or a
  // remembered upstream session that answers at once).
  const formAction = new Set(["'self'", request.upstreamOrigin]);
  const redirectSource = cspSource(new URL(redirectUri).origin);
  if (redirectSource !== undefined) formAction.add(redirectSource);
  return htmlPage(200, 'Allow access?', body, { formAction: [...formAction], cookies });
}
