/**
 * The approval page's HTML: the call shown for approval (exactly what will run, for whom, asked
 * by which client), the answer's confirmation, and the refusals. Everything from the ticket is
 * escaped, and hidden characters are shown as escapes.
 */
import { type ApprovalTicket, revealHidden } from '../shared/approvals';
import { escapeHtml, htmlPage, type ProxyResponse } from './http';

/** A page saying why the approval cannot go on, in words, with nothing the caller sent. */
export function refusalPage(status: number, text: string): ProxyResponse {
  return htmlPage(
    status,
    'Approval not possible',
    `<p>${escapeHtml(text)}</p><p>Nothing was approved. If you expected this page, go back to the application and run the call again to get a new link.</p>`,
  );
}

/** Signed in as someone other than the call's maker: a way to sign in as them. */
export function wrongPersonPage(signInAgain: string): ProxyResponse {
  return htmlPage(
    403,
    'Approval not possible',
    `<p>This call was made by another account than the one signed in here. Only the person who made a call can approve it.</p><p><a href="${escapeHtml(signInAgain)}">Sign in as that person</a></p>`,
  );
}

export interface CallPageRequest {
  readonly ticket: ApprovalTicket;
  /** The sealed ticket, as the form sends it back. */
  readonly ticketText: string;
  readonly formToken: string;
  /** Who is signed in (the approver's `sub`). */
  readonly subject: string;
  readonly approvalSeconds: number;
  /** The form's action: the page's own path. */
  readonly action: string;
  readonly cookies: readonly string[];
}

/** The page: exactly what will run, for whom, asked by which client; Approve or Deny. */
export function callPage(request: CallPageRequest): ProxyResponse {
  const { ticket } = request;
  // Hidden characters (bidi overrides, zero-width) shown as escapes: the person reads what
  // will run, not what the browser would make of it.
  const args = revealHidden(JSON.stringify(ticket.arguments, null, 2));
  const clientName = revealHidden(ticket.client.name ?? '');
  const clientVersion = revealHidden(ticket.client.version ?? '');
  const hidden = args.hidden || clientName.hidden || clientVersion.hidden;
  const client =
    ticket.client.name === undefined
      ? '<p>The client did not name itself (a 2025-11-25 client names itself only when it connects).</p>'
      : `<p>Asked by a client calling itself <strong>${escapeHtml(clientName.text)}</strong>${
          ticket.client.version === undefined
            ? ''
            : ` <small>(version ${escapeHtml(clientVersion.text)})</small>`
        }. <span class="warn">The name is the client’s own claim.</span></p>`;
  const warning = hidden
    ? '<p class="warn">This call contained hidden characters (invisible or text-direction controls), shown here as <code>\\u…</code> escapes. Text made to read as something else is a warning sign: deny the call unless you expect them.</p>\n'
    : '';
  const minutes = minutesOf(request.approvalSeconds);
  const body = `<p>A call you made waits for your approval. It runs only if you approve it, exactly as shown, once, within ${minutes} minute${minutes === 1 ? '' : 's'}.</p>
<p>Tool: <strong>${escapeHtml(ticket.tool.title ?? ticket.tool.name)}</strong> (<code>${escapeHtml(ticket.tool.name)}</code>), which needs the permission <code>${escapeHtml(ticket.tool.permission)}</code>.</p>
<p>Arguments:</p>
<pre><code>${escapeHtml(args.text)}</code></pre>
${warning}${client}
<p><small>Signed in as <code>${escapeHtml(request.subject)}</code>.</small></p>
<form method="post" action="${escapeHtml(request.action)}">
<input type="hidden" name="ticket" value="${escapeHtml(request.ticketText)}">
<input type="hidden" name="form" value="${escapeHtml(request.formToken)}">
<p><button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="deny">Deny</button></p>
</form>
<p><small>Only approve a call you made and expect. If you did not make it, deny it.</small></p>`;
  return htmlPage(200, 'Approve this call?', body, {
    formAction: ["'self'"],
    cookies: request.cookies,
  });
}

/** The answer, recorded: what happens next. */
export function decidedPage(
  decision: 'approve' | 'deny',
  tool: string,
  approvalSeconds: number,
): ProxyResponse {
  const minutes = minutesOf(approvalSeconds);
  return decision === 'approve'
    ? htmlPage(
        200,
        'Approved',
        `<p>You approved the call to <code>${escapeHtml(tool)}</code>. Go back to the application: it runs the call once when it calls again, within ${minutes} minute${minutes === 1 ? '' : 's'}.</p>`,
      )
    : htmlPage(
        200,
        'Denied',
        `<p>You denied the call to <code>${escapeHtml(tool)}</code>. It will not run.</p>`,
      );
}

function minutesOf(seconds: number): number {
  return Math.max(1, Math.round(seconds / 60));
}
