import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'cdk8s';
import { ConfigError } from '../lib/config/config-error';
import { loadConfigFromCdkJson } from '../lib/config/load-config';
import { buildManifests } from './kubestash-irsa-manifests';
import {
  DEFAULT_OUTPUTS_FILE,
  OUTPUTS_FILE_ENV,
  StackOutputs,
  StackOutputsError,
} from './stack-outputs';

/**
 * The cdk8s app: `cdk8s synth` (or `npm run synth:k8s`) runs this. It reads
 * the same configuration as the CDK app and writes one file per chart to
 * dist/, numbered in apply order, and the operator's Helm values beside it in
 * helm-values/kubestash-values.yaml: inside dist/ they would be taken for a
 * manifest by `kubectl apply -R` and by cdk8s's own file listing.
 */
function main(): void {
  const projectDir = path.resolve(__dirname, '..');
  const config = loadConfigFromCdkJson(projectDir);
  const app = new App();
  const outdir = path.resolve(app.outdir);
  // A chart the config no longer asks for must not linger in dist/ and be applied again.
  if (fs.existsSync(outdir)) {
    for (const file of fs.readdirSync(outdir)) {
      if (file.endsWith('.k8s.yaml')) fs.rmSync(path.join(outdir, file));
    }
  }
  // Written by `cdk deploy --outputs-file outputs.json`; absent before the first deploy.
  const outputsFile = path.resolve(
    projectDir,
    process.env[OUTPUTS_FILE_ENV] ?? DEFAULT_OUTPUTS_FILE,
  );
  const outputs = fs.existsSync(outputsFile)
    ? StackOutputs.load(outputsFile, config.stackName)
    : undefined;
  const manifests = buildManifests(app, { config, outputs });
  app.synth();

  const helmDir = path.join(path.dirname(outdir), 'helm-values');
  fs.mkdirSync(helmDir, { recursive: true });
  const valuesFile = path.join(helmDir, 'kubestash-values.yaml');
  fs.writeFileSync(valuesFile, manifests.operatorHelmValues);

  const { context } = manifests;
  const lines = [
    `Kubernetes manifests for cluster ${context.cluster.name} (seed ${context.seed.name}) in ${path.relative(process.cwd(), outdir) || '.'}/:`,
    ...fs
      .readdirSync(outdir)
      .filter((f) => f.endsWith('.k8s.yaml'))
      .sort()
      .map((f) => {
        const n = countObjects(path.join(outdir, f));
        return `  ${f}  (${n} ${n === 1 ? 'object' : 'objects'})`;
      }),
    `Helm values: ${path.relative(process.cwd(), valuesFile)}  (operator ServiceAccount annotation: ${context.seedRoleArn})`,
    ...manifests.skipped.map((s) => `  not written: ${s}`),
    `Apply after cdk deploy: kubectl apply -f ${path.relative(process.cwd(), outdir) || '.'}/`,
  ];
  // stderr, not stdout: `cdk8s synth` captures the app's stdout and never shows it.
  console.error(lines.join('\n'));
}

function countObjects(file: string): number {
  return fs
    .readFileSync(file, 'utf8')
    .split(/^---$/m)
    .filter((doc) => doc.trim() !== '').length;
}

try {
  main();
} catch (e) {
  // Both are the user's to fix and say how; a stack trace would only bury that.
  if (e instanceof ConfigError || e instanceof StackOutputsError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
