/**
 * The stage's AWS WAF web ACL, as far as its rules can be evaluated here: rules in priority
 * order, the first terminating action wins, else the default action. Modelled statements:
 * rate-based (per IP, with a scope-down), regex and byte matches on the URI path or a single
 * header, size constraints on a single header, AND/OR/NOT; the text transformations
 * URL_DECODE, NORMALIZE_PATH, LOWERCASE and NONE; Block with or without a custom response.
 * A managed rule group (AWS's own rules, not public) is evaluated as matching nothing, and
 * says so once at start: the emulator cannot know what AWS's rule set blocks.
 *
 * Rate-based rules: AWS counts requests over a window (5 minutes by default) and starts
 * blocking "usually below 30 seconds" after the limit is passed; here blocking starts with the
 * first request over the limit, the strict end of that range.
 * https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html
 */
import type { HeaderList } from './header-rules';
import { UnsupportedTemplateError } from './template';

export interface WafRequest {
  readonly sourceIp: string;
  readonly method: string;
  readonly uriPath: string;
  readonly headers: HeaderList;
}

export interface WafVerdict {
  readonly action: 'allow' | 'block';
  readonly rule?: string;
  /** 200 for an allow, 403 for a plain block, the custom code otherwise. */
  readonly statusCode: number;
  /** A custom response, when the Block action has one. */
  readonly response?: {
    readonly statusCode: number;
    readonly headers: HeaderList;
    readonly body: string;
  };
}

export interface Waf {
  evaluate(request: WafRequest): WafVerdict;
}

type Statement = Record<string, unknown>;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  TEXT_PLAIN: 'text/plain',
  TEXT_HTML: 'text/html',
  APPLICATION_JSON: 'application/json',
};

function transform(
  value: string,
  transformations: readonly { Priority: number; Type: string }[],
): string {
  let out = value;
  for (const { Type } of [...transformations].sort((a, b) => a.Priority - b.Priority)) {
    switch (Type) {
      case 'NONE':
        break;
      case 'URL_DECODE':
        try {
          out = decodeURIComponent(out);
        } catch {
          // a malformed escape stays as it is
        }
        break;
      case 'LOWERCASE':
        out = out.replace(/[A-Z]/g, (c) => c.toLowerCase());
        break;
      case 'NORMALIZE_PATH': {
        // "Remove multiple slashes, directory self-references, and directory back-references
        // that are not at the beginning of the input".
        const parts: string[] = [];
        for (const part of out.replace(/\/{2,}/g, '/').split('/')) {
          if (part === '.') continue;
          if (part === '..' && parts.length > 1) parts.pop();
          else parts.push(part);
        }
        out = parts.join('/');
        break;
      }
      default:
        throw new UnsupportedTemplateError(`WAF text transformation ${Type} is not modelled`);
    }
  }
  return out;
}

export class WebAcl implements Waf {
  readonly #rules: readonly Statement[];
  readonly #defaultAction: Statement;
  readonly #bodies: Readonly<Record<string, { ContentType: string; Content: string }>>;
  readonly #now: () => number;
  /** Per rule, per IP: the times of counted requests within the window. */
  readonly #windows = new Map<string, Map<string, number[]>>();
  /** Managed rule groups evaluated as matching nothing. */
  readonly unmodelled: string[] = [];

