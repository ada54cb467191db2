/**
 * One verification of a deployment: every check of `checks.ts` in the table's order, each fed
 * what the earlier ones learned (the metadata URL, the issuer, the listed tools). A check that
 * cannot finish (the host does not answer, a timeout) is its own ✘ row; the others still run.
 */
import {
  CHECK_TITLES,
  checkAuthorizationServer,
  checkChallenge,
  checkCors,
  checkDeniedCall,
  checkDiscover,
  checkNotifications,
  checkProgress,
  checkProtectedResource,
  checkRootWellKnown,
  checkStepUp,
  checkToolsList,
  type Row,
} from './checks';
import { type FetchPort, McpWire, resolveTarget, type Target, Wire } from './wire';

export interface VerifyOptions {
  /** The MCP URL (`…/mcp`) or the API's base URL (the stage, or a custom domain's root). */
  readonly url: string;
  /** An access token or API key, sent as `Authorization: Bearer …` to the MCP URL only. */
  readonly credential: string;
  /** An access token narrowed to fewer permission scopes than its roles grant (step-up row). */
  readonly narrowCredential?: string;
  /** Browser origins the deployment allows (CORS row). */
  readonly origins?: readonly string[];
  /** @default globalThis.fetch */
  readonly fetch?: FetchPort;
  /** Milliseconds, monotonic. @default performance.now */
  readonly now?: () => number;
  /** Longest wait for one answer. @default 30 s */
  readonly timeoutMs?: number;
  /** How long `stream_check` waits between its progress report and its answer. @default 2 */
  readonly streamSeconds?: number;
}

export interface Verification {
  readonly target: Target;
  readonly rows: readonly Row[];
}

/** A tool no deployment has: the refused call. Named so it is easy to find in the audit log. */
export const UNKNOWN_TOOL = 'mcp_verify_unknown_tool';

/** Run `check`; if it throws, a ✘ row saying what could not be done. */
async function guarded<T extends { row: Row }>(
  title: string,
  check: () => Promise<T>,
): Promise<T | { row: Row }> {
  try {
    return await check();
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    const message = error instanceof Error ? `${error.message}${cause}` : String(error);
    return {
      row: {
        title,
        mark: 'fail',
        detail: `could not finish: ${message}`,
        fix: 'Check that the URL is right and reachable from here, then run again',
      },
    };
  }
}

const asFinding = (row: Promise<Row>) => row.then((found) => ({ row: found }));

export async function verifyDeployment(options: VerifyOptions): Promise<Verification> {
  const target = resolveTarget(options.url);
  const wire = new Wire({
    fetch: options.fetch ?? ((url, init) => fetch(url, init)),
    now: options.now ?? (() => performance.now()),
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  const mcp = new McpWire(wire, target.mcpUrl);
  const { credential, narrowCredential } = options;
  const rows: Row[] = [];

  const challenge = await guarded(CHECK_TITLES.challenge, () => checkChallenge(wire, mcp));
  rows.push(challenge.row);
  const resourceMetadataUrl =
    'resourceMetadataUrl' in challenge ? challenge.resourceMetadataUrl : undefined;
  const resource = await guarded(CHECK_TITLES.protectedResource, () =>
    checkProtectedResource(wire, target, resourceMetadataUrl),
  );
  rows.push(resource.row);
  const issuer = 'issuer' in resource ? resource.issuer : undefined;
  rows.push(
    (
      await guarded(CHECK_TITLES.authorizationServer, () =>
        asFinding(checkAuthorizationServer(wire, issuer)),
      )
    ).row,
    (await guarded(CHECK_TITLES.discover, () => asFinding(checkDiscover(mcp, credential)))).row,
  );
  const modern = await guarded(CHECK_TITLES.toolsListModern, () =>
    checkToolsList(mcp, credential, 'modern'),
  );
  const tools = 'tools' in modern ? modern.tools : undefined;
  const legacy = await guarded(CHECK_TITLES.toolsListLegacy, () =>
    checkToolsList(mcp, credential, 'legacy', tools),
  );
  rows.push(modern.row, legacy.row);
  const later: [string, () => Promise<Row>][] = [
    [CHECK_TITLES.deniedCall, () => checkDeniedCall(mcp, credential, UNKNOWN_TOOL)],
    [CHECK_TITLES.stepUp, () => checkStepUp(mcp, narrowCredential, tools)],
    [CHECK_TITLES.notification, () => checkNotifications(mcp, credential)],
    [
      CHECK_TITLES.progress,
      () => checkProgress(mcp, credential, tools, options.streamSeconds ?? 2),
    ],
    [CHECK_TITLES.rootWellKnown, () => checkRootWellKnown(wire, target, issuer)],
    [CHECK_TITLES.cors, () => checkCors(wire, target, options.origins ?? [])],
  ];
  for (const [title, check] of later)
    rows.push((await guarded(title, () => asFinding(check()))).row);
  return { target, rows };
}
