/**
 * Header lookup on API Gateway events, whatever the case of the name: API Gateway keeps the
 * client's case, puts every value in `multiValueHeaders` and only the last in `headers`.
 */

/** The two header maps of a REST proxy or REQUEST authorizer event. */
export interface HeaderMaps {
  readonly headers?: Record<string, string | undefined> | null;
  readonly multiValueHeaders?: Record<string, string[] | undefined> | null;
}

/** Every distinct value of a header in either map. */
export function headerValues(event: HeaderMaps, name: string): string[] {
  const wanted = name.toLowerCase();
  const values = new Set<string>();
  for (const [key, list] of Object.entries(event.multiValueHeaders ?? {})) {
    if (key.toLowerCase() === wanted) for (const value of list ?? []) values.add(value);
  }
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) values.add(value);
  }
  return [...values];
}

/** One value of a header: the one in `headers`, else the first in `multiValueHeaders`. */
export function getHeader(event: HeaderMaps, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  for (const [key, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (key.toLowerCase() === wanted && values?.[0] !== undefined) return values[0];
  }
  return undefined;
}
