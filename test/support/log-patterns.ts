/**
 * Offline evaluators for the two CloudWatch matching languages the monitoring uses, so tests can
 * run the deployed patterns against the log lines the real handlers write:
 *
 * - Metric filter patterns for JSON log events ("Filter pattern syntax for metric filters",
 *   CloudWatch Logs User Guide): `{ ... }` with `&&`, `||`, parentheses, `=`, `!=`, `<`, `>`,
 *   `<=`, `>=`, `IS TRUE`, `IS FALSE`, `IS NULL`, `NOT EXISTS`, and `*` at either end of a string.
 * - Contributor Insights rules for JSON logs ("Contributor Insights rule syntax", CloudWatch User
 *   Guide): `Keys`, `Filters` (`In`, `NotIn`, `StartsWith`, `GreaterThan`, `LessThan`,
 *   `EqualTo`, `NotEqualTo`, `IsPresent`), `AggregateOn` `Count` or `Sum`.
 *
 * Whatever the docs leave open (term and space-delimited patterns, CLF rules, a `*` inside a
 * string, comparing a string to a number, `!=` or `NotIn` on an absent field, a missing key)
 * throws {@link UnsupportedPatternError} instead of being guessed.
 */

/** The evaluator met syntax or a case the AWS docs do not settle. */
export class UnsupportedPatternError extends Error {
  override readonly name = 'UnsupportedPatternError';
}

/** The pattern or rule is malformed. */
export class PatternSyntaxError extends Error {
  override readonly name = 'PatternSyntaxError';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Step =
  | { readonly kind: 'property'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number };

const ABSENT = Symbol('absent');
type Resolved = Json | typeof ABSENT;

/**
 * Parse a JSON property selector: `$` followed by `.name` (letters, digits, `-`, `_`) or `[n]`
 * steps, as both syntaxes document it (`$.eventId`, `$.users[0].id`, `$.coordinates[0][1]`).
 */
export function parseSelector(text: string): readonly Step[] {
  if (!text.startsWith('$')) throw new PatternSyntaxError(`A selector starts with '$': ${text}`);
  const steps: Step[] = [];
  const step = /\.([A-Za-z0-9_-]+)|\[(\d+)\]/y;
  step.lastIndex = 1;
  while (step.lastIndex < text.length) {
    const match = step.exec(text);
    if (match === null) throw new PatternSyntaxError(`Not a supported selector: ${text}`);
    if (match[1] !== undefined) steps.push({ kind: 'property', name: match[1] });
    else steps.push({ kind: 'index', index: Number(match[2]) });
  }
  if (steps.length === 0 || steps[0]?.kind !== 'property') {
    throw new PatternSyntaxError(`A selector names a property first: ${text}`);
  }
  return steps;
}

function resolve(root: Json, steps: readonly Step[]): Resolved {
  let current: Resolved = root;
  for (const step of steps) {
    if (step.kind === 'property') {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) return ABSENT;
      if (!Object.hasOwn(current, step.name)) return ABSENT;
      current = current[step.name] as Json;
    } else {
      if (!Array.isArray(current) || step.index >= current.length) return ABSENT;
      current = current[step.index] as Json;
    }
  }
  return current;
}

/** The log event as a JSON object, or undefined when it is not one (JSON patterns never match it). */
export function parseJsonEvent(line: string): { [key: string]: Json } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as { [key: string]: Json })
    : undefined;
}

// ---------------------------------------------------------------------------------------------
// Metric filter patterns
// ---------------------------------------------------------------------------------------------

type Literal =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number };
type Comparison = '=' | '!=' | '<' | '>' | '<=' | '>=';
type Expr =
  | { readonly kind: 'and' | 'or'; readonly left: Expr; readonly right: Expr }
  | {
      readonly kind: 'compare';
      readonly selector: string;
      readonly op: Comparison;
      readonly literal: Literal;
    }
  | { readonly kind: 'is'; readonly selector: string; readonly what: 'TRUE' | 'FALSE' | 'NULL' }
  | { readonly kind: 'notExists'; readonly selector: string };

