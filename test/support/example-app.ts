import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { PolicyValidationPluginReport } from 'aws-cdk-lib';
import { loadConfig } from '../../lib/config';
import type { ProjectConfig, ProjectConfigInput } from '../../lib/config';
import { KubestashIrsaStack } from '../../lib/kubestash-irsa-stack';

export const PROJECT_DIR = path.resolve(__dirname, '..', '..');

/** cdk.json's context: the example config and the feature flags the real app runs with. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

/** The raw example config from cdk.json, as a user would write it. */
export function exampleConfigInput(): ProjectConfigInput {
  return structuredClone(cdkJsonContext().config) as ProjectConfigInput;
}

/**
 * Adds seeds to a config (in place). With several seeds the config requires
 * each to name the namespaces whose ServiceAccounts may use it; a seed that
 * names none here gets every allowed namespace, so tests about something else
 * keep their one-team layout (tests about teams give each seed its own list).
 */
export function addSeeds(
  mutable: object,
  ...seeds: Partial<ProjectConfigInput['seeds'][number]>[]
): void {
  // Tests edit configs as loose records (to write invalid values too): one cast here.
  const config = mutable as ProjectConfigInput;
  config.seeds.push(...(seeds as ProjectConfigInput['seeds']));
  config.seeds = config.seeds.map((seed) => ({
    ...seed,
    namespaces: seed.namespaces ?? [...config.allowedNamespaces],
  }));
}

/**
 * Moves a config (in place) from us-east-1 to another region and its
 * partition: the region, every ARN and every EKS issuer, since the config
 * refuses ARNs and issuers of a partition other than the region's.
 */
export function moveConfigTo(config: object, region: string, partition: string): void {
  const moved = JSON.stringify(config)
    .replaceAll('arn:aws:', `arn:${partition}:`)
    .replaceAll('us-east-1', region);
  Object.assign(config, JSON.parse(moved));
}

/**
 * An App with the same feature flags as `cdk synth` (but no config context).
 * Lambda bundling is skipped unless asked for: construct tests assert on the
 * template, and `npm run bench:reconciler` measures the real bundle.
 */
export function newApp(options: { bundle?: boolean } = {}): App {
  const context: Record<string, unknown> = { ...cdkJsonContext() };
  delete context.config;
  if (!(options.bundle ?? false)) context['aws:cdk:bundling-stacks'] = [];
  return new App({ context });
}

export interface SynthesizedStack {
  readonly stack: KubestashIrsaStack;
  readonly template: Template;
  readonly nag: PolicyValidationPluginReport;
  readonly config: ProjectConfig;
}

/** Builds the stack from a (modified) example config and runs cdk-nag on it. */
export function synthExampleStack(
  modify: (c: ProjectConfigInput) => void = () => {},
): SynthesizedStack {
  const input = exampleConfigInput();
  modify(input);
  return synthConfigStack(loadConfig({ config: input }));
}

/** Builds the stack of a validated config and runs cdk-nag on it. */
export function synthConfigStack(config: ProjectConfig): SynthesizedStack {
  const app = newApp();
  const stack = new KubestashIrsaStack(app, config.stackName, {
    config,
    env: { account: config.account, region: config.region },
  });
  const nag = new AwsSolutionsChecks(app).validateScope(stack);
  return { stack, template: Template.fromStack(stack), nag, config };
}
