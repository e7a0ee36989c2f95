import { Validations } from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from './config';
import { KubestashIrsaStack } from './kubestash-irsa-stack';

/**
 * Adds the stack that the app's context configures, with cdk-nag's
 * AwsSolutions pack as a validation plugin: a finding that is not acknowledged
 * with a reason interrupts synthesis.
 *
 * @throws ConfigError when the configuration is invalid
 */
export function addKubestashIrsaStack(app: App, baseDir = process.cwd()): KubestashIrsaStack {
  const config = loadConfig(app.node.getAllContext(), baseDir);
  const stack = new KubestashIrsaStack(app, config.stackName, {
    config,
    env: { account: config.account, region: config.region },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
}