  constructor(properties: Statement, now: () => number = Date.now) {
    this.#rules = [...((properties.Rules as Statement[] | undefined) ?? [])].sort(
      (a, b) => Number(a.Priority) - Number(b.Priority),
    );
    this.#defaultAction = (properties.DefaultAction as Statement | undefined) ?? { Allow: {} };
    this.#bodies =
      (properties.CustomResponseBodies as
        | Record<string, { ContentType: string; Content: string }>
        | undefined) ?? {};
    this.#now = now;
    this.#checkAction(this.#defaultAction, 'the default action');
    for (const rule of this.#rules) {
      const name = String(rule.Name);
      this.#check(rule.Statement as Statement, name);
      if (rule.Action !== undefined) this.#checkAction(rule.Action as Statement, `rule ${name}`);
    }
  }

  /**
   * Allow, Block and Count are modelled; CAPTCHA and Challenge (a browser puzzle) and a custom
   * request's inserted `x-amzn-waf-` headers are not: refused, not silently passed.
   */
  #checkAction(action: Statement, where: string): void {
    const [kind, body] = Object.entries(action)[0] ?? [];
    if (kind !== 'Allow' && kind !== 'Block' && kind !== 'Count') {
      throw new UnsupportedTemplateError(
        `WAF ${where}: the ${String(kind)} action is not modelled`,
      );
    }
    if ((body as Statement | undefined)?.CustomRequestHandling !== undefined) {
      throw new UnsupportedTemplateError(
        `WAF ${where}: custom request handling (inserted x-amzn-waf- headers) is not modelled`,
      );
    }
  }

  /** Refuse, at start, a statement this evaluator does not know. */
  #check(statement: Statement, rule: string): void {
    const [kind, body] = Object.entries(statement)[0] as [string, Statement];
    switch (kind) {
      case 'RateBasedStatement':
        if (body.AggregateKeyType !== 'IP') {
          throw new UnsupportedTemplateError(
            `WAF rule ${rule}: rate-based aggregation ${String(body.AggregateKeyType)} is not modelled`,
          );
        }
        if (body.ScopeDownStatement !== undefined)
          this.#check(body.ScopeDownStatement as Statement, rule);
        return;
      case 'ManagedRuleGroupStatement':
        this.unmodelled.push(`${rule} (${String(body.VendorName)} ${String(body.Name)})`);
        return;
      case 'AndStatement':
      case 'OrStatement':
        for (const sub of body.Statements as Statement[]) this.#check(sub, rule);
        return;
      case 'NotStatement':
        this.#check(body.Statement as Statement, rule);
        return;
      case 'RegexMatchStatement':
      case 'ByteMatchStatement':
      case 'SizeConstraintStatement': {
        const field = Object.keys(body.FieldToMatch as Statement)[0];
        if (field !== 'UriPath' && field !== 'SingleHeader' && field !== 'Method') {
          throw new UnsupportedTemplateError(`WAF rule ${rule}: matching ${field} is not modelled`);
        }
        transform('', (body.TextTransformations as { Priority: number; Type: string }[]) ?? []);
        return;
      }
      default:
        throw new UnsupportedTemplateError(`WAF rule ${rule}: ${kind} is not modelled`);
    }
  }

  #field(statement: Statement, request: WafRequest): string | undefined {
    const field = statement.FieldToMatch as Statement;
    if (field.UriPath !== undefined) return request.uriPath;
    if (field.Method !== undefined) return request.method;
    const name = String((field.SingleHeader as { Name: string }).Name).toLowerCase();
    return request.headers.find(([header]) => header.toLowerCase() === name)?.[1];
  }

  #matches(statement: Statement, request: WafRequest, rule: string): boolean {
    const [kind, body] = Object.entries(statement)[0] as [string, Statement];
    const transformations =
      (body.TextTransformations as { Priority: number; Type: string }[]) ?? [];
    switch (kind) {
      case 'ManagedRuleGroupStatement':
        return false;
      case 'AndStatement':
        return (body.Statements as Statement[]).every((s) => this.#matches(s, request, rule));
      case 'OrStatement':
        return (body.Statements as Statement[]).some((s) => this.#matches(s, request, rule));
      case 'NotStatement':
        return !this.#matches(body.Statement as Statement, request, rule);
      case 'RegexMatchStatement': {
        const value = this.#field(body, request);
        return (
          value !== undefined &&
          new RegExp(String(body.RegexString)).test(transform(value, transformations))
        );
      }
      case 'ByteMatchStatement': {
        const value = this.#field(body, request);
        if (value === undefined) return false;
        const target = String(body.SearchString);
        const subject = transform(value, transformations);
        switch (body.PositionalConstraint) {
          case 'EXACTLY':
            return subject === target;
          case 'STARTS_WITH':
            return subject.startsWith(target);
          case 'ENDS_WITH':
            return subject.endsWith(target);
          default:
            return subject.includes(target);
        }
      }
      case 'SizeConstraintStatement': {
        // "the byte length of the header value after transformations"; a missing header never
        // matches.
        const value = this.#field(body, request);
        if (value === undefined) return false;
        const size = Buffer.byteLength(transform(value, transformations));
        const limit = Number(body.Size);
        return {
          EQ: size === limit,
          NE: size !== limit,
          LE: size <= limit,
          LT: size < limit,
          GE: size >= limit,
          GT: size > limit,
        }[String(body.ComparisonOperator)] as boolean;
      }
      case 'RateBasedStatement': {
        if (
          body.ScopeDownStatement !== undefined &&
          !this.#matches(body.ScopeDownStatement as Statement, request, rule)
        ) {
          return false;
        }
        const windowMs = Number(body.EvaluationWindowSec ?? 300) * 1000;
        const now = this.#now();
        let perIp = this.#windows.get(rule);
        if (perIp === undefined) {
          perIp = new Map();
          this.#windows.set(rule, perIp);
        }
        const times = (perIp.get(request.sourceIp) ?? []).filter((t) => t > now - windowMs);
        times.push(now);
        perIp.set(request.sourceIp, times);
        return times.length > Number(body.Limit);
      }
      default:
        return false;
    }
  }

  evaluate(request: WafRequest): WafVerdict {
    for (const rule of this.#rules) {
      const name = String(rule.Name);
      if (!this.#matches(rule.Statement as Statement, request, name)) continue;
      const action = rule.Action as Statement | undefined;
      if (action?.Allow !== undefined) return { action: 'allow', rule: name, statusCode: 200 };
      if (action?.Block !== undefined) return this.#block(action.Block as Statement, name);
      // Count (or a rule group's override): keep going.
    }
    if (this.#defaultAction.Block !== undefined) {
      return this.#block(this.#defaultAction.Block as Statement, undefined);
    }
    return { action: 'allow', statusCode: 200 };
  }

  /**
   * A Block: 403, or the custom response ("Your custom response replaces the default Block
   * action response of 403 (Forbidden)"), its headers named as configured (only inserted
   * request headers get the `x-amzn-waf-` prefix, CustomHTTPHeader), its Content-Type from the
   * body's ContentType ("You can specify any header name except for content-type").
   * https://docs.aws.amazon.com/waf/latest/developerguide/customizing-the-response-for-blocked-requests.html
   */
  #block(block: Statement, rule: string | undefined): WafVerdict {
    const named = rule === undefined ? {} : { rule };
    const custom = block.CustomResponse as Statement | undefined;
    if (custom === undefined) return { action: 'block', ...named, statusCode: 403 };
    const key = custom.CustomResponseBodyKey as string | undefined;
    const body = key === undefined ? undefined : this.#bodies[key];
    const headers: HeaderList = (
      (custom.ResponseHeaders as { Name: string; Value: string }[]) ?? []
    ).map(({ Name, Value }) => [Name, Value]);
    if (body !== undefined) {
      headers.push(['Content-Type', CONTENT_TYPES[body.ContentType] ?? 'text/plain']);
    }
    const statusCode = Number(custom.ResponseCode);
    return {
      action: 'block',
      ...named,
      statusCode,
      response: { statusCode, headers, body: body?.Content ?? '' },
    };
  }
}
