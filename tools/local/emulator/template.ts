/**
 * A synthesized CloudFormation template as the emulator reads it, and its intrinsic functions
 * resolved the way CloudFormation would in one local "account": each resource gets the
 * physical id and attributes its type gives it in AWS (an execute-api id, a user pool id of
 * the form `<region>_<id>`, a secret ARN with its six-character suffix, a KMS key id that is a
 * UUID), so that what the template wires together (a table's name into a function's
 * environment, the API's URL into a gateway response) arrives as it would after `cdk deploy`.
 *
 * Ids are deterministic: the same template resolves the same way on every start, so what was
 * sealed or stored under them (`.local/`) keeps working across restarts.
 */
import { createHash } from 'node:crypto';

/** A resource as it appears in the template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly Condition?: string;
  readonly DependsOn?: string | string[];
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Description?: string }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Parameters?: Record<string, { readonly Type: string; readonly Default?: unknown }>;
}

/** The emulator cannot do what the template asks: it refuses to start, saying what. */
export class UnsupportedTemplateError extends Error {
  override readonly name = 'UnsupportedTemplateError';
}

/** The local account every template is resolved in. */
export interface LocalAccount {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly urlSuffix: string;
  readonly stackName: string;
  /** Physical ids fixed in advance, by logical id (e.g. the one user pool's id). */
  readonly fixedIds?: Readonly<Record<string, string>>;
}

export const DEFAULT_ACCOUNT = {
  region: 'us-east-1',
  accountId: '123456789012',
  partition: 'aws',
  urlSuffix: 'amazonaws.com',
} as const;

/** A short deterministic token from a logical id: lower-case letters and digits. */
function token(seed: string, length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789') {
  const digest = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphabet[(digest[i] as number) % alphabet.length];
  return out;
}

