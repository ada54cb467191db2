/**
 * Cutting what looks secret out of free text (an error's message) before a person sees it:
 * local mode shows a failing item's error to its author (`lambda/mcp/local-error-detail.ts`),
 * and an error message may quote a token, a key or a header it was handed. A safety net on
 * loopback, never a reason to log messages in AWS: there, messages are not shown at all.
 */

/** What stands in for what was cut. */
export const REDACTED = '[redacted]';

/**
 * The known shapes of a credential, most specific first. After them, long runs that only look
 * random are cut too ({@link looksSecret}).
 */
const RULES: readonly {
  readonly pattern: RegExp;
  readonly replace: string | ((match: string, group: string | undefined) => string);
}[] = [
  // `Authorization: Bearer …`, `authorization=…`, `"Authorization":"…"`: the whole value.
  {
    pattern: /(authorization["']?\s*[:=]\s*["']?)[^"'\r\n,;}]+/gi,
    replace: `$1${REDACTED}`,
  },
  // A bearer or basic credential wherever it appears.
  { pattern: /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, replace: `$1 ${REDACTED}` },
  // A JWT (header.payload.signature, base64url; the header always starts `eyJ`).
  {
    pattern: /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g,
    replace: REDACTED,
  },
  // This project's API keys (`mcpk_<key id>_<secret>`): the key id is not secret and says
  // which; anything else after the prefix goes whole.
  {
    pattern: /\bmcpk_(?:([0-9a-f]{16})_)?[A-Za-z0-9_-]+/g,
    replace: (_key: string, keyId: string | undefined) =>
      keyId === undefined ? `mcpk_${REDACTED}` : `mcpk_${keyId}_${REDACTED}`,
  },
  // AWS access key ids (long-term AKIA…, temporary ASIA…).
  { pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, replace: REDACTED },
  // `secret=…`, `"password": "…"`, `api_key: …`, `token=…`: the value after a secret's name.
  {
    pattern:
      /((?:secret|password|passwd|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|session[_-]?token)["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi,
    replace: `$1${REDACTED}`,
  },
];

/** 32+ characters of base64/hex alphabet: a secret access key, a hex digest, a signing key. */
const LONG_RUN = /[A-Za-z0-9+/=_-]{32,}/g;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Does a long run look random (a secret) rather than made of words (a name)? It must mix
 * letters and digits, so words, ids and table names mostly survive.
 */
function looksSecret(run: string): boolean {
  if (UUID.test(run)) return false;
  if (!/[0-9]/.test(run) || !/[A-Za-z]/.test(run)) return false;
  // A name made of hyphen-separated parts (a CloudFormation physical name: stack, logical id,
  // suffix) has short parts; a random base64url secret rarely has a hyphen at all.
  return run.split('-').some((part) => part.length >= 20);
}

/** `text` with everything that looks like a credential or a secret replaced by {@link REDACTED}. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const { pattern, replace } of RULES) {
    out =
      typeof replace === 'string'
        ? out.replace(pattern, replace)
        : out.replace(pattern, (match, group: unknown) =>
            replace(match, typeof group === 'string' ? group : undefined),
          );
  }
  return out.replace(LONG_RUN, (run) => (looksSecret(run) ? REDACTED : run));
}
