/**
 * Resolves a synthesized CloudFormation template's intrinsic functions the way
 * CloudFormation would for one deployment, so an IAM engine can read its
 * policies as IAM will store them.
 *
 * Physical names follow CloudFormation's documented return values of `Ref` and
 * `Fn::GetAtt` for each resource type
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html);
 * a generated name (when the template sets none) is the logical ID, as stable a
 * stand-in as CloudFormation's `<stack>-<logicalId>-<random>`.
 * Does not model: `Fn::ImportValue`, `Fn::GetAZs`, `Fn::Cidr`, transforms, and
 * resource types it does not list (it throws, naming the type, rather than guess).
 */
import { createHash } from 'node:crypto';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
  readonly Condition?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { Type: string; Default?: Json }>;
  readonly Conditions?: Record<string, Json>;
}

export interface DeploymentTarget {
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
}

/** The partition a region belongs to (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A marker for `AWS::NoValue`: the enclosing property or list item disappears. */
const NO_VALUE = Symbol('AWS::NoValue');

export class CfnResolver {
  readonly partition: string;
  readonly urlSuffix: string;

  constructor(
    readonly template: CfnTemplate,
    readonly target: DeploymentTarget,
  ) {
    this.partition = partitionOf(target.region);
    this.urlSuffix = this.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  }

  /** The value with every intrinsic function replaced by what CloudFormation would put there. */
  resolve(value: unknown): Json {
    const out = this.walk(value);
    if (out === NO_VALUE)
      throw new Error('CfnResolver: a top-level value resolved to AWS::NoValue');
    return out;
  }

  /** Like resolve, insisting on a string. */
  resolveString(value: unknown): string {
    const out = this.resolve(value);
    if (typeof out !== 'string')
      throw new Error(`CfnResolver: ${JSON.stringify(value)} is not a string`);
    return out;
  }

  resource(logicalId: string): CfnResource {
    const found = this.template.Resources[logicalId];
    if (found === undefined)
      throw new Error(`CfnResolver: no resource ${logicalId} in the template`);
    return found;
  }

