/**
 * Request validation of a method with a validator ("Use request validation in API Gateway"):
 * required request parameters present and not blank, and a body that matches the JSON schema
 * (draft 4) of the model for the request's content type. "If no matching content type is
 * found, request validation is not performed"; a request without a Content-Type is taken as
 * `application/json`, as API Gateway does for mapping.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html
 *
 * The schema keywords the stack's models use are evaluated; a model using any other keyword
 * stops the emulator at start (`checkSchema`), since its answer could differ from AWS's.
 */
import { UnsupportedTemplateError } from './template';

const KEYWORDS = new Set([
  '$schema',
  'title',
  'description',
  'type',
  'required',
  'properties',
  'enum',
  'items',
]);

export function checkSchema(schema: unknown, where: string): void {
  if (schema === null || typeof schema !== 'object') return;
  for (const [key, value] of Object.entries(schema)) {
    if (!KEYWORDS.has(key)) {
      throw new UnsupportedTemplateError(`${where}: JSON schema keyword ${key} is not modelled`);
    }
    if (key === 'properties') {
      for (const [name, sub] of Object.entries(value as Record<string, unknown>))
        checkSchema(sub, `${where}.${name}`);
    }
    if (key === 'items') checkSchema(value, `${where}[]`);
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The first way `value` fails `schema`, or `undefined` when it matches. */
export function schemaProblem(schema: unknown, value: unknown, path = '$'): string | undefined {
  if (schema === null || typeof schema !== 'object') return undefined;
  const s = schema as Record<string, unknown>;
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    const actual = typeOf(value);
    const ok = types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
    if (!ok)
      return `instance type (${actual}) does not match any allowed primitive type (allowed: ${JSON.stringify(types)}) at ${path}`;
  }
  if (
    Array.isArray(s.enum) &&
    !s.enum.some((item) => JSON.stringify(item) === JSON.stringify(value))
  ) {
    return `instance value (${JSON.stringify(value)}) not found in enum at ${path}`;
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    for (const name of (s.required as string[] | undefined) ?? []) {
      if (!Object.hasOwn(object, name))
        return `object has missing required properties (["${name}"]) at ${path}`;
    }
    for (const [name, sub] of Object.entries(
      (s.properties as Record<string, unknown> | undefined) ?? {},
    )) {
      if (Object.hasOwn(object, name)) {
        const problem = schemaProblem(sub, object[name], `${path}.${name}`);
        if (problem !== undefined) return problem;
      }
    }
  }
  if (Array.isArray(value) && s.items !== undefined) {
    for (const [i, item] of value.entries()) {
      const problem = schemaProblem(s.items, item, `${path}[${i}]`);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

/** The model a request's body is validated against, if any. */
export function modelFor(
  models: Readonly<Record<string, unknown>>,
  contentType: string | undefined,
): unknown {
  const type = (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  for (const [key, schema] of Object.entries(models)) if (key.toLowerCase() === type) return schema;
  return models.$default;
}

/** Why a body fails its model: not JSON, or the schema's first complaint. */
export function bodyProblem(schema: unknown, body: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body === '' ? 'null' : body);
  } catch {
    return 'Invalid JSON';
  }
  return schemaProblem(schema, value);
}
