/**
 * What a person does in a browser with an approval URL the MCP server answered a call with:
 * open it, sign in on the local sign-in page (the page sends them there unless this browser
 * signed in here a moment ago), read the call, press Approve (or Deny). The browser's part is
 * played by `fetch` with a cookie jar, as in `local-sign-in.ts`; the real-browser version is
 * test/integration/browser/approval.test.ts.
 */
import { browserGet, browserPost, CookieJar, formField, signInUpstream } from './local-sign-in';

export interface ApprovalPersonOptions {
  /** Approve (default) or deny. */
  readonly decision?: 'approve' | 'deny';
  /** The person's browser: cookies kept across approvals. Default a fresh one. */
  readonly jar?: CookieJar;
}

/** What the browser saw: each page's status, and the page it ended on. */
export interface ApprovalVisit {
  readonly statuses: number[];
  /** The page shown before answering (the call to approve), if the page was shown. */
  readonly shown?: string;
  /** The last page's status and text. */
  readonly status: number;
  readonly text: string;
}

function location(response: Response, base: URL): URL {
  const value = response.headers.get('location');
  if (value === null) throw new Error(`Expected a redirect, got ${response.status}`);
  return new URL(value, base);
}

/** Open the approval URL, sign in as `sub` with `groups` if asked, and answer the page. */
export async function approveLocally(
  approvalUrl: URL,
  sub: string,
  groups: readonly string[],
  options: ApprovalPersonOptions = {},
): Promise<ApprovalVisit> {
  const jar = options.jar ?? new CookieJar();
  const statuses: number[] = [];
  let page = await browserGet(approvalUrl, jar);
  let pageUrl = approvalUrl;
  statuses.push(page.status);
  if (page.status === 302) {
    // Sent to sign in: the local sign-in page, then the page's own callback, then back.
    const signIn = location(page, approvalUrl);
    const callback = await signInUpstream(signIn, sub, groups, jar);
    const back = await browserGet(callback, jar);
    statuses.push(back.status);
    if (back.status !== 303) {
      return { statuses, status: back.status, text: await back.text() };
    }
    pageUrl = location(back, callback);
    page = await browserGet(pageUrl, jar);
    statuses.push(page.status);
  }
  const shown = await page.text();
  if (page.status !== 200) return { statuses, status: page.status, text: shown };
  const action = /<form method="post" action="([^"]+)"/.exec(shown)?.[1] ?? '';
  const form = new URLSearchParams({
    ticket: formField(shown, 'ticket').replaceAll('&#38;', '&'),
    form: formField(shown, 'form'),
    decision: options.decision ?? 'approve',
  });
  const answered = await browserPost(new URL(action, pageUrl), form, jar);
  statuses.push(answered.status);
  return { statuses, shown, status: answered.status, text: await answered.text() };
}

export { CookieJar };
