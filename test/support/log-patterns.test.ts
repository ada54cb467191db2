/**
 * The offline evaluator of metric filter patterns and Contributor Insights rules
 * (log-patterns.ts), held to the examples of the AWS docs: the monitoring tests that run the
 * deployed patterns against real records are only as good as it.
 */
import { describe, expect, it } from 'vitest';
import {
  compileFilterPattern,
  evaluateInsightRule,
  PatternSyntaxError,
  parseInsightRule,
  UnsupportedPatternError,
} from './log-patterns';

describe('the log-pattern evaluator, on the examples of the AWS docs', () => {
  /** The JSON event of "Filter pattern syntax for metric filters". */
  const trail = JSON.stringify({
    eventType: 'UpdateTrail',
    sourceIPAddress: '111.111.111.111',
    arrayKey: ['value', 'another value'],
    objectList: [
      { name: 'a', id: 1 },
      { name: 'b', id: 2 },
    ],
    SomeObject: null,
    ThisFlag: true,
  });
  /** The JSON event of its compound-conditions section. */
  const users = JSON.stringify({
    user: { id: 1, email: 'John.Stiles@example.com' },
    users: [
      { id: 2, email: 'John.Doe@example.com' },
      { id: 3, email: 'Jane.Doe@example.com' },
    ],
    actions: ['GET', 'PUT', 'DELETE'],
    coordinates: [
      [0, 1, 2],
      [4, 5, 6],
      [7, 8, 9],
    ],
  });

  it.each([
    { pattern: '{ $.eventType = "UpdateTrail" }', event: trail, matches: true },
    { pattern: '{ $.sourceIPAddress != 123.123.* }', event: trail, matches: true },
    { pattern: '{ $.arrayKey[0] = "value" }', event: trail, matches: true },
    { pattern: '{ $.objectList[1].id = 2 }', event: trail, matches: true },
    { pattern: '{ $.SomeObject IS NULL }', event: trail, matches: true },
    { pattern: '{ $.SomeOtherObject NOT EXISTS }', event: trail, matches: true },
    { pattern: '{ $.ThisFlag IS TRUE }', event: trail, matches: true },
    { pattern: '{ $.eventType = "*Trail" }', event: trail, matches: true },
    { pattern: '{ $.eventType = "Delete*" }', event: trail, matches: false },
    { pattern: '{ $.arrayKey = "value" }', event: trail, matches: false },
    { pattern: '{ $.arrayKey != "value" }', event: trail, matches: false },
    {
      pattern: '{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }',
      event: users,
      matches: true,
    },
    {
      pattern: '{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }',
      event: users,
      matches: false,
    },
    {
      pattern:
        '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }',
      event: users,
      matches: true,
    },
    {
      pattern:
        '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }',
      event: users,
      matches: false,
    },
    { pattern: '{ $.user.id >= 1 && $.user.id < 10e3 }', event: users, matches: true },
    { pattern: '{ $.user.id > +1 }', event: users, matches: false },
    {
      pattern: '{ $.eventType = "UpdateTrail" }',
      event: 'UpdateTrail, but not JSON',
      matches: false,
    },
  ])('evaluates $pattern as the docs do', ({ pattern, event, matches }) => {
    // Act
    const result = compileFilterPattern(pattern).matches(event);

    // Assess
    expect(result).toBe(matches);
  });

  it.each([
    { pattern: 'ERROR', why: 'term patterns' },
    { pattern: '[ip, user, status_code = 4*]', why: 'space-delimited patterns' },
    { pattern: '{ $.eventType = "Up*Trail" }', why: 'a wildcard inside a string' },
    { pattern: '{ $.eventType EXISTS }', why: 'an undocumented operator' },
    { pattern: '{ $.objectList[0].id = "1" }', why: 'a number compared with a string' },
    { pattern: '{ $.missing != "x" }', why: "'!=' on an absent field" },
    { pattern: '{ $.eventType IS TRUE }', why: 'IS TRUE on a string' },
  ])('refuses $why rather than guess', ({ pattern }) => {
    // Act
    const evaluate = () => compileFilterPattern(pattern).matches(trail);

    // Assess
    expect(evaluate).toThrow(UnsupportedPatternError);
  });

  it('aggregates the documented Contributor Insights rule per key, over matching log groups only', () => {
    // Prepare: the JSON example of "Contributor Insights rule syntax".
    const exampleRule = parseInsightRule({
      Schema: { Name: 'CloudWatchLogRule', Version: 1 },
      LogGroupNames: ['API-Gateway-Access-Logs*', 'Log-group-name2'],
      LogFormat: 'JSON',
      Contribution: {
        Keys: ['$.ip'],
        ValueOf: '$.requestBytes',
        Filters: [{ Match: '$.httpMethod', In: ['PUT'] }],
      },
      AggregateOn: 'Sum',
    });
    const accessLog = [
      { ip: '198.51.100.1', requestBytes: 10, httpMethod: 'PUT' },
      { ip: '198.51.100.1', requestBytes: 5, httpMethod: 'PUT' },
      { ip: '198.51.100.2', requestBytes: 7, httpMethod: 'GET' },
      { ip: '198.51.100.2', requestBytes: 3, httpMethod: 'PUT' },
    ].map((event) => JSON.stringify(event));

    // Act
    const prefixed = evaluateInsightRule(exampleRule, 'API-Gateway-Access-Logs-prod', accessLog);
    const unrelated = evaluateInsightRule(exampleRule, 'Log-group-name', accessLog);

    // Assess
    expect(prefixed).toEqual([
      { keys: ['198.51.100.1'], value: 15 },
      { keys: ['198.51.100.2'], value: 3 },
    ]);
    expect(unrelated).toEqual([]);
  });

  it.each([
    { why: 'a CLF rule', error: UnsupportedPatternError, change: { LogFormat: 'CLF' } },
    {
      why: 'five keys',
      error: PatternSyntaxError,
      change: { Contribution: { Keys: ['$.a', '$.b', '$.c', '$.d', '$.e'] } },
    },
    {
      why: 'a wrong schema',
      error: PatternSyntaxError,
      change: { Schema: { Name: 'CloudWatchLogRule', Version: 2 } },
    },
    {
      why: 'a filter with two operators',
      error: PatternSyntaxError,
      change: {
        Contribution: { Keys: ['$.a'], Filters: [{ Match: '$.b', In: ['x'], NotIn: ['y'] }] },
      },
    },
  ])('refuses $why', ({ error, change }) => {
    // Prepare
    const body = {
      Schema: { Name: 'CloudWatchLogRule', Version: 1 },
      LogGroupNames: ['group'],
      LogFormat: 'JSON',
      Contribution: { Keys: ['$.a'] },
      AggregateOn: 'Count',
      ...change,
    };

    // Act
    const parse = () => parseInsightRule(body);

    // Assess
    expect(parse).toThrow(error);
  });
});
