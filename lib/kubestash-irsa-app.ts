import { Validations } from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  CONFIG_FINGERPRINT_METADATA_KEY,
  configFingerprint,
  loadConfig,
  withConfigFileFromEnv,
} from './config';
import { KubestashIrsaStack } from './kubestash-irsa-stack';

/**
 * Adds the stack that the app's context configures (or the file named by
 * KUBESTASH_IRSA_CONFIG_FILE, as for the cdk8s app), with cdk-nag's
 * AwsSolutions pack as a validation plugin: a finding that is not acknowledged
 * with a reason interrupts synthesis. The template's metadata records which
 * config it came from (`KubestashIrsa::Config`: source and short hash), which
 * `npm run synth` compares with the manifests'.
 *
 * @throws ConfigError when the configuration is invalid, or its file is named twice
 */
export function addKubestashIrsaStack(
  app: App,
  baseDir = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): KubestashIrsaStack {
  const context = withConfigFileFromEnv(app.node.getAllContext(), baseDir, env);
  const config = loadConfig(context, baseDir);
  const stack = new KubestashIrsaStack(app, config.stackName, {
    config,
    env: { account: config.account, region: config.region },
  });
  stack.templateOptions.metadata = {
    ...stack.templateOptions.metadata,
    [CONFIG_FINGERPRINT_METADATA_KEY]: configFingerprint(context, config, baseDir),
  };
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
}
