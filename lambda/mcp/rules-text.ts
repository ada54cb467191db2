/**
 * A module's Cedar rules read without Cedar: split into policies, each with its `@id`, its
 * effect and the actions its scope names. The MCP function needs this before it loads Cedar
 * (4 MB of WebAssembly) so that it loads it only for items some rule names, and hands Cedar
 * each policy under its own id (a denial names it).
 *
 * A scope it cannot follow counts as naming every action: the only mistake it can make is to
 * load Cedar for more items than needed. `cdk synth` and the tests hold its reading of every
 * deployed policy to Cedar's own (`lib/rules-validation.ts`). Pure.
 */

/** The namespace of the rules' entity types and actions. */
export const RULES_NAMESPACE = 'Mcp';
/** `Mcp::Action`: the entity type of every action a rule names. */
export const ACTION_TYPE = `${RULES_NAMESPACE}::Action`;

/** Every action: a scope with `action` unconstrained (or one this reader does not follow). */
export const ALL_ACTIONS = 'all';
export type ActionScope = readonly string[] | typeof ALL_ACTIONS;

/** One policy of a rules text. */
export interface RuleText {
  /** The value of its `@id("…")` annotation, if it has one. */
  readonly id: string | undefined;
  readonly effect: 'permit' | 'forbid';
  /** The policy alone (annotations, scope, conditions and `;`), as Cedar parses one policy. */
  readonly text: string;
  /** Where it starts in the whole text: 1-based line. */
  readonly line: number;
  /** The action ids (`Mcp::Action::"<id>"`) its scope names, or {@link ALL_ACTIONS}. */
  readonly actions: ActionScope;
}

export class RuleSyntaxError extends Error {
  override readonly name = 'RuleSyntaxError';
}

interface Token {
  readonly kind: 'ident' | 'string' | 'punct';
  /** Identifier or punctuation as written; a string's value, escapes undone. */
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const TWO_CHAR = new Set(['::', '==', '!=', '<=', '>=', '&&', '||']);

/** Undo a Cedar string escape at `text[i]` (after the backslash); returns the value and the next index. */
function unescapeAt(text: string, i: number): [string, number] {
  const c = text[i];
  switch (c) {
    case 'n':
      return ['\n', i + 1];
    case 'r':
      return ['\r', i + 1];
    case 't':
      return ['\t', i + 1];
    case '0':
      return ['\0', i + 1];
    case '\\':
    case '"':
    case "'":
    case '*':
      return [c, i + 1];
    case 'x': {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-7][0-9a-fA-F]$/.test(hex)) throw new RuleSyntaxError('bad \\x escape');
      return [String.fromCharCode(Number.parseInt(hex, 16)), i + 3];
    }
    case 'u': {
      const match = /^\{([0-9a-fA-F]{1,6})\}/.exec(text.slice(i + 1));
      if (match === null) throw new RuleSyntaxError('bad \\u escape');
      return [
        String.fromCodePoint(Number.parseInt(match[1] as string, 16)),
        i + 1 + match[0].length,
      ];
    }
    default:
      throw new RuleSyntaxError(`unknown escape \\${c ?? ''}`);
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '"') {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new RuleSyntaxError('unterminated string');
        const d = text[i] as string;
        if (d === '"') break;
        if (d === '\\') {
          const [unescaped, next] = unescapeAt(text, i + 1);
          value += unescaped;
          i = next;
        } else {
          value += d;
          i++;
        }
      }
      i++;
      tokens.push({ kind: 'string', value, start, end: i });
    } else if (IDENT_START.test(c)) {
      const start = i;
      while (i < text.length && IDENT_PART.test(text[i] as string)) i++;
      tokens.push({ kind: 'ident', value: text.slice(start, i), start, end: i });
    } else {
      const pair = text.slice(i, i + 2);
      const value = TWO_CHAR.has(pair) ? pair : c;
      tokens.push({ kind: 'punct', value, start: i, end: i + value.length });
      i += value.length;
    }
  }
  return tokens;
}

const OPENERS: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };

/** The index just past the token closing the bracket opened at `open`. */
function skipGroup(tokens: readonly Token[], open: number): number {
  const stack: string[] = [];
  for (let i = open; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    if (token.kind !== 'punct') continue;
    const closer = OPENERS[token.value];
    if (closer !== undefined) stack.push(closer);
    else if (token.value === stack.at(-1)) {
      stack.pop();
      if (stack.length === 0) return i + 1;
    } else if (')]}'.includes(token.value)) {
      throw new RuleSyntaxError(`unbalanced ${token.value}`);
    }
  }
  throw new RuleSyntaxError('unclosed bracket');
}

