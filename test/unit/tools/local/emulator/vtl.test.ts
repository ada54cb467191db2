/**
 * The mapping-template subset: what CDK's CORS preflight for several origins writes (taken from
 * CDK itself, so a change in CDK's template shows here), and the refusal of the rest.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Cors, EndpointType, MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../../../../tools/local/emulator/template';
import { UnsupportedTemplateError } from '../../../../../tools/local/emulator/template';
import {
  checkTemplate,
  renderTemplate,
  type VtlInput,
} from '../../../../../tools/local/emulator/vtl';
import { type Served, serve, TestApi } from '../../../../support/test-api';

const ORIGINS = ['https://first.example', 'https://second.example', 'https://third.example'];

/** A REST API with CDK's CORS preflight for several origins on `/mcp`, synthesized by CDK. */
function cdkCorsTemplate(): CfnTemplate {
  const stack = new Stack(new App(), 'Cors');
  const api = new RestApi(stack, 'Api', {
    endpointTypes: [EndpointType.REGIONAL],
    cloudWatchRole: false,
  });
  api.root.addResource('mcp').addCorsPreflight({
    allowOrigins: ORIGINS,
    allowMethods: ['POST'],
    allowHeaders: [...Cors.DEFAULT_HEADERS, 'MCP-Protocol-Version'],
  });
  api.root.addMethod('GET', new MockIntegration());
  // The stack's template as it renders it, without a full synthesis (seconds here, for the
  // same resources).
  return (stack as unknown as { _toCloudFormation(): CfnTemplate })._toCloudFormation();
}

const input = (headers: Record<string, string>): VtlInput => ({ headers, query: {}, context: {} });

describe("CDK's preflight template for several origins", () => {
  let template: CfnTemplate;
  let preflight: string;
  beforeAll(() => {
    template = cdkCorsTemplate();
    const options = Object.values(template.Resources).find(
      (resource) =>
        resource.Type === 'AWS::ApiGateway::Method' &&
        resource.Properties?.HttpMethod === 'OPTIONS',
    );
    const integration = options?.Properties?.Integration as
      | { IntegrationResponses: { ResponseTemplates: Record<string, string> }[] }
      | undefined;
    preflight = integration?.IntegrationResponses[0]?.ResponseTemplates[
      'application/json'
    ] as string;
  });

  it('reflects an origin after the first that it lists', () => {
    const rendered = renderTemplate(preflight, input({ Origin: 'https://third.example' }));

    expect(rendered.headerOverrides).toEqual({
      'Access-Control-Allow-Origin': 'https://third.example',
    });
  });

  it('reads the lower-case origin header when Origin is not there (its second lookup)', () => {
    const rendered = renderTemplate(preflight, input({ origin: 'https://second.example' }));

    expect(rendered.headerOverrides).toEqual({
      'Access-Control-Allow-Origin': 'https://second.example',
    });
  });

  it('overrides nothing for an origin it does not list, or one that merely looks alike', () => {
    expect(
      renderTemplate(preflight, input({ Origin: 'https://evil.example' })).headerOverrides,
    ).toEqual({});
    expect(
      renderTemplate(preflight, input({ Origin: 'https://secondXexample' })).headerOverrides,
    ).toEqual({});
    expect(renderTemplate(preflight, input({})).headerOverrides).toEqual({});
  });

  describe('served by the emulator', () => {
    let served: Served;
    beforeAll(async () => {
      served = await serve(Object.assign(new TestApi(), { template: () => template }));
    });
    afterAll(() => served.stop());

    const preflightFrom = (origin: string) =>
      served.fetch('/mcp', {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
      });

    it('answers 204 with the first origin, Vary: Origin and the methods and headers CDK set', async () => {
      const response = await preflightFrom('https://first.example');

      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('https://first.example');
      expect(response.headers.get('vary')).toBe('Origin');
      expect(response.headers.get('access-control-allow-methods')).toBe('POST');
      expect(response.headers.get('access-control-allow-headers')).toContain(
        'MCP-Protocol-Version',
      );
    });

    it('answers a listed later origin with that origin', async () => {
      const response = await preflightFrom('https://second.example');

      expect(response.headers.get('access-control-allow-origin')).toBe('https://second.example');
    });

    it('answers an unlisted origin with the first origin, which the browser then refuses', async () => {
      const response = await preflightFrom('https://evil.example');

      expect(response.headers.get('access-control-allow-origin')).toBe('https://first.example');
    });
  });
});

describe('the modelled directives and expressions', () => {
  it('takes the first #if/#elseif/#else branch that holds', () => {
    const template = '#if($a == "1")\none\n#elseif($a == "2")\ntwo\n#else\nother\n#end\n';

    const outputs = ['1', '2', '3'].map(
      (a) =>
        renderTemplate(`#set($a = $input.params("a"))${template}`, {
          headers: {},
          query: { a },
          context: {},
        }).text,
    );

    expect(outputs).toEqual(['one\n', 'two\n', 'other\n']);
  });

  it('combines conditions with && and != and reads $context', () => {
    const rendered = renderTemplate(
      '#if($context.stage == "prod" && $context.stage != "dev")yes#end',
      {
        headers: {},
        query: {},
        context: { stage: 'prod' },
      },
    );

    expect(rendered.text).toBe('yes');
  });

  it('reads $input.params("x") from the query string before the headers', () => {
    const rendered = renderTemplate('#set($x = $input.params("x"))$x', {
      headers: { X: 'header' },
      query: { x: 'query' },
      context: {},
    });

    expect(rendered.text).toBe('query');
  });

  it('sets the response status with $context.responseOverride.status', () => {
    expect(
      renderTemplate('#set($context.responseOverride.status = "418")', input({})).statusOverride,
    ).toBe(418);
  });

  it('takes the newline after a directive alone on its line, as Velocity does', () => {
    expect(renderTemplate('#set($a = "x")\n$a\n', input({})).text).toBe('x\n');
  });
});

describe('what it does not model is refused at start', () => {
  it.each([
    ['#foreach', '#foreach($i in $list)$i#end', /directive #foreach/],
    ['$util', '$util.escapeJavaScript("x")', /reference \$util/],
    ['$input.json', '$input.json("$")', /reference \$input/],
    [
      'a #set of something else',
      '#set($context.foo = "x")',
      /#set of \$context\.foo is not modelled/,
    ],
    ['an unclosed #if', '#if("a" == "a")x', /#if without #end/],
    [
      'a method call in an expression',
      '#set($a = $input.params().header.keySet())',
      /expression .* is not modelled/,
    ],
  ])('%s', (_name, template, message) => {
    expect(() => checkTemplate(template, 'where')).toThrow(UnsupportedTemplateError);
    expect(() => checkTemplate(template, 'where')).toThrow(message);
  });
});