type Token =
  | { readonly kind: 'punct'; readonly text: '{' | '}' | '(' | ')' | '&&' | '||' }
  | { readonly kind: 'op'; readonly text: Comparison }
  | { readonly kind: 'selector'; readonly text: string }
  | { readonly kind: 'quoted'; readonly text: string }
  | { readonly kind: 'word'; readonly text: string };

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const rest = pattern.slice(i);
    const space = /^\s+/.exec(rest);
    if (space !== null) {
      i += space[0].length;
      continue;
    }
    const two = rest.slice(0, 2);
    if (two === '&&' || two === '||') {
      tokens.push({ kind: 'punct', text: two });
      i += 2;
      continue;
    }
    if (two === '!=' || two === '<=' || two === '>=') {
      tokens.push({ kind: 'op', text: two });
      i += 2;
      continue;
    }
    const one = rest[0] as string;
    if (one === '{' || one === '}' || one === '(' || one === ')') {
      tokens.push({ kind: 'punct', text: one });
      i += 1;
      continue;
    }
    if (one === '=' || one === '<' || one === '>') {
      tokens.push({ kind: 'op', text: one });
      i += 1;
      continue;
    }
    if (one === '"') {
      const end = rest.indexOf('"', 1);
      if (end === -1) throw new PatternSyntaxError(`Unterminated string in: ${pattern}`);
      const text = rest.slice(1, end);
      // No escape syntax is documented for quoted strings.
      if (text.includes('\\')) {
        throw new UnsupportedPatternError(
          `Backslashes in quoted strings are undocumented: ${pattern}`,
        );
      }
      tokens.push({ kind: 'quoted', text });
      i += end + 1;
      continue;
    }
    const selector = /^\$(\.[A-Za-z0-9_-]+|\[\d+\])+/.exec(rest);
    if (selector !== null) {
      tokens.push({ kind: 'selector', text: selector[0] });
      i += selector[0].length;
      continue;
    }
    const word = /^[A-Za-z0-9_.*+-]+/.exec(rest);
    if (word !== null) {
      tokens.push({ kind: 'word', text: word[0] });
      i += word[0].length;
      continue;
    }
    throw new UnsupportedPatternError(`Unsupported syntax at '${rest}' in: ${pattern}`);
  }
  return tokens;
}

class PatternParser {
  readonly #tokens: Token[];
  readonly #pattern: string;
  #at = 0;

  constructor(pattern: string) {
    this.#pattern = pattern;
    this.#tokens = tokenize(pattern);
  }

  parse(): Expr {
    this.#expectPunct('{');
    const expr = this.#or();
    this.#expectPunct('}');
    if (this.#at !== this.#tokens.length) this.#fail('text after the closing brace');
    return expr;
  }

  #peek(): Token | undefined {
    return this.#tokens[this.#at];
  }

  #next(): Token {
    const token = this.#tokens[this.#at];
    if (token === undefined) this.#fail('an unexpected end');
    this.#at += 1;
    return token;
  }

  #fail(what: string): never {
    throw new PatternSyntaxError(`Filter pattern has ${what}: ${this.#pattern}`);
  }

  #expectPunct(text: string): void {
    const token = this.#next();
    if (token.kind !== 'punct' || token.text !== text)
      this.#fail(`'${token.text}' where '${text}' belongs`);
  }

  #isPunct(text: string): boolean {
    const token = this.#peek();
    return token?.kind === 'punct' && token.text === text;
  }

  // Precedence as documented: () > && > ||.
  #or(): Expr {
    let left = this.#and();
    while (this.#isPunct('||')) {
      this.#at += 1;
      left = { kind: 'or', left, right: this.#and() };
    }
    return left;
  }

  #and(): Expr {
    let left = this.#term();
    while (this.#isPunct('&&')) {
      this.#at += 1;
      left = { kind: 'and', left, right: this.#term() };
    }
    return left;
  }

  #term(): Expr {
    if (this.#isPunct('(')) {
      this.#at += 1;
      const inner = this.#or();
      this.#expectPunct(')');
      return inner;
    }
    const selectorToken = this.#next();
    if (selectorToken.kind !== 'selector')
      this.#fail(`'${selectorToken.text}' where a selector belongs`);
    parseSelector(selectorToken.text);
    const selector = selectorToken.text;
    const token = this.#next();
    if (token.kind === 'op')
      return { kind: 'compare', selector, op: token.text, literal: this.#literal(token.text) };
    if (token.kind === 'word' && token.text === 'IS') {
      const what = this.#next();
      if (
        what.kind === 'word' &&
        (what.text === 'TRUE' || what.text === 'FALSE' || what.text === 'NULL')
      ) {
        return { kind: 'is', selector, what: what.text };
      }
      throw new UnsupportedPatternError(`Unsupported 'IS ${what.text}' in: ${this.#pattern}`);
    }
    if (token.kind === 'word' && token.text === 'NOT') {
      const what = this.#next();
      if (what.kind === 'word' && what.text === 'EXISTS') return { kind: 'notExists', selector };
      throw new UnsupportedPatternError(`Unsupported 'NOT ${what.text}' in: ${this.#pattern}`);
    }
    throw new UnsupportedPatternError(`Unsupported operator '${token.text}' in: ${this.#pattern}`);
  }

  #literal(op: Comparison): Literal {
    const token = this.#next();
    if (token.kind === 'quoted') {
      if (op !== '=' && op !== '!=') this.#fail(`a string compared with '${op}'`);
      return { kind: 'string', value: checkWildcards(token.text) };
    }
    if (token.kind === 'word') {
      if (NUMBER.test(token.text)) return { kind: 'number', value: Number(token.text) };
      if (op !== '=' && op !== '!=')
        this.#fail(`'${token.text}' compared with '${op}', which takes a number`);
      // Unquoted strings are documented for alphanumerics and for prefixes such as 123.123.*.
      return { kind: 'string', value: checkWildcards(token.text) };
    }
    return this.#fail(`'${token.text}' where a value belongs`);
  }
}

