/**
 * Checks of a rule that Cedar's validator cannot make, because Cedar's types do not hold the
 * facts: a comparison with a value the item's schema never gives (`context.input.segment ==
 * "Enterprise"` where the enum is lower-case), a bound the schema already rules out
 * (`context.input.limit > 50` where the maximum is 50), a group no role of the deployment is
 * named (`"Analyst"`), a claim the authorizer does not hand on. Each is a rule that can never
 * match as written: a `forbid` that silently lets everything through. Pure: walks Cedar's JSON
 * form of a policy (`policyToJson`).
 */

/** What a rule is checked against. */
export interface LiteralFacts {
  /** The JSON Schemas of `context.input` of each action the rule may apply to. */
  readonly inputs: readonly unknown[];
  /** The deployment's roles (the groups `principal.groups` can usefully hold). */
  readonly roles?: readonly string[];
  /** The claims the authorizer hands on as tags (`-c ruleClaims`). */
  readonly claims?: readonly string[];
}

type Json = unknown;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The attribute path of `context.input.a.b` (`["a", "b"]`), or undefined for anything else. */
function inputPath(expr: Json): string[] | undefined {
  const path: string[] = [];
  let node = expr;
  while (isObject(node) && isObject(node['.'])) {
    const access = node['.'] as { left: Json; attr: string };
    path.unshift(access.attr);
    node = access.left;
  }
  if (!isObject(node) || node.Var !== 'context' || path[0] !== 'input' || path.length < 2) {
    return undefined;
  }
  return path.slice(1);
}

/** `principal.<attr>`, or undefined. */
function principalAttr(expr: Json): string | undefined {
  if (!isObject(expr) || !isObject(expr['.'])) return undefined;
  const { left, attr } = expr['.'] as { left: Json; attr: string };
  return isObject(left) && left.Var === 'principal' ? attr : undefined;
}

/** A literal value (string, number, boolean), or undefined. */
function literal(expr: Json): string | number | boolean | undefined {
  if (!isObject(expr) || !('Value' in expr)) return undefined;
  const value = expr.Value;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? value
    : undefined;
}

/** The literals of a set literal (`["a", "b"]`), or undefined when it holds anything else. */
function literalSet(expr: Json): (string | number | boolean)[] | undefined {
  if (!isObject(expr) || !Array.isArray(expr.Set)) return undefined;
  const values = expr.Set.map(literal);
  return values.every((value) => value !== undefined)
    ? (values as (string | number | boolean)[])
    : undefined;
}

/** `decimal("1.5")` as a number, or undefined. */
function decimalLiteral(expr: Json): number | undefined {
  if (!isObject(expr) || !Array.isArray(expr.decimal)) return undefined;
  const [argument] = expr.decimal;
  const text = literal(argument);
  return typeof text === 'string' ? Number(text) : undefined;
}

/** The JSON Schema at `path` of an input schema, or undefined when it has none there. */
function schemaAt(schema: Json, path: readonly string[]): Record<string, unknown> | undefined {
  let node = schema;
  for (const name of path) {
    if (!isObject(node) || !isObject(node.properties)) return undefined;
    node = (node.properties as Record<string, unknown>)[name];
  }
  return isObject(node) ? node : undefined;
}

const show = (value: unknown) => JSON.stringify(value);
const shown = (values: readonly unknown[]) => values.map(show).join(', ');

/** The values an attribute's schema allows, when it lists them (`enum`, `const`). */
function allowedValues(
  schema: Record<string, unknown> | undefined,
): readonly unknown[] | undefined {
  if (schema === undefined) return undefined;
  if (Array.isArray(schema.enum)) return schema.enum;
  if ('const' in schema) return [schema.const];
  return undefined;
}

/** The range a number attribute's schema allows, as `[low, high, lowOpen, highOpen]`. */
function rangeOf(schema: Record<string, unknown> | undefined) {
  if (schema === undefined || (schema.type !== 'integer' && schema.type !== 'number')) {
    return undefined;
  }
  const num = (value: unknown) => (typeof value === 'number' ? value : undefined);
  const low = num(schema.exclusiveMinimum) ?? num(schema.minimum);
  const high = num(schema.exclusiveMaximum) ?? num(schema.maximum);
  if (low === undefined && high === undefined) return undefined;
  return {
    low: low ?? Number.NEGATIVE_INFINITY,
    high: high ?? Number.POSITIVE_INFINITY,
    lowOpen: num(schema.exclusiveMinimum) !== undefined,
    highOpen: num(schema.exclusiveMaximum) !== undefined,
  };
}

type Comparison = '<' | '<=' | '>' | '>=';
const FLIPPED: Record<Comparison, Comparison> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
const DECIMAL_METHODS: Record<string, Comparison> = {
  lessThan: '<',
  lessThanOrEqual: '<=',
  greaterThan: '>',
  greaterThanOrEqual: '>=',
};

/** Whether `x <op> bound` can hold for some x in the range. */
function satisfiable(
  range: NonNullable<ReturnType<typeof rangeOf>>,
  op: Comparison,
  bound: number,
) {
  const { low, high, lowOpen, highOpen } = range;
  switch (op) {
    case '>':
      return high > bound;
    case '>=':
      return highOpen ? high > bound : high >= bound;
    case '<':
      return low < bound;
    case '<=':
      return lowOpen ? low < bound : low <= bound;
  }
}