  private walk(value: unknown): Json | typeof NO_VALUE {
    if (Array.isArray(value)) {
      return value.map((v) => this.walk(v)).filter((v): v is Json => v !== NO_VALUE);
    }
    if (!isObject(value)) return value as Json;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [fn] = keys;
      const arg = value[fn];
      switch (fn) {
        case 'Ref':
          return this.ref(String(arg));
        case 'Fn::GetAtt':
          return this.getAtt(arg);
        case 'Fn::Join':
          return this.join(arg);
        case 'Fn::Sub':
          return this.sub(arg);
        case 'Fn::Select':
          return this.select(arg);
        case 'Fn::Split':
          return this.split(arg);
        case 'Fn::If':
          return this.fnIf(arg);
        case 'Fn::ImportValue':
        case 'Fn::GetAZs':
        case 'Fn::Cidr':
        case 'Fn::FindInMap':
        case 'Fn::Base64':
          throw new Error(`CfnResolver: ${fn} is not modelled (in ${JSON.stringify(value)})`);
      }
    }
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = this.walk(v);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  }

  private ref(name: string): Json | typeof NO_VALUE {
    switch (name) {
      case 'AWS::AccountId':
        return this.target.account;
      case 'AWS::Region':
        return this.target.region;
      case 'AWS::Partition':
        return this.partition;
      case 'AWS::URLSuffix':
        return this.urlSuffix;
      case 'AWS::StackName':
        return this.target.stackName;
      case 'AWS::StackId':
        return `arn:${this.partition}:cloudformation:${this.target.region}:${this.target.account}:stack/${this.target.stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const parameter = this.template.Parameters?.[name];
    if (parameter !== undefined) {
      if (parameter.Default === undefined) {
        throw new Error(`CfnResolver: parameter ${name} has no Default to resolve with`);
      }
      // A CommaDelimitedList parameter resolves to a list (and a list-typed one such as List<String> too).
      if (parameter.Type === 'CommaDelimitedList' || parameter.Type.startsWith('List<')) {
        return String(parameter.Default)
          .split(',')
          .map((s) => s.trim());
      }
      return typeof parameter.Default === 'number' ? String(parameter.Default) : parameter.Default;
    }
    return this.physicalRef(name);
  }

  private prop(logicalId: string, key: string): string | undefined {
    const v = this.resource(logicalId).Properties?.[key];
    return v === undefined ? undefined : this.resolveString(v);
  }

  private arn(
    service: string,
    resource: string,
    region = this.target.region,
    account = this.target.account,
  ): string {
    return `arn:${this.partition}:${service}:${region}:${account}:${resource}`;
  }

  /** What `Ref` returns for a resource. */
  private physicalRef(logicalId: string): string {
    const type = this.resource(logicalId).Type;
    switch (type) {
      case 'AWS::IAM::Role':
        return this.prop(logicalId, 'RoleName') ?? logicalId;
      case 'AWS::IAM::ManagedPolicy':
        return this.arn(
          'iam',
          `policy${this.prop(logicalId, 'Path') ?? '/'}${this.prop(logicalId, 'ManagedPolicyName') ?? logicalId}`,
          '',
        );
      case 'AWS::IAM::OIDCProvider':
      case 'Custom::AWSCDKOpenIdConnectProvider': {
        const url = this.prop(logicalId, 'Url');
        if (url === undefined) throw new Error(`CfnResolver: ${logicalId} has no Url`);
        return this.arn('iam', `oidc-provider/${url.replace(/^https:\/\//, '')}`, '');
      }
      case 'AWS::S3::Bucket':
        return this.prop(logicalId, 'BucketName') ?? logicalId.toLowerCase();
      case 'AWS::SQS::Queue':
        return `https://sqs.${this.target.region}.${this.urlSuffix}/${this.target.account}/${this.queueName(logicalId)}`;
      case 'AWS::Events::EventBus':
        return this.prop(logicalId, 'Name') ?? logicalId;
      case 'AWS::Logs::LogGroup':
        return this.prop(logicalId, 'LogGroupName') ?? logicalId;
      case 'AWS::Lambda::Function':
        return this.prop(logicalId, 'FunctionName') ?? logicalId;
      case 'AWS::KMS::Key':
        return `${logicalId.toLowerCase()}-0000-0000-0000-000000000000`;
      case 'AWS::SecretsManager::Secret':
        return this.arn(
          'secretsmanager',
          `secret:${this.prop(logicalId, 'Name') ?? logicalId}-AbCdEf`,
        );
      case 'AWS::EC2::SecurityGroup':
        // Ref of a security group in a VPC is its id, as GroupId is.
        return this.securityGroupId(logicalId);
      case 'AWS::IAM::Policy':
      case 'AWS::EKS::AccessEntry':
      case 'AWS::EC2::SecurityGroupIngress':
      case 'AWS::EC2::SecurityGroupEgress':
      case 'AWS::EC2::VPCEndpoint':
      case 'AWS::Lambda::Url':
      case 'AWS::Lambda::Permission':
      case 'AWS::Events::Rule':
        return logicalId;
    }
    throw new Error(
      `CfnResolver: Ref of a ${type} (${logicalId}) is not modelled; add it to physicalRef`,
    );
  }

  /** A made-up but well-formed security group id (sg- and 17 hex digits), stable per logical id. */
  private securityGroupId(logicalId: string): string {
    return `sg-${createHash('sha256').update(logicalId).digest('hex').slice(0, 17)}`;
  }

  private queueName(logicalId: string): string {
    const fifo = this.resource(logicalId).Properties?.FifoQueue === true;
    return this.prop(logicalId, 'QueueName') ?? `${logicalId}${fifo ? '.fifo' : ''}`;
  }

  private getAtt(arg: unknown): Json {
    const [logicalId, attribute] = Array.isArray(arg)
      ? (arg as string[])
      : String(arg).split(/\.(.*)/s);
    const resource = this.resource(logicalId);
    const key = `${resource.Type}.${attribute}`;
    switch (key) {
      case 'AWS::IAM::Role.Arn':
        return this.arn(
          'iam',
          `role${this.prop(logicalId, 'Path') ?? '/'}${this.physicalRef(logicalId)}`,
          '',
        );
      case 'AWS::S3::Bucket.Arn':
        return `arn:${this.partition}:s3:::${this.physicalRef(logicalId)}`;
      case 'AWS::KMS::Key.Arn':
        return this.arn('kms', `key/${this.physicalRef(logicalId)}`);
      case 'AWS::SQS::Queue.Arn':
        return this.arn('sqs', this.queueName(logicalId));
      case 'AWS::SQS::Queue.QueueName':
        return this.queueName(logicalId);
      case 'AWS::Events::EventBus.Arn':
        return this.arn('events', `event-bus/${this.physicalRef(logicalId)}`);
      case 'AWS::Events::EventBus.Name':
        return this.physicalRef(logicalId);
      case 'AWS::Logs::LogGroup.Arn':
        return this.arn('logs', `log-group:${this.physicalRef(logicalId)}:*`);
      case 'AWS::Lambda::Function.Arn':
        return this.arn('lambda', `function:${this.physicalRef(logicalId)}`);
      case 'AWS::Lambda::Url.FunctionUrl':
        return `https://${logicalId.toLowerCase()}.lambda-url.${this.target.region}.on.aws/`;
      case 'AWS::Events::Rule.Arn':
        return this.arn('events', `rule/${logicalId}`);
      case 'AWS::EC2::SecurityGroup.GroupId':
        return this.securityGroupId(logicalId);
      case 'Custom::AWSCDKCfnJson.Value': {
        // CfnJson's custom resource returns its Value property parsed.
        const text = this.resolveString(resource.Properties?.Value);
        return JSON.parse(text) as Json;
      }
    }
    throw new Error(
      `CfnResolver: Fn::GetAtt ${key} (${logicalId}) is not modelled; add it to getAtt`,
    );
  }

  private join(arg: unknown): string {
    if (!Array.isArray(arg) || arg.length !== 2)
      throw new Error(`CfnResolver: bad Fn::Join ${JSON.stringify(arg)}`);
    const [sep, items] = arg;
    const list = this.walk(items);
    if (!Array.isArray(list))
      throw new Error(`CfnResolver: Fn::Join of a non-list ${JSON.stringify(items)}`);
    return list.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(String(sep));
  }

  private sub(arg: unknown): string {
    const [text, vars] = Array.isArray(arg)
      ? (arg as [string, Record<string, unknown>])
      : [String(arg), {}];
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
      if (vars[name] !== undefined) return this.resolveString(vars[name]);
      if (name.includes('.')) {
        const [logicalId, attribute] = name.split(/\.(.*)/s);
        return String(this.getAtt([logicalId, attribute]));
      }
      const v = this.ref(name);
      if (typeof v !== 'string')
        throw new Error(`CfnResolver: \${${name}} in Fn::Sub is not a string`);
      return v;
    });
  }

  private select(arg: unknown): Json {
    const [index, list] = arg as [unknown, unknown];
    const items = this.walk(list);
    if (!Array.isArray(items)) throw new Error(`CfnResolver: Fn::Select of a non-list`);
    return items[Number(this.walk(index))];
  }

  private split(arg: unknown): string[] {
    const [sep, text] = arg as [string, unknown];
    return this.resolveString(text).split(sep);
  }

  private fnIf(arg: unknown): Json | typeof NO_VALUE {
    const [condition, yes, no] = arg as [string, unknown, unknown];
    return this.walk(this.condition(condition) ? yes : no);
  }

  /** Evaluates a named condition of the template's Conditions section. */
  condition(name: string): boolean {
    const c = this.template.Conditions?.[name];
    if (c === undefined) throw new Error(`CfnResolver: no condition ${name}`);
    return this.evaluate(c);
  }

  private evaluate(c: Json): boolean {
    if (!isObject(c)) throw new Error(`CfnResolver: bad condition ${JSON.stringify(c)}`);
    const [fn] = Object.keys(c);
    const args = c[fn] as Json[];
    switch (fn) {
      case 'Condition':
        return this.condition(String(c[fn]));
      case 'Fn::Equals':
        return JSON.stringify(this.resolve(args[0])) === JSON.stringify(this.resolve(args[1]));
      case 'Fn::Not':
        return !this.evaluate(args[0]);
      case 'Fn::And':
        return args.every((a) => this.evaluate(a));
      case 'Fn::Or':
        return args.some((a) => this.evaluate(a));
    }
    throw new Error(`CfnResolver: condition function ${fn} is not modelled`);
  }
}
