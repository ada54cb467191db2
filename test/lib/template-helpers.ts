/**
 * Small helpers for reading a synthesised template in the construct tests.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';

export type Properties = Record<string, unknown>;
export interface Resource {
  readonly Type: string;
  readonly Properties: Properties;
}

/** Resources of `type`, optionally those whose properties match `props`, by logical id. */
export function resourcesOf(template: Template, type: string, props?: Properties) {
  return template.findResources(
    type,
    props === undefined ? undefined : { Properties: props },
  ) as Record<string, Resource>;
}

/** The logical id of the one resource of `type` matching `props`; fails unless exactly one. */
export function onlyId(template: Template, type: string, props?: Properties): string {
  const ids = Object.keys(resourcesOf(template, type, props));
  expect(ids, `exactly one ${type}`).toHaveLength(1);
  return ids[0] as string;
}

/**
 * A template value as text: `Ref` as `<Id>`, `Fn::GetAtt` as `<Id.Attr>`, `Fn::Join` joined;
 * enough to read JSON bodies and URLs that embed references.
 */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if (typeof node.Ref === 'string') return `<${node.Ref}>`;
    const getAtt = node['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
    const join = node['Fn::Join'];
    if (Array.isArray(join)) {
      const [separator, parts] = join as [string, unknown[]];
      return parts.map(render).join(separator);
    }
  }
  throw new Error(`Cannot render ${JSON.stringify(value)}`);
}