/** A string literal, refused when it has a `*` other than at its ends. */
function checkWildcards(text: string): string {
  if (text.length > 2 && text.slice(1, -1).includes('*')) {
    // The docs have said both that an inner '*' is literal and that it is a wildcard.
    throw new UnsupportedPatternError(`A '*' inside a string is ambiguous in the docs: "${text}"`);
  }
  return text;
}

/** Does `value` match the string, honouring a `*` wildcard at its start and/or end? */
function stringMatches(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  const leading = pattern.startsWith('*');
  const trailing = pattern.endsWith('*');
  const core = pattern.slice(leading ? 1 : 0, trailing ? -1 : undefined);
  if (leading && trailing) return value.includes(core);
  if (leading) return value.endsWith(core);
  if (trailing) return value.startsWith(core);
  return value === core;
}

function describe(value: Resolved): string {
  return value === ABSENT ? 'absent' : JSON.stringify(value);
}

function compare(expr: Extract<Expr, { kind: 'compare' }>, event: Json): boolean {
  const value = resolve(event, parseSelector(expr.selector));
  // "The SELECTOR must point to a value node (string or number) in the JSON. If it points to an
  // array or object, the filter will not be applied" - and a missing property is false for '='.
  if (value !== null && typeof value === 'object') return false;
  if (value === ABSENT) {
    if (expr.op === '=' || expr.literal.kind === 'number') return false;
    throw new UnsupportedPatternError(
      `'${expr.op}' on an absent field is undocumented: ${expr.selector}`,
    );
  }
  const { literal } = expr;
  if (literal.kind === 'string') {
    if (typeof value !== 'string') {
      throw new UnsupportedPatternError(
        `Comparing ${expr.selector} (${describe(value)}) with the string "${literal.value}" is undocumented`,
      );
    }
    const matches = stringMatches(literal.value, value);
    return expr.op === '=' ? matches : !matches;
  }
  if (typeof value !== 'number') {
    throw new UnsupportedPatternError(
      `Comparing ${expr.selector} (${describe(value)}) with the number ${literal.value} is undocumented`,
    );
  }
  switch (expr.op) {
    case '=':
      return value === literal.value;
    case '!=':
      return value !== literal.value;
    case '<':
      return value < literal.value;
    case '>':
      return value > literal.value;
    case '<=':
      return value <= literal.value;
    case '>=':
      return value >= literal.value;
  }
}

function evaluate(expr: Expr, event: Json): boolean {
  switch (expr.kind) {
    case 'and':
      return evaluate(expr.left, event) && evaluate(expr.right, event);
    case 'or':
      return evaluate(expr.left, event) || evaluate(expr.right, event);
    case 'compare':
      return compare(expr, event);
    case 'is': {
      const value = resolve(event, parseSelector(expr.selector));
      if (expr.what === 'NULL') return value === null;
      if (typeof value === 'string' || typeof value === 'number') {
        // Whether "true" or 1 counts as TRUE is not documented.
        throw new UnsupportedPatternError(
          `IS ${expr.what} on ${describe(value)} is undocumented: ${expr.selector}`,
        );
      }
      return value === (expr.what === 'TRUE');
    }
    case 'notExists':
      return resolve(event, parseSelector(expr.selector)) === ABSENT;
  }
}