/** A UUID (v4-shaped) derived from a seed, as KMS key ids are. */
function uuidFrom(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** What CloudFormation names a resource that has no name property: `<stack>-<logical id>-<SUFFIX>`. */
function generatedName(account: LocalAccount, logicalId: string, maxLength = 255): string {
  const suffix = token(`${account.stackName}/${logicalId}`, 12).toUpperCase();
  const head = `${account.stackName}-${logicalId}`.slice(0, maxLength - suffix.length - 1);
  return `${head}-${suffix}`;
}

type Attribute = string | ((attribute: string) => string | undefined);

/**
 * The physical id (`Ref`) and attributes (`Fn::GetAtt`) of one resource. Types the emulator
 * never reads a value of get generic but stable values.
 */
function identify(
  account: LocalAccount,
  logicalId: string,
  resource: CfnResource,
  resolveProperty: (name: string) => unknown,
): { ref: string; attribute: Attribute } {
  const { region, accountId: acct, partition: p } = account;
  const fixed = account.fixedIds?.[logicalId];
  const named = (property: string, maxLength?: number) => {
    const value = resource.Properties?.[property];
    return value === undefined
      ? generatedName(account, logicalId, maxLength)
      : String(resolveProperty(property));
  };
  switch (resource.Type) {
    case 'AWS::ApiGateway::RestApi': {
      const id = fixed ?? token(`api/${logicalId}`, 10);
      return {
        ref: id,
        attribute: (attr) =>
          attr === 'RootResourceId' ? token(`root/${logicalId}`, 10) : undefined,
      };
    }
    case 'AWS::ApiGateway::Resource':
    case 'AWS::ApiGateway::Authorizer':
    case 'AWS::ApiGateway::Deployment':
    case 'AWS::ApiGateway::RequestValidator':
    case 'AWS::ApiGateway::GatewayResponse':
    case 'AWS::ApiGateway::Method':
      return {
        ref: fixed ?? token(`${resource.Type}/${logicalId}`, 6),
        attribute: () => undefined,
      };
    case 'AWS::ApiGateway::Stage':
      return { ref: String(resolveProperty('StageName')), attribute: () => undefined };
    case 'AWS::ApiGateway::Model':
      return { ref: named('Name'), attribute: () => undefined };
    case 'AWS::ApiGateway::DomainName': {
      const domain = String(resolveProperty('DomainName'));
      return {
        ref: domain,
        attribute: (attr) =>
          ({
            RegionalDomainName: `d-${token(`domain/${logicalId}`, 10)}.execute-api.${region}.${account.urlSuffix}`,
            RegionalHostedZoneId: 'Z1UJRXOUMOOFQ8',
            DistributionDomainName: `${token(`cf/${logicalId}`, 14)}.cloudfront.net`,
            DistributionHostedZoneId: 'Z2FDTNDATAQYW2',
          })[attr],
      };
    }
    case 'AWS::Lambda::Function': {
      const name = fixed ?? named('FunctionName', 64);
      return {
        ref: name,
        attribute: (attr) =>
          attr === 'Arn' ? `arn:${p}:lambda:${region}:${acct}:function:${name}` : undefined,
      };
    }
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable': {
      const name = fixed ?? named('TableName');
      const arn = `arn:${p}:dynamodb:${region}:${acct}:table/${name}`;
      return {
        ref: name,
        attribute: (attr) =>
          attr === 'Arn' ? arn : attr === 'StreamArn' ? `${arn}/stream/local` : undefined,
      };
    }
    case 'AWS::SecretsManager::Secret': {
      const name =
        resource.Properties?.Name === undefined ? logicalId : String(resolveProperty('Name'));
      const arn =
        fixed ??
        `arn:${p}:secretsmanager:${region}:${acct}:secret:${name}-${token(`secret/${logicalId}`, 6, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')}`;
      return { ref: arn, attribute: (attr) => (attr === 'Id' ? arn : undefined) };
    }
    case 'AWS::KMS::Key': {
      const id = fixed ?? uuidFrom(`${account.stackName}/kms/${logicalId}`);
      return {
        ref: id,
        attribute: (attr) =>
          attr === 'Arn'
            ? `arn:${p}:kms:${region}:${acct}:key/${id}`
            : attr === 'KeyId'
              ? id
              : undefined,
      };
    }
    case 'AWS::Cognito::UserPool': {
      const id =
        fixed ??
        `${region}_${token(`pool/${logicalId}`, 9, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')}`;
      return {
        ref: id,
        attribute: (attr) =>
          ({
            Arn: `arn:${p}:cognito-idp:${region}:${acct}:userpool/${id}`,
            ProviderName: `cognito-idp.${region}.${account.urlSuffix}/${id}`,
            ProviderURL: `https://cognito-idp.${region}.${account.urlSuffix}/${id}`,
            UserPoolId: id,
          })[attr],
      };
    }
    case 'AWS::Cognito::UserPoolClient': {
      const id = fixed ?? token(`client/${logicalId}`, 26);
      return { ref: id, attribute: (attr) => (attr === 'ClientId' ? id : undefined) };
    }
    case 'AWS::Cognito::UserPoolResourceServer':
      return { ref: String(resolveProperty('Identifier')), attribute: () => undefined };
    case 'AWS::Cognito::UserPoolDomain':
      return {
        ref: String(resolveProperty('Domain')),
        attribute: (attr) =>
          attr === 'CloudFrontDistribution'
            ? `${token(`cf/${logicalId}`, 14)}.cloudfront.net`
            : undefined,
      };
    case 'AWS::Cognito::UserPoolGroup':
      return { ref: String(resolveProperty('GroupName')), attribute: () => undefined };
    case 'AWS::IAM::Role': {
      const name = fixed ?? named('RoleName', 64);
      return {
        ref: name,
        attribute: (attr) =>
          attr === 'Arn'
            ? `arn:${p}:iam::${acct}:role/${name}`
            : attr === 'RoleId'
              ? `AROA${token(`role/${logicalId}`, 17).toUpperCase()}`
              : undefined,
      };
    }
    case 'AWS::IAM::ManagedPolicy': {
      const arn = `arn:${p}:iam::${acct}:policy/${named('ManagedPolicyName', 128)}`;
      return { ref: arn, attribute: (attr) => (attr === 'PolicyArn' ? arn : undefined) };
    }
    case 'AWS::Logs::LogGroup': {
      const name = fixed ?? named('LogGroupName', 512);
      return {
        ref: name,
        attribute: (attr) =>
          attr === 'Arn' ? `arn:${p}:logs:${region}:${acct}:log-group:${name}:*` : undefined,
      };
    }
    case 'AWS::SNS::Topic': {
      const arn = `arn:${p}:sns:${region}:${acct}:${named('TopicName', 256)}`;
      return {
        ref: arn,
        attribute: (attr) =>
          attr === 'TopicArn' ? arn : attr === 'TopicName' ? arn.split(':').pop() : undefined,
      };
    }
    case 'AWS::WAFv2::WebACL': {
      const name = named('Name', 128);
      const id = uuidFrom(`waf/${logicalId}`);
      return {
        ref: `${name}|${id}|REGIONAL`,
        attribute: (attr) =>
          attr === 'Arn'
            ? `arn:${p}:wafv2:${region}:${acct}:regional/webacl/${name}/${id}`
            : attr === 'Id'
              ? id
              : undefined,
      };
    }
    case 'AWS::CloudWatch::InsightRule': {
      const name = named('RuleName', 128);
      return {
        ref: name,
        attribute: (attr) =>
          attr === 'RuleName'
            ? name
            : attr === 'Arn'
              ? `arn:${p}:cloudwatch:${region}:${acct}:insight-rule/${name}`
              : undefined,
      };
    }
    case 'AWS::CloudWatch::Alarm':
    case 'AWS::CloudWatch::Dashboard': {
      const name = generatedName(account, logicalId);
      return {
        ref: name,
        attribute: (attr) =>
          attr === 'Arn' ? `arn:${p}:cloudwatch:${region}:${acct}:alarm:${name}` : undefined,
      };
    }
    default:
      return {
        ref: fixed ?? generatedName(account, logicalId),
        attribute: (attr) => `${generatedName(account, logicalId)}.${attr}`,
      };
  }
}