/** The scope's three parts (principal, action, resource), split at its top-level commas. */
function scopeParts(tokens: readonly Token[]): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const token of tokens) {
    if (token.kind === 'punct' && OPENERS[token.value] !== undefined) depth++;
    if (token.kind === 'punct' && ')]}'.includes(token.value)) depth--;
    if (depth === 0 && token.kind === 'punct' && token.value === ',') parts.push([]);
    else parts.at(-1)?.push(token);
  }
  return parts;
}

/** `Mcp::Action::"id"` at `tokens[i]`: the id and the index after it, or undefined. */
function actionEntity(tokens: readonly Token[], i: number): [string, number] | undefined {
  const path: string[] = [];
  let j = i;
  for (;;) {
    const ident = tokens[j];
    if (ident?.kind !== 'ident' || tokens[j + 1]?.value !== '::') return undefined;
    path.push(ident.value);
    j += 2;
    const id = tokens[j];
    if (id?.kind === 'string') {
      return path.join('::') === ACTION_TYPE ? [id.value, j + 1] : undefined;
    }
  }
}

/** The actions an action constraint names; {@link ALL_ACTIONS} for anything else. */
function actionsOf(part: readonly Token[]): ActionScope {
  const [head, op] = part;
  if (head?.value !== 'action' || part.length === 1) return ALL_ACTIONS;
  if (op?.value === '==' || (op?.value === 'in' && part[2]?.value !== '[')) {
    const entity = actionEntity(part, 2);
    return entity !== undefined && entity[1] === part.length ? [entity[0]] : ALL_ACTIONS;
  }
  if (op?.value !== 'in' || part.at(-1)?.value !== ']') return ALL_ACTIONS;
  const ids: string[] = [];
  let i = 3;
  while (i < part.length - 1) {
    const entity = actionEntity(part, i);
    if (entity === undefined) return ALL_ACTIONS;
    ids.push(entity[0]);
    i = entity[1];
    if (part[i]?.value === ',') i++;
    else if (i !== part.length - 1) return ALL_ACTIONS;
  }
  return ids;
}

/** 1-based line of `offset` in `text`. */
function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text[i] === '\n') line++;
  return line;
}

/**
 * The policies of a rules text. Throws {@link RuleSyntaxError} for text it cannot split
 * (unbalanced brackets, an unterminated string, no effect where one belongs); Cedar's parser
 * is the judge of everything else.
 */
export function splitRules(text: string): RuleText[] {
  const tokens = tokenize(text);
  const rules: RuleText[] = [];
  let i = 0;
  while (i < tokens.length) {
    const start = (tokens[i] as Token).start;
    let id: string | undefined;
    while (tokens[i]?.value === '@') {
      const name = tokens[i + 1];
      if (name?.kind !== 'ident') throw new RuleSyntaxError('an annotation needs a name');
      i += 2;
      if (tokens[i]?.value === '(') {
        const value = tokens[i + 1];
        if (value?.kind !== 'string' || tokens[i + 2]?.value !== ')') {
          throw new RuleSyntaxError(`@${name.value} takes one string`);
        }
        if (name.value === 'id') id = value.value;
        i += 3;
      }
    }
    const effect = tokens[i];
    if (effect?.value !== 'permit' && effect?.value !== 'forbid') {
      throw new RuleSyntaxError(
        `line ${lineOf(text, effect?.start ?? text.length)}: expected permit or forbid`,
      );
    }
    if (tokens[i + 1]?.value !== '(') throw new RuleSyntaxError(`${effect.value} needs a scope`);
    const scopeEnd = skipGroup(tokens, i + 1);
    const parts = scopeParts(tokens.slice(i + 2, scopeEnd - 1));
    i = scopeEnd;
    while (i < tokens.length && tokens[i]?.value !== ';') {
      i =
        tokens[i]?.kind === 'punct' && OPENERS[tokens[i]?.value ?? '']
          ? skipGroup(tokens, i)
          : i + 1;
    }
    const end = tokens[i];
    if (end === undefined) throw new RuleSyntaxError(`line ${lineOf(text, start)}: missing ;`);
    i++;
    rules.push({
      id,
      effect: effect.value,
      text: text.slice(start, end.end),
      line: lineOf(text, start),
      actions: parts.length === 3 ? actionsOf(parts[1] as Token[]) : ALL_ACTIONS,
    });
  }
  return rules;
}
