/**
 * The part of API Gateway's mapping-template language (Velocity, VTL) that the stack's mock
 * integrations use, and nothing more: CDK's CORS preflight for several origins
 * (`#set($origin = $input.params().header.get("Origin"))`, `#if($origin == "…" || …)`,
 * `#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)`) and static
 * documents. Anything else (`#foreach`, `$util`, `$input.json`, …) is refused when the
 * emulator starts, by {@link checkTemplate}: a template the emulator would render differently
 * from API Gateway must not be served.
 *
 * Pure.
 */
import { UnsupportedTemplateError } from './template';

export interface VtlInput {
  /** Request headers, any case (`$input.params().header.get("X")` looks a name up as given). */
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** `$context.*` values readable by the template. */
  readonly context: Readonly<Record<string, string | undefined>>;
}

export interface VtlOutput {
  readonly text: string;
  /** `$context.responseOverride.header.<name>` set by the template. */
  readonly headerOverrides: Readonly<Record<string, string>>;
  /** `$context.responseOverride.status`. */
  readonly statusOverride?: number;
}

type Token =
  | { kind: 'text'; text: string }
  | { kind: 'set'; target: string; expr: string }
  | { kind: 'if'; cond: string }
  | { kind: 'elseif'; cond: string }
  | { kind: 'else' }
  | { kind: 'end' }
  | { kind: 'var'; name: string };

/** Split a template into text, directives and `$references`. */
function tokenize(template: string, where: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let text = '';
  const flush = () => {
    if (text !== '') tokens.push({ kind: 'text', text });
    text = '';
  };
  /** The parenthesised argument starting at `start` (which is `(`), honouring quotes. */
  const parenthesised = (start: number): [string, number] => {
    let depth = 0;
    let quote: string | undefined;
    for (let j = start; j < template.length; j += 1) {
      const c = template[j] as string;
      if (quote !== undefined) {
        if (c === quote) quote = undefined;
        continue;
      }
      if (c === '"' || c === "'") quote = c;
      else if (c === '(') depth += 1;
      else if (c === ')') {
        depth -= 1;
        if (depth === 0) return [template.slice(start + 1, j), j + 1];
      }
    }
    throw new UnsupportedTemplateError(`${where}: unbalanced parentheses in the mapping template`);
  };
  while (i < template.length) {
    const c = template[i] as string;
    if (c === '#') {
      const directive = /^#(set|if|elseif|else|end)\b/.exec(template.slice(i));
      if (directive === null) {
        throw new UnsupportedTemplateError(
          `${where}: mapping template directive ${template.slice(i, i + 12)}… is not modelled`,
        );
      }
      flush();
      const name = directive[1] as string;
      i += directive[0].length;
      if (name === 'else' || name === 'end') {
        tokens.push({ kind: name });
      } else {
        const [argument, next] = parenthesised(i);
        i = next;
        if (name === 'set') {
          const eq = argument.indexOf('=');
          if (eq < 0) throw new UnsupportedTemplateError(`${where}: #set without =`);
          tokens.push({
            kind: 'set',
            target: argument.slice(0, eq).trim(),
            expr: argument.slice(eq + 1).trim(),
          });
        } else {
          tokens.push({ kind: name as 'if' | 'elseif', cond: argument });
        }
      }
      // A directive alone on its line takes its newline with it, as Velocity does.
      if (template[i] === '\n') i += 1;
      continue;
    }
    if (c === '$') {
      const reference = /^\$\{?([A-Za-z][A-Za-z0-9_]*)\}?/.exec(template.slice(i));
      if (
        reference !== null &&
        !/^\$(input|util|context|stageVariables)\b/.test(template.slice(i))
      ) {
        flush();
        tokens.push({ kind: 'var', name: reference[1] as string });
        i += reference[0].length;
        continue;
      }
      throw new UnsupportedTemplateError(
        `${where}: the reference ${template.slice(i, i + 24)}… in a mapping template is not modelled`,
      );
    }
    text += c;
    i += 1;
  }
  flush();
  return tokens;
}

