/**
 * Asks an independent IAM policy engine (@cloud-copilot/iam-simulate, a
 * test-only devDependency under AGPL-3.0, never bundled: see docs/security-iam.md)
 * what IAM would decide for a request against the policies of a synthesized
 * stack, resolved for the config's account, region and partition.
 *
 * Does not model: SCPs, RCPs and session policies (the stack sets none), and
 * service behaviour outside policy evaluation (S3 Block Public Access, KMS grants).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import type { EvaluationResult, Simulation } from '@cloud-copilot/iam-simulate';
import { loadConfig } from '../../lib/config';
import type { ProjectConfig, ProjectConfigInput } from '../../lib/config';
import { CfnResolver } from './cfn-resolver';
import type { CfnTemplate } from './cfn-resolver';
import { PROJECT_DIR, exampleConfigInput, synthConfigStack } from './example-app';

export type PolicyDocument = { Version?: string; Statement: PolicyStatementJson[] };
export interface PolicyStatementJson {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface NamedPolicy {
  readonly name: string;
  readonly policy: PolicyDocument;
}

/** An example config: cdk.json's, or one of examples/config/*.json. */
export interface ExampleConfig {
  readonly name: string;
  readonly input: ProjectConfigInput;
}

/** cdk.json's config and every examples/config/*.json, in the order `npm run cfn-lint` lints them. */
export function exampleConfigs(): ExampleConfig[] {
  const dir = path.join(PROJECT_DIR, 'examples', 'config');
  return [
    { name: 'cdk.json', input: exampleConfigInput() },
    ...fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => ({
        name: f,
        input: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as ProjectConfigInput,
      })),
  ];
}

/** One synthesized stack, resolved for its config's deployment. */
export class StackIam {
  readonly resolver: CfnResolver;
  readonly account: string;
  readonly partition: string;

  constructor(
    readonly template: CfnTemplate,
    readonly config: ProjectConfig,
  ) {
    this.resolver = new CfnResolver(template, {
      account: config.account,
      region: config.region,
      stackName: config.stackName,
    });
    this.account = config.account;
    this.partition = this.resolver.partition;
  }

  /** Synthesizes the stack of a config (cdk-nag runs too, as in every stack test). */
  static fromConfig(input: ProjectConfigInput): StackIam {
    const config = loadConfig({ config: input });
    const { template } = synthConfigStack(config);
    return new StackIam(template.toJSON() as CfnTemplate, config);
  }

  private resourcesOfType(type: string): [string, Record<string, unknown>][] {
    return Object.entries(this.template.Resources)
      .filter(([, r]) => r.Type === type)
      .map(([id, r]) => [id, r.Properties ?? {}]);
  }

  /** The logical ID of the one role whose description matches. */
  roleByDescription(pattern: RegExp): string {
    const found = this.resourcesOfType('AWS::IAM::Role').filter(([, p]) =>
      pattern.test(this.resolver.resolveString(p.Description ?? '')),
    );
    if (found.length !== 1) {
      throw new Error(
        `StackIam: ${found.length} roles have a description matching ${pattern}: ${found.map(([id]) => id).join(', ')}`,
      );
    }
    return found[0][0];
  }

  /** The logical ID of the role with this name (RoleName). */
  roleByName(name: string): string {
    const found = this.resourcesOfType('AWS::IAM::Role').find(
      ([, p]) => p.RoleName !== undefined && this.resolver.resolveString(p.RoleName) === name,
    );
    if (found === undefined) throw new Error(`StackIam: no role named ${name}`);
    return found[0];
  }

  roleArn(logicalId: string): string {
    return this.resolver.resolveString({ 'Fn::GetAtt': [logicalId, 'Arn'] });
  }

