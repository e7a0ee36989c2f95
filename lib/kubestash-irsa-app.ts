import { CliCredentialsStackSynthesizer, Validations } from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  CONFIG_FINGERPRINT_METADATA_KEY,
  configFingerprint,
  loadConfig,
  withConfigFileFromEnv,
} from './config';
import { KubestashIrsaStack } from './kubestash-irsa-stack';

/** Where `npm run package` publishes the template and its assets. */
export interface PackageTarget {
  /** An existing S3 bucket in the region the stack will be created in. */
  readonly bucketName: string;
  /** Key prefix of every published object, ending in `/` (or '' for the bucket root). */
  readonly keyPrefix: string;
}

/**
 * Adds the stack that the app's context configures (or the file named by
 * KUBESTASH_IRSA_CONFIG_FILE, as for the cdk8s app), with cdk-nag's
 * AwsSolutions pack as a validation plugin: a finding that is not acknowledged
 * with a reason interrupts synthesis. The template's metadata records which
 * config it came from (`KubestashIrsa::Config`: source and short hash), which
 * `npm run synth` compares with the manifests'.
 *
 * With a `target` (npm run package) the stack is environment-agnostic
 * (`AWS::AccountId`, `AWS::Region` at deploy time), its site values are console
 * parameters (KubestashIrsaStackProps.siteParameters), and it is synthesized
 * with CliCredentialsStackSynthesizer pointed at the target bucket, so asset
 * references name that bucket and the template carries no bootstrap version
 * check: it needs no `cdk bootstrap` (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.CliCredentialsStackSynthesizer.html).
 *
 * @throws ConfigError when the configuration is invalid, or its file is named twice
 */
export function addKubestashIrsaStack(
  app: App,
  baseDir = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
  target?: PackageTarget,
): KubestashIrsaStack {
  const context = withConfigFileFromEnv(app.node.getAllContext(), baseDir, env);
  const config = loadConfig(context, baseDir);
  const stack = new KubestashIrsaStack(app, config.stackName, {
    config,
    ...(target === undefined
      ? { env: { account: config.account, region: config.region } }
      : {
          siteParameters: true,
          synthesizer: new CliCredentialsStackSynthesizer({
            fileAssetsBucketName: target.bucketName,
            bucketPrefix: target.keyPrefix,
          }),
        }),
  });
  stack.templateOptions.metadata = {
    ...stack.templateOptions.metadata,
    [CONFIG_FINGERPRINT_METADATA_KEY]: configFingerprint(context, config, baseDir),
  };
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
}
