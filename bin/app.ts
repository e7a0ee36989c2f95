#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../lib/config';
import { addKubestashIrsaStack } from '../lib/kubestash-irsa-app';

const app = new App();
try {
  addKubestashIrsaStack(app);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // The message already names every field, value and fix; a stack trace would bury it.
  console.error(error.message);
  process.exit(1);
}
app.synth();