const PSEUDO = [
  'AWS::Region',
  'AWS::AccountId',
  'AWS::Partition',
  'AWS::URLSuffix',
  'AWS::StackName',
  'AWS::StackId',
  'AWS::NoValue',
] as const;

/** Marks a property CloudFormation drops (`Ref: AWS::NoValue`). */
const NO_VALUE = Symbol('AWS::NoValue');

/**
 * Resolves `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`, `Fn::If`
 * and the condition functions over one template in one {@link LocalAccount}. Anything else
 * (`Fn::ImportValue`, a parameter without a usable default, a reference to a missing resource)
 * is an {@link UnsupportedTemplateError} naming where it was found.
 */
export class TemplateResolver {
  readonly template: CfnTemplate;
  readonly account: LocalAccount;
  readonly #ids = new Map<string, { ref: string; attribute: Attribute }>();
  readonly #resolving = new Set<string>();

  constructor(template: CfnTemplate, account: LocalAccount) {
    this.template = template;
    this.account = account;
  }

  /**
   * The resources of one type that CloudFormation creates, by logical id: a resource whose
   * `Condition` is false is not created ("Resources that are associated with a false condition
   * are ignored", CloudFormation `Conditions` syntax).
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/conditions-section-structure.html
   */
  resourcesOfType(type: string): [string, CfnResource][] {
    return Object.entries(this.template.Resources).filter(
      ([logicalId, resource]) => resource.Type === type && this.#created(logicalId, resource),
    );
  }

  resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (resource === undefined || !this.#created(logicalId, resource)) {
      throw new UnsupportedTemplateError(
        resource === undefined
          ? `The template has no resource ${logicalId}`
          : `${logicalId} is not created (its condition ${resource.Condition} is false)`,
      );
    }
    return resource;
  }

  #created(logicalId: string, resource: CfnResource): boolean {
    if (resource.Condition === undefined) return true;
    if (this.template.Conditions?.[resource.Condition] === undefined) {
      throw new UnsupportedTemplateError(`${logicalId}: unknown condition ${resource.Condition}`);
    }
    return this.condition(resource.Condition);
  }

  /** A resource's `Ref`. */
  ref(logicalId: string): string {
    return this.#identity(logicalId).ref;
  }

  /** A resource's `Fn::GetAtt`. */
  getAtt(logicalId: string, attribute: string): string {
    const { attribute: attr } = this.#identity(logicalId);
    const value = typeof attr === 'string' ? attr : attr(attribute);
    if (value === undefined) {
      throw new UnsupportedTemplateError(
        `Fn::GetAtt ${logicalId}.${attribute}: the emulator does not know that attribute of ${this.resource(logicalId).Type}`,
      );
    }
    return value;
  }

  /** A resource's property, resolved (undefined when absent or `AWS::NoValue`). */
  property(logicalId: string, name: string): unknown {
    const value = this.resource(logicalId).Properties?.[name];
    if (value === undefined) return undefined;
    const resolved = this.resolve(value, `${logicalId}.${name}`);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** Whether a condition holds (`Conditions` section). */
  condition(name: string): boolean {
    const body = this.template.Conditions?.[name];
    if (body === undefined) throw new UnsupportedTemplateError(`Unknown condition ${name}`);
    return Boolean(this.#evaluateCondition(body, `Conditions.${name}`));
  }

  /** Resolve a value: every intrinsic inside it, recursively. */
  resolve(value: unknown, where = '(value)'): unknown {
    if (Array.isArray(value)) {
      return value
        .map((item, i) => this.resolve(item, `${where}[${i}]`))
        .filter((item) => item !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0] as [string, unknown];
      if (key === 'Ref' || key.startsWith('Fn::') || key === 'Condition') {
        return this.#intrinsic(key, arg, where);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const resolved = this.resolve(item, `${where}.${key}`);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  /** Resolve a value that must come out a string. */
  resolveString(value: unknown, where = '(value)'): string {
    const resolved = this.resolve(value, where);
    if (
      typeof resolved !== 'string' &&
      typeof resolved !== 'number' &&
      typeof resolved !== 'boolean'
    ) {
      throw new UnsupportedTemplateError(
        `${where}: expected a string, got ${JSON.stringify(resolved)}`,
      );
    }
    return String(resolved);
  }

  #identity(logicalId: string) {
    const known = this.#ids.get(logicalId);
    if (known !== undefined) return known;
    if (this.#resolving.has(logicalId)) {
      throw new UnsupportedTemplateError(`A circular reference through ${logicalId}`);
    }
    const resource = this.resource(logicalId);
    this.#resolving.add(logicalId);
    try {
      const identity = identify(this.account, logicalId, resource, (name) =>
        this.property(logicalId, name),
      );
      this.#ids.set(logicalId, identity);
      return identity;
    } finally {
      this.#resolving.delete(logicalId);
    }
  }

  #pseudo(name: (typeof PSEUDO)[number]): string | typeof NO_VALUE {
    const { region, accountId, partition, urlSuffix, stackName } = this.account;
    switch (name) {
      case 'AWS::Region':
        return region;
      case 'AWS::AccountId':
        return accountId;
      case 'AWS::Partition':
        return partition;
      case 'AWS::URLSuffix':
        return urlSuffix;
      case 'AWS::StackName':
        return stackName;
      case 'AWS::StackId':
        return `arn:${partition}:cloudformation:${region}:${accountId}:stack/${stackName}/${uuidFrom(stackName)}`;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
  }

  #refName(name: string, where: string): unknown {
    if ((PSEUDO as readonly string[]).includes(name))
      return this.#pseudo(name as (typeof PSEUDO)[number]);
    const parameter = this.template.Parameters?.[name];
    if (parameter !== undefined) {
      if (parameter.Type.startsWith('AWS::SSM::Parameter') || parameter.Default === undefined) {
        throw new UnsupportedTemplateError(
          `${where}: Ref ${name} is a parameter the emulator cannot resolve (${parameter.Type})`,
        );
      }
      return parameter.Default;
    }
    if (this.template.Resources[name] === undefined) {
      throw new UnsupportedTemplateError(`${where}: Ref ${name} names nothing in the template`);
    }
    return this.ref(name);
  }

  #intrinsic(key: string, arg: unknown, where: string): unknown {
    switch (key) {
      case 'Ref':
        return this.#refName(String(arg), where);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg)
          ? (arg as string[])
          : String(arg).split(/\.(.*)/s);
        if (logicalId === undefined || attribute === undefined) {
          throw new UnsupportedTemplateError(`${where}: malformed Fn::GetAtt`);
        }
        return this.getAtt(logicalId, this.resolveString(attribute, where));
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown];
        const list = this.resolve(parts, where);
        if (!Array.isArray(list))
          throw new UnsupportedTemplateError(`${where}: Fn::Join of a non-list`);
        return list.map((part) => this.#scalar(part, where)).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = this.resolve(list, where);
        const i = Number(this.resolve(index, where));
        if (!Array.isArray(items) || !Number.isInteger(i) || i < 0 || i >= items.length) {
          throw new UnsupportedTemplateError(`${where}: Fn::Select index ${i} out of range`);
        }
        return items[i];
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, unknown];
        return this.resolveString(source, where).split(separator);
      }
      case 'Fn::Sub': {
        const [text, variables] = Array.isArray(arg)
          ? (arg as [string, Record<string, unknown>])
          : [String(arg), {}];
        return text.replace(/\$\{(!?)([^}]+)\}/g, (match, literal: string, name: string) => {
          if (literal === '!') return `\${${name}}`;
          if (Object.hasOwn(variables, name))
            return this.#scalar(this.resolve(variables[name], where), where);
          const dot = name.indexOf('.');
          if (dot > 0 && !name.startsWith('AWS::')) {
            return this.getAtt(name.slice(0, dot), name.slice(dot + 1));
          }
          const value = this.#refName(name, where);
          if (value === NO_VALUE)
            throw new UnsupportedTemplateError(`${where}: ${match} is AWS::NoValue`);
          return this.#scalar(value, where);
        });
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = arg as [string, unknown, unknown];
        return this.resolve(this.condition(condition) ? whenTrue : whenFalse, where);
      }
      case 'Fn::Equals':
      case 'Fn::And':
      case 'Fn::Or':
      case 'Fn::Not':
      case 'Condition':
        return this.#evaluateCondition({ [key]: arg }, where);
      case 'Fn::Base64':
        return Buffer.from(this.resolveString(arg, where), 'utf8').toString('base64');
      default:
        throw new UnsupportedTemplateError(`${where}: the emulator cannot resolve ${key}`);
    }
  }

  #scalar(value: unknown, where: string): string {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      return String(value);
    }
    throw new UnsupportedTemplateError(`${where}: expected a string, got ${JSON.stringify(value)}`);
  }

  #evaluateCondition(body: unknown, where: string): boolean {
    const [key, arg] = Object.entries(body as Record<string, unknown>)[0] ?? [];
    switch (key) {
      case 'Fn::Equals': {
        const [a, b] = (arg as unknown[]).map((v) => this.resolve(v, where));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::And':
        return (arg as unknown[]).every((item) => this.#evaluateCondition(item, where));
      case 'Fn::Or':
        return (arg as unknown[]).some((item) => this.#evaluateCondition(item, where));
      case 'Fn::Not':
        return !this.#evaluateCondition((arg as unknown[])[0], where);
      case 'Condition':
        return this.condition(String(arg));
      default:
        throw new UnsupportedTemplateError(`${where}: ${String(key)} is not a condition function`);
    }
  }
}