function describeRange(range: NonNullable<ReturnType<typeof rangeOf>>): string {
  const low = Number.isFinite(range.low)
    ? `${range.lowOpen ? 'above' : 'at least'} ${range.low}`
    : '';
  const high = Number.isFinite(range.high)
    ? `${range.highOpen ? 'below' : 'at most'} ${range.high}`
    : '';
  return [low, high].filter((part) => part !== '').join(' and ');
}

/**
 * What is wrong with one rule (its JSON form), as messages; empty when nothing is. Each
 * message names the expression and what the schema, roles or claims allow instead.
 */
export function literalProblems(policy: Json, facts: LiteralFacts): string[] {
  const problems: string[] = [];
  const report = (message: string) => {
    if (!problems.includes(message)) problems.push(message);
  };

  /** Every input schema's facts at a path (only those that have the attribute). */
  const schemasAt = (path: readonly string[]) =>
    facts.inputs
      .map((schema) => schemaAt(schema, path))
      .filter((schema): schema is Record<string, unknown> => schema !== undefined);

  /** A value compared with (or looked for in) `context.input.<path>`. */
  const checkValue = (path: readonly string[], value: unknown, element = false) => {
    const schemas = schemasAt(path).map((schema) =>
      element && isObject(schema.items) ? (schema.items as Record<string, unknown>) : schema,
    );
    const lists = schemas.map(allowedValues);
    if (lists.length === 0 || lists.some((list) => list === undefined)) return;
    if (lists.some((list) => list?.includes(value))) return;
    const allowed = [...new Set(lists.flatMap((list) => [...(list ?? [])]))];
    report(
      `context.input.${path.join('.')} ${element ? 'never holds' : 'is never'} ${show(value)}: its schema allows only ${shown(allowed)}, so this comparison can never be true`,
    );
  };

  const checkBound = (path: readonly string[], op: Comparison, bound: number) => {
    for (const schema of schemasAt(path)) {
      const range = rangeOf(schema);
      if (range !== undefined && !satisfiable(range, op, bound)) {
        report(
          `context.input.${path.join('.')} ${op} ${bound} can never be true: its schema keeps it ${describeRange(range)}`,
        );
      }
    }
  };

  const checkGroup = (value: unknown) => {
    if (facts.roles === undefined || typeof value !== 'string' || facts.roles.includes(value)) {
      return;
    }
    report(
      `principal.groups never contains ${show(value)}: no role of this deployment is named so (roles: ${shown(facts.roles)}); names are matched exactly, case included (add it to modules/roles.ts, even with no permissions, if it is a group of its own)`,
    );
  };

  const checkTag = (value: unknown) => {
    if (facts.claims === undefined || typeof value !== 'string' || facts.claims.includes(value)) {
      return;
    }
    report(
      `the caller never has the tag ${show(value)}: the authorizer hands on only the claims named by -c ruleClaims (${facts.claims.length === 0 ? 'none' : shown(facts.claims)})`,
    );
  };

  const visit = (node: Json): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    if (!isObject(node)) return;
    for (const [op, args] of Object.entries(node)) {
      if (op === 'Value') continue;
      if ((op === '==' || op === '!=') && isObject(args)) {
        const { left, right } = args as { left: Json; right: Json };
        for (const [side, other] of [
          [left, right],
          [right, left],
        ] as const) {
          const path = inputPath(side);
          const value = literal(other);
          if (path !== undefined && value !== undefined) checkValue(path, value);
        }
      }
      if (op === 'contains' && isObject(args)) {
        const { left, right } = args as { left: Json; right: Json };
        const set = literalSet(left);
        const path = inputPath(right);
        if (set !== undefined && path !== undefined) {
          for (const value of set) checkValue(path, value);
        }
        const arrayPath = inputPath(left);
        const value = literal(right);
        if (arrayPath !== undefined && value !== undefined) checkValue(arrayPath, value, true);
        if (principalAttr(left) === 'groups') checkGroup(literal(right));
      }
      if ((op === 'containsAny' || op === 'containsAll') && isObject(args)) {
        const { left, right } = args as { left: Json; right: Json };
        for (const [side, other] of [
          [left, right],
          [right, left],
        ] as const) {
          const set = literalSet(other);
          if (set === undefined) continue;
          const path = inputPath(side);
          if (path !== undefined) for (const value of set) checkValue(path, value, true);
          if (principalAttr(side) === 'groups') for (const value of set) checkGroup(value);
        }
      }
      if ((op === 'hasTag' || op === 'getTag') && isObject(args)) {
        const { left, right } = args as { left: Json; right: Json };
        if (isObject(left) && left.Var === 'principal') checkTag(literal(right));
      }
      if (op in FLIPPED && isObject(args)) {
        const { left, right } = args as { left: Json; right: Json };
        const leftPath = inputPath(left);
        const rightPath = inputPath(right);
        const leftValue = literal(left) ?? decimalLiteral(left);
        const rightValue = literal(right) ?? decimalLiteral(right);
        if (leftPath !== undefined && typeof rightValue === 'number') {
          checkBound(leftPath, op as Comparison, rightValue);
        }
        if (rightPath !== undefined && typeof leftValue === 'number') {
          checkBound(rightPath, FLIPPED[op as Comparison], leftValue);
        }
      }
      if (op in DECIMAL_METHODS && Array.isArray(args)) {
        const [receiver, argument] = args as Json[];
        const path = inputPath(receiver);
        const bound = decimalLiteral(argument);
        if (path !== undefined && bound !== undefined) {
          checkBound(path, DECIMAL_METHODS[op] as Comparison, bound);
        }
      }
      visit(args);
    }
  };

  if (isObject(policy)) {
    visit(policy.conditions);
  }
  return problems;
}
