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

export type Statement = {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};

export const actionsOf = (statement: Statement) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/** The one Lambda of a template whose Powertools service is `service`. */
export function functionOf(template: Template, service: string) {
  const entries = Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).filter(
    ([, fn]) =>
      (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables
        .POWERTOOLS_SERVICE_NAME === service,
  );
  expect(entries, `one function for ${service}`).toHaveLength(1);
  const [id, fn] = entries[0] as [string, Resource];
  const role = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return {
    id,
    role,
    variables: (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
  };
}

/** The identity-policy statements attached to a role. */
export function roleStatements(template: Template, role: string): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${role}"`))
    .flatMap(
      (policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    );
}
