/**
 * Request validation: the model chosen by the request's content type, the draft-4 keywords the
 * stack's models use, and the refusal of any other keyword at start.
 */
import { describe, expect, it } from 'vitest';
import {
  bodyProblem,
  checkSchema,
  modelFor,
  schemaProblem,
} from '../../../../../tools/local/emulator/request-model';
import { UnsupportedTemplateError } from '../../../../../tools/local/emulator/template';

const JSON_RPC = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  type: 'object',
  required: ['jsonrpc'],
  properties: { jsonrpc: { type: 'string', enum: ['2.0'] }, id: { type: ['string', 'integer'] } },
};

describe('the model a body is validated against', () => {
  const models = { 'application/json': JSON_RPC };

  it('is the one of the request content type, its parameters and case aside', () => {
    expect(modelFor(models, 'Application/JSON; charset=utf-8')).toBe(JSON_RPC);
  });

  it('is application/json when the request has no Content-Type', () => {
    expect(modelFor(models, undefined)).toBe(JSON_RPC);
  });

  it('is none for a content type without a model: "request validation is not performed"', () => {
    expect(modelFor(models, 'text/plain')).toBeUndefined();
  });

  it('is $default for any content type when the template sets it', () => {
    expect(modelFor({ $default: JSON_RPC }, 'text/plain')).toBe(JSON_RPC);
  });
});

describe('a body against its schema', () => {
  it.each([
    ['a matching message', '{"jsonrpc":"2.0","id":1}', undefined],
    ['a missing required property', '{"id":1}', /missing required properties \(\["jsonrpc"\]\)/],
    ['a value outside the enum', '{"jsonrpc":"1.0"}', /not found in enum at \$\.jsonrpc/],
    [
      'a value of the wrong type',
      '{"jsonrpc":"2.0","id":1.5}',
      /instance type \(number\) .* at \$\.id/,
    ],
    ['an array where an object is due', '[{"jsonrpc":"2.0"}]', /instance type \(array\)/],
    ['no body at all', '', /instance type \(null\)/],
    ['text that is not JSON', '{', /Invalid JSON/],
  ])('%s', (_name, body, problem) => {
    const found = bodyProblem(JSON_RPC, body);

    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  it('checks each item of an array against items', () => {
    expect(schemaProblem({ type: 'array', items: { type: 'integer' } }, [1, 'x'])).toMatch(
      /at \$\[1\]/,
    );
  });
});

describe('a schema keyword the validator does not evaluate', () => {
  it('is refused at start, nested ones too', () => {
    expect(() => checkSchema({ properties: { a: { minLength: 1 } } }, 'Model')).toThrow(
      UnsupportedTemplateError,
    );
    expect(() => checkSchema({ properties: { a: { minLength: 1 } } }, 'Model')).toThrow(
      /Model\.a: JSON schema keyword minLength/,
    );
  });
});