/** Evaluate one expression: a string literal, a variable, a header lookup, `==`, `!=`, `||`, `&&`. */
function evaluate(
  expr: string,
  vars: Map<string, string>,
  input: VtlInput,
  where: string,
): string | boolean {
  const text = expr.trim();
  for (const operator of ['||', '&&'] as const) {
    const parts = splitTop(text, operator);
    if (parts.length > 1) {
      const values = parts.map((part) => truthy(evaluate(part, vars, input, where)));
      return operator === '||' ? values.some(Boolean) : values.every(Boolean);
    }
  }
  for (const operator of ['==', '!='] as const) {
    const parts = splitTop(text, operator);
    if (parts.length === 2) {
      const equal =
        String(evaluate(parts[0] as string, vars, input, where)) ===
        String(evaluate(parts[1] as string, vars, input, where));
      return operator === '==' ? equal : !equal;
    }
  }
  const literal = /^"([^"]*)"$|^'([^']*)'$/.exec(text);
  if (literal !== null) return literal[1] ?? literal[2] ?? '';
  const header = /^\$input\.params\(\)\.header\.get\(\s*"([^"]+)"\s*\)$/.exec(text);
  if (header !== null) {
    const name = header[1] as string;
    // Header names as sent: the lookup is exact, which is why CDK's template tries both cases.
    return input.headers[name] ?? '';
  }
  const param = /^\$input\.params\(\s*"([^"]+)"\s*\)$/.exec(text);
  if (param !== null) {
    const name = param[1] as string;
    const lower = name.toLowerCase();
    const fromHeader = Object.entries(input.headers).find(
      ([key]) => key.toLowerCase() === lower,
    )?.[1];
    return input.query[name] ?? fromHeader ?? '';
  }
  const context = /^\$context\.([A-Za-z0-9_.]+)$/.exec(text);
  if (context !== null) return input.context[context[1] as string] ?? '';
  const variable = /^\$\{?([A-Za-z][A-Za-z0-9_]*)\}?$/.exec(text);
  if (variable !== null) return vars.get(variable[1] as string) ?? '';
  throw new UnsupportedTemplateError(`${where}: the expression ${text} is not modelled`);
}

function truthy(value: string | boolean): boolean {
  return typeof value === 'boolean' ? value : value !== '';
}

/** Split on an operator outside quotes and parentheses. */
function splitTop(text: string, operator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (depth === 0 && text.startsWith(operator, i)) {
      parts.push(text.slice(start, i));
      start = i + operator.length;
      i += operator.length - 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Refuse, at start, a template this renderer does not model (a dry run over empty input). */
export function checkTemplate(template: string, where: string): void {
  renderTemplate(template, { headers: {}, query: {}, context: {} }, where);
}

export function renderTemplate(template: string, input: VtlInput, where = 'template'): VtlOutput {
  const tokens = tokenize(template, where);
  const vars = new Map<string, string>();
  const headerOverrides: Record<string, string> = {};
  let statusOverride: number | undefined;
  let text = '';
  /** One frame per open #if: whether its branch is being output, and whether one was taken. */
  const stack: { active: boolean; taken: boolean; parentActive: boolean }[] = [];
  const active = () => stack.every((frame) => frame.active);
  for (const token of tokens) {
    switch (token.kind) {
      case 'text':
        if (active()) text += token.text;
        break;
      case 'var':
        if (active()) text += vars.get(token.name) ?? `$${token.name}`;
        break;
      case 'set': {
        // Evaluated even in inactive branches for the dry run's sake, applied only when active.
        const value = String(evaluate(token.expr, vars, input, where));
        if (!active()) break;
        const override = /^\$context\.responseOverride\.header\.(.+)$/.exec(token.target);
        if (override !== null) headerOverrides[override[1] as string] = value;
        else if (token.target === '$context.responseOverride.status')
          statusOverride = Number(value);
        else {
          const name = /^\$\{?([A-Za-z][A-Za-z0-9_]*)\}?$/.exec(token.target)?.[1];
          if (name === undefined) {
            throw new UnsupportedTemplateError(`${where}: #set of ${token.target} is not modelled`);
          }
          vars.set(name, value);
        }
        break;
      }
      case 'if': {
        const parentActive = active();
        const holds = truthy(evaluate(token.cond, vars, input, where));
        stack.push({ active: holds, taken: holds, parentActive });
        break;
      }
      case 'elseif': {
        const frame = stack[stack.length - 1];
        if (frame === undefined)
          throw new UnsupportedTemplateError(`${where}: #elseif without #if`);
        const holds = truthy(evaluate(token.cond, vars, input, where));
        frame.active = !frame.taken && holds;
        frame.taken ||= holds;
        break;
      }
      case 'else': {
        const frame = stack[stack.length - 1];
        if (frame === undefined) throw new UnsupportedTemplateError(`${where}: #else without #if`);
        frame.active = !frame.taken;
        frame.taken = true;
        break;
      }
      case 'end':
        if (stack.pop() === undefined)
          throw new UnsupportedTemplateError(`${where}: #end without #if`);
        break;
    }
  }
  if (stack.length > 0) throw new UnsupportedTemplateError(`${where}: #if without #end`);
  return { text, headerOverrides, ...(statusOverride === undefined ? {} : { statusOverride }) };
}