/** A compiled JSON metric-filter pattern. */
export interface FilterPatternMatcher {
  /** The pattern's selectors, e.g. `$.event`. */
  readonly selectors: readonly string[];
  /** Does this raw log event match? Lines that are not JSON objects never do. */
  matches(line: string): boolean;
}

function selectorsOf(expr: Expr): string[] {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return [...selectorsOf(expr.left), ...selectorsOf(expr.right)];
    default:
      return [expr.selector];
  }
}

/** Compile a JSON metric-filter pattern; throws on syntax outside the supported subset. */
export function compileFilterPattern(pattern: string): FilterPatternMatcher {
  if (!pattern.trimStart().startsWith('{')) {
    throw new UnsupportedPatternError(`Only JSON patterns ({ ... }) are supported: ${pattern}`);
  }
  const expr = new PatternParser(pattern).parse();
  return {
    selectors: [...new Set(selectorsOf(expr))],
    matches: (line) => {
      const event = parseJsonEvent(line);
      return event !== undefined && evaluate(expr, event);
    },
  };
}

/** The metric transformation of a metric filter, as CloudFormation spells it. */
export interface MetricTransformation {
  readonly MetricValue: string;
  readonly DefaultValue?: number;
  readonly Dimensions?: readonly { readonly Key: string; readonly Value: string }[];
}

/** One metric the filter publishes: its dimensions and the sum of the values it emitted. */
export interface MetricSeries {
  readonly dimensions: Readonly<Record<string, string>>;
  readonly sum: number;
  readonly count: number;
}

/**
 * Run a metric filter over log events: the series it would publish, keyed by dimensions.
 * Enforces what CloudWatch Logs enforces at deploy time: a field used as value or dimension must
 * appear in the pattern, and dimensions exclude a default value.
 */
export function evaluateMetricFilter(
  pattern: string,
  transformation: MetricTransformation,
  lines: readonly string[],
): MetricSeries[] {
  const matcher = compileFilterPattern(pattern);
  const dimensions = transformation.Dimensions ?? [];
  if (dimensions.length > 3)
    throw new PatternSyntaxError('A metric filter has at most three dimensions');
  if (dimensions.length > 0 && transformation.DefaultValue !== undefined) {
    throw new PatternSyntaxError('Dimensions and a default value are mutually exclusive');
  }
  const fieldValue = (selector: string): void => {
    parseSelector(selector);
    if (!matcher.selectors.includes(selector)) {
      throw new PatternSyntaxError(
        `${selector} is published but not matched by the pattern ${pattern}`,
      );
    }
  };
  const literalValue = NUMBER.test(transformation.MetricValue)
    ? Number(transformation.MetricValue)
    : undefined;
  if (literalValue === undefined) fieldValue(transformation.MetricValue);
  for (const dimension of dimensions) fieldValue(dimension.Value);

  const series = new Map<
    string,
    { dimensions: Record<string, string>; sum: number; count: number }
  >();
  const add = (dims: Record<string, string>, value: number) => {
    const key = JSON.stringify(dims);
    const entry = series.get(key) ?? { dimensions: dims, sum: 0, count: 0 };
    entry.sum += value;
    entry.count += 1;
    series.set(key, entry);
  };
  for (const line of lines) {
    const event = parseJsonEvent(line);
    if (event === undefined || !matcher.matches(line)) {
      if (transformation.DefaultValue !== undefined) add({}, transformation.DefaultValue);
      continue;
    }
    const dims: Record<string, string> = {};
    for (const dimension of dimensions) {
      const value = resolve(event, parseSelector(dimension.Value));
      if (typeof value !== 'string') {
        throw new UnsupportedPatternError(
          `Dimension ${dimension.Key} from ${describe(value)} is undocumented`,
        );
      }
      dims[dimension.Key] = value;
    }
    let value = literalValue;
    if (value === undefined) {
      const resolved = resolve(event, parseSelector(transformation.MetricValue));
      if (typeof resolved !== 'number') {
        throw new UnsupportedPatternError(
          `Metric value from ${describe(resolved)} is undocumented`,
        );
      }
      value = resolved;
    }
    add(dims, value);
  }
  return [...series.values()];
}

// ---------------------------------------------------------------------------------------------
// Contributor Insights rules
// ---------------------------------------------------------------------------------------------

