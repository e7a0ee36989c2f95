#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadConfig } from '../lib/config';
import { KubestashIrsaStack } from '../lib/kubestash-irsa-stack';

const app = new App();
try {
  const config = loadConfig(app.node.getAllContext());
  new KubestashIrsaStack(app, config.stackName, {
    config,
    env: { account: config.account, region: config.region },
  });
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
// A finding that is not acknowledged with a reason interrupts synthesis.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