  private refersTo(list: unknown, logicalId: string): boolean {
    return (
      Array.isArray(list) &&
      list.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: logicalId }))
    );
  }

  /** The documents of the managed policies this template creates, by ARN. */
  managedPolicies(): Map<string, NamedPolicy> {
    return new Map(
      this.resourcesOfType('AWS::IAM::ManagedPolicy').map(([id, p]) => [
        this.resolver.resolveString({ Ref: id }),
        { name: id, policy: this.resolver.resolve(p.PolicyDocument) as unknown as PolicyDocument },
      ]),
    );
  }

  /** The managed policy of this template with this ARN; throws for one it imports (its document is not here). */
  managedPolicy(arn: string): NamedPolicy {
    const found = this.managedPolicies().get(arn);
    if (found === undefined) {
      throw new Error(
        `StackIam: the managed policy ${arn} is not in the template, so its document is unknown here`,
      );
    }
    return found;
  }

  /** Every identity policy of a role: inline, AWS::IAM::Policy, and managed policies (the template's own). */
  identityPolicies(roleLogicalId: string): NamedPolicy[] {
    const role = this.resolver.resource(roleLogicalId).Properties ?? {};
    const inline = ((role.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[]).map(
      (p) => ({
        name: p.PolicyName,
        policy: this.resolver.resolve(p.PolicyDocument) as unknown as PolicyDocument,
      }),
    );
    const attached = this.resourcesOfType('AWS::IAM::Policy')
      .filter(([, p]) => this.refersTo(p.Roles, roleLogicalId))
      .map(([id, p]) => ({
        name: id,
        policy: this.resolver.resolve(p.PolicyDocument) as unknown as PolicyDocument,
      }));
    const managedArns = [
      ...((role.ManagedPolicyArns ?? []) as unknown[]).map((a) => this.resolver.resolveString(a)),
      ...this.resourcesOfType('AWS::IAM::ManagedPolicy')
        .filter(([, p]) => this.refersTo(p.Roles, roleLogicalId))
        .map(([id]) => this.resolver.resolveString({ Ref: id })),
    ];
    return [...inline, ...attached, ...managedArns.map((arn) => this.managedPolicy(arn))];
  }

  /** The ARN of a role's permissions boundary, if it has one. */
  boundaryArn(roleLogicalId: string): string | undefined {
    const b = this.resolver.resource(roleLogicalId).Properties?.PermissionsBoundary;
    return b === undefined ? undefined : this.resolver.resolveString(b);
  }

  trustPolicy(roleLogicalId: string): PolicyDocument {
    return this.resolver.resolve(
      this.resolver.resource(roleLogicalId).Properties?.AssumeRolePolicyDocument,
    ) as unknown as PolicyDocument;
  }

  /** The bucket policy of the bucket with this name, if the template has one. */
  bucketPolicy(bucketName: string): PolicyDocument | undefined {
    const found = this.resourcesOfType('AWS::S3::BucketPolicy').find(
      ([, p]) => this.resolver.resolveString(p.Bucket) === bucketName,
    );
    return found === undefined
      ? undefined
      : (this.resolver.resolve(found[1].PolicyDocument) as unknown as PolicyDocument);
  }
}

/** A request as IAM sees it: who, what, on which resource, with which context keys. */
export interface IamRequest {
  /** The calling principal's ARN (a role ARN for a role's session; an OIDC provider ARN for web identity). */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  /** The account that owns the resource. */
  readonly resourceAccount: string;
  /** The context keys IAM supplies for this request, spelled out. */
  readonly context: Readonly<Record<string, string | string[]>>;
}

export interface PolicySet {
  readonly identityPolicies?: readonly NamedPolicy[];
  readonly permissionsBoundary?: NamedPolicy;
  readonly resourcePolicy?: PolicyDocument;
}

export type Decision = 'Allowed' | 'Denied';

export interface DecisionReport {
  readonly decision: Decision;
  readonly engineResult: EvaluationResult;
  /** Context keys the engine would have dropped as not applying to the action (web identity only: see decide). */
  readonly unmodelledKeys: readonly string[];
}

/**
 * The engine's decision. A context key the engine does not know for the
 * action is an error, so no row silently tests without its key; the one
 * exception is `allowUnlistedKeys`: the keys of an OIDC issuer (`<issuer>:sub`,
 * `<issuer>:aud`), which IAM evaluates for AssumeRoleWithWebIdentity but the
 * engine's action data lists only for a few well-known issuers. Those requests
 * are then evaluated with the engine's core (`runUnsafeSimulation`), which
 * skips that filter; everything else about them is validated first.
 */
export async function decide(
  request: IamRequest,
  policies: PolicySet,
  options: { allowUnlistedKeys?: (key: string) => boolean } = {},
): Promise<DecisionReport> {
  const simulation: Simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount },
      contextVariables: { ...request.context },
    },
    identityPolicies: (policies.identityPolicies ?? []).map((p) => ({
      name: p.name,
      policy: p.policy,
    })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: policies.resourcePolicy,
    permissionBoundaryPolicies:
      policies.permissionsBoundary === undefined
        ? undefined
        : [
            {
              name: policies.permissionsBoundary.name,
              policy: policies.permissionsBoundary.policy,
            },
          ],
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    throw new Error(`iam-simulate refused the request: ${JSON.stringify(result.errors)}`);
  }
  if (result.resultType !== 'single') {
    throw new Error(
      `iam-simulate: give one concrete resource, not a pattern (${request.resource})`,
    );
  }
  const ignored = result.result.ignoredContextKeys ?? [];
  const allowed = options.allowUnlistedKeys ?? (() => false);
  const unexpected = ignored.filter((k) => !allowed(k));
  if (unexpected.length > 0) {
    throw new Error(
      `iam-simulate ignores context keys ${unexpected.join(', ')} for ${request.action} on ${request.resource}: the row would test without them`,
    );
  }
  const engineResult =
    ignored.length === 0
      ? result.overallResult
      : runUnsafeSimulation(
          {
            ...simulation,
            // The core needs a named resource policy; runSimulation names it this way
            // (iam-policy's ValidatedPolicy shape), the unsafe entry point does not.
            resourcePolicy:
              simulation.resourcePolicy === undefined
                ? undefined
                : {
                    __validated: true,
                    policyDocument: simulation.resourcePolicy,
                    metadata: { name: 'ResourcePolicy' },
                    errors: [],
                  },
          },
          {},
        );
  return {
    decision: engineResult === 'Allowed' ? 'Allowed' : 'Denied',
    engineResult,
    unmodelledKeys: ignored,
  };
}