type RuleFilter =
  | {
      readonly Match: string;
      readonly op: 'In' | 'NotIn' | 'StartsWith';
      readonly values: readonly string[];
    }
  | {
      readonly Match: string;
      readonly op: 'GreaterThan' | 'LessThan' | 'EqualTo' | 'NotEqualTo';
      readonly value: number;
    }
  | { readonly Match: string; readonly op: 'IsPresent'; readonly present: boolean };

/** A validated Contributor Insights rule for JSON logs. */
export interface InsightRule {
  readonly logGroupNames: readonly string[];
  readonly keys: readonly string[];
  readonly valueField?: string;
  readonly filters: readonly RuleFilter[];
  readonly aggregateOn: 'Count' | 'Sum';
}

const FILTER_OPERATORS = [
  'In',
  'NotIn',
  'StartsWith',
  'GreaterThan',
  'LessThan',
  'EqualTo',
  'NotEqualTo',
  'IsPresent',
] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      throw new UnsupportedPatternError(`Unsupported field ${key} in ${where}`);
  }
}

function stringArray(value: unknown, where: string, max: number): string[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.length > max ||
    !value.every((v) => typeof v === 'string')
  ) {
    throw new PatternSyntaxError(`${where} must be an array of 1 to ${max} strings`);
  }
  return value as string[];
}

/** Validate a rule body (the object, or its JSON text) against the documented syntax. */
export function parseInsightRule(body: unknown): InsightRule {
  const rule: unknown = typeof body === 'string' ? JSON.parse(body) : body;
  if (!isRecord(rule)) throw new PatternSyntaxError('A rule body is a JSON object');
  onlyKeys(
    rule,
    ['Schema', 'LogGroupNames', 'LogFormat', 'Contribution', 'AggregateOn'],
    'the rule',
  );
  const schema = rule.Schema;
  if (
    !isRecord(schema) ||
    schema.Name !== 'CloudWatchLogRule' ||
    schema.Version !== 1 ||
    Object.keys(schema).length !== 2
  ) {
    throw new PatternSyntaxError('Schema must be {"Name": "CloudWatchLogRule", "Version": 1}');
  }
  if (rule.LogFormat !== 'JSON') {
    throw new UnsupportedPatternError(
      `Only LogFormat JSON is supported, got ${String(rule.LogFormat)}`,
    );
  }
  const logGroupNames = stringArray(rule.LogGroupNames, 'LogGroupNames', Number.POSITIVE_INFINITY);
  const contribution = rule.Contribution;
  if (!isRecord(contribution)) throw new PatternSyntaxError('Contribution must be an object');
  onlyKeys(contribution, ['Keys', 'ValueOf', 'Filters'], 'Contribution');
  const keys = stringArray(contribution.Keys, 'Keys', 4);
  for (const key of keys) parseSelector(key);
  if (rule.AggregateOn !== 'Count' && rule.AggregateOn !== 'Sum') {
    throw new PatternSyntaxError('AggregateOn must be Count or Sum');
  }
  let valueField: string | undefined;
  if (contribution.ValueOf !== undefined) {
    if (rule.AggregateOn !== 'Sum' || typeof contribution.ValueOf !== 'string') {
      throw new PatternSyntaxError('ValueOf is a field, given only with AggregateOn Sum');
    }
    valueField = contribution.ValueOf;
    parseSelector(valueField);
  } else if (rule.AggregateOn === 'Sum') {
    throw new PatternSyntaxError('AggregateOn Sum needs ValueOf');
  }
  const rawFilters = contribution.Filters ?? [];
  if (!Array.isArray(rawFilters) || rawFilters.length > 4) {
    throw new PatternSyntaxError('Filters must be an array of at most four filters');
  }
  const filters = rawFilters.map((raw): RuleFilter => {
    if (!isRecord(raw) || typeof raw.Match !== 'string')
      throw new PatternSyntaxError('Each filter has a Match field');
    onlyKeys(raw, ['Match', ...FILTER_OPERATORS], 'a filter');
    parseSelector(raw.Match);
    const ops = FILTER_OPERATORS.filter((op) => op in raw);
    const op = ops[0];
    if (op === undefined || ops.length !== 1)
      throw new PatternSyntaxError('Each filter has exactly one operator');
    const operand = raw[op];
    if (op === 'In' || op === 'NotIn' || op === 'StartsWith') {
      return { Match: raw.Match, op, values: stringArray(operand, op, 10) };
    }
    if (op === 'IsPresent') {
      if (typeof operand !== 'boolean')
        throw new PatternSyntaxError('IsPresent takes true or false');
      return { Match: raw.Match, op, present: operand };
    }
    if (typeof operand !== 'number') {
      throw new UnsupportedPatternError(`${op} with a non-numeric operand is not documented`);
    }
    return { Match: raw.Match, op, value: operand };
  });
  return {
    logGroupNames,
    keys,
    filters,
    aggregateOn: rule.AggregateOn,
    ...(valueField === undefined ? {} : { valueField }),
  };
}

/** Does the rule read this log group? A trailing `*` in LogGroupNames is a prefix match. */
export function ruleReadsLogGroup(rule: InsightRule, logGroupName: string): boolean {
  return rule.logGroupNames.some((name) =>
    name.endsWith('*') ? logGroupName.startsWith(name.slice(0, -1)) : name === logGroupName,
  );
}

function filterMatches(filter: RuleFilter, event: Json): boolean {
  const value = resolve(event, parseSelector(filter.Match));
  if (filter.op === 'IsPresent') {
    if (value !== ABSENT && value !== null && typeof value === 'object') {
      throw new UnsupportedPatternError(`IsPresent works only on leaf values: ${filter.Match}`);
    }
    return (value !== ABSENT) === filter.present;
  }
  if (value === ABSENT) {
    // An absent field is in no list, starts with nothing and compares with no number; whether it
    // is "not in" a list, or "not equal to" a number, the docs do not say.
    if (filter.op === 'NotIn' || filter.op === 'NotEqualTo') {
      throw new UnsupportedPatternError(
        `${filter.op} on an absent field is undocumented: ${filter.Match}`,
      );
    }
    return false;
  }
  switch (filter.op) {
    case 'In':
    case 'NotIn':
    case 'StartsWith': {
      if (typeof value !== 'string') {
        throw new UnsupportedPatternError(
          `${filter.op} on ${describe(value)} is undocumented: ${filter.Match}`,
        );
      }
      if (filter.op === 'StartsWith')
        return filter.values.some((prefix) => value.startsWith(prefix));
      return filter.values.includes(value) === (filter.op === 'In');
    }
    default: {
      if (typeof value !== 'number') {
        throw new UnsupportedPatternError(
          `${filter.op} on ${describe(value)} is undocumented: ${filter.Match}`,
        );
      }
      if (filter.op === 'GreaterThan') return value > filter.value;
      if (filter.op === 'LessThan') return value < filter.value;
      if (filter.op === 'EqualTo') return value === filter.value;
      return value !== filter.value;
    }
  }
}

/** Does the event pass every filter of the rule (they are ANDed)? Non-JSON lines never do. */
export function ruleMatches(rule: InsightRule, line: string): boolean {
  const event = parseJsonEvent(line);
  return event !== undefined && rule.filters.every((filter) => filterMatches(filter, event));
}

/** One contributor: its key values, in the order of the rule's Keys, and its aggregate. */
export interface Contributor {
  readonly keys: readonly string[];
  readonly value: number;
}

/**
 * Aggregate log events of one log group as the rule would: contributors sorted by value,
 * largest first. Returns nothing when the rule does not read `logGroupName`.
 */
export function evaluateInsightRule(
  rule: InsightRule,
  logGroupName: string,
  lines: readonly string[],
): Contributor[] {
  if (!ruleReadsLogGroup(rule, logGroupName)) return [];
  const totals = new Map<string, Contributor>();
  for (const line of lines) {
    const event = parseJsonEvent(line);
    if (event === undefined || !rule.filters.every((filter) => filterMatches(filter, event)))
      continue;
    const keys = rule.keys.map((key) => {
      const value = resolve(event, parseSelector(key));
      if (typeof value !== 'string') {
        throw new UnsupportedPatternError(
          `Key ${key} is ${describe(value)}; only string keys are supported`,
        );
      }
      return value;
    });
    let amount = 1;
    if (rule.aggregateOn === 'Sum') {
      const value = resolve(event, parseSelector(rule.valueField as string));
      if (typeof value !== 'number') {
        throw new UnsupportedPatternError(
          `ValueOf ${rule.valueField} is ${describe(value)}, not a number`,
        );
      }
      amount = value;
    }
    const id = JSON.stringify(keys);
    totals.set(id, { keys, value: (totals.get(id)?.value ?? 0) + amount });
  }
  return [...totals.values()].sort((a, b) => b.value - a.value);
}
