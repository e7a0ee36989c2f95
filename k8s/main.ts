import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'cdk8s';
import { K8S_FINGERPRINT_FILE, configFingerprint } from '../lib/config/config-fingerprint';
import { ConfigError } from '../lib/config/config-error';
import { contextFromCdkJson, loadConfig } from '../lib/config/load-config';
import { buildManifests } from './kubestash-irsa-manifests';
import { NAMESPACES_FILE, PREREQUISITES_DIR, namespacesYaml } from './namespace-prerequisites';
import {
  DEFAULT_OUTPUTS_FILE,
  OUTPUTS_FILE_ENV,
  StackOutputs,
  StackOutputsError,
} from './stack-outputs';

/**
 * The cdk8s app: `npm run synth:k8s` (or `cdk8s synth`) runs this. It reads
 * the same configuration as the CDK app (cdk.json, the `-c` pairs of `npm run
 * synth`, KUBESTASH_IRSA_CONFIG_FILE) and writes one file per chart to dist/,
 * numbered in apply order, and the operator's Helm values beside it in
 * helm-values/kubestash-values.yaml: inside dist/ they would be taken for a
 * manifest by `kubectl apply -R` and by cdk8s's own file listing.
 *
 * The new manifests are written to a staging directory beside dist/ and swapped
 * in only when all of them are written, so a failed synthesis leaves the
 * previous dist/ as it was.
 */
function main(projectDir: string, outdir: string, staging: string): void {
  const context = contextFromCdkJson(projectDir);
  const config = loadConfig(context, projectDir);
  const fingerprint = configFingerprint(context, config, projectDir);
  // Written by `cdk deploy --outputs-file outputs.json`; absent before the first deploy.
  const outputsFile = path.resolve(
    projectDir,
    process.env[OUTPUTS_FILE_ENV] ?? DEFAULT_OUTPUTS_FILE,
  );
  const outputs = fs.existsSync(outputsFile)
    ? StackOutputs.load(outputsFile, config.stackName)
    : undefined;

  fs.rmSync(staging, { recursive: true, force: true });
  const app = new App({ outdir: staging });
  const manifests = buildManifests(app, { config, outputs });
  app.synth();
  fs.writeFileSync(path.join(staging, K8S_FINGERPRINT_FILE), JSON.stringify(fingerprint) + '\n');
  swapInto(staging, outdir);

  const prerequisites = path.join(path.dirname(outdir), PREREQUISITES_DIR, NAMESPACES_FILE);
  fs.mkdirSync(path.dirname(prerequisites), { recursive: true });
  fs.writeFileSync(prerequisites, namespacesYaml(manifests.namespaces));

  const helmDir = path.join(path.dirname(outdir), 'helm-values');
  fs.mkdirSync(helmDir, { recursive: true });
  const valuesFile = path.join(helmDir, 'kubestash-values.yaml');
  fs.writeFileSync(valuesFile, manifests.operatorHelmValues);

  const { context: manifestContext } = manifests;
  const shown = path.relative(process.cwd(), outdir) || '.';
  const lines = [
    `Kubernetes manifests for cluster ${manifestContext.cluster.name} (seed ${manifestContext.seed.name}) in ${shown}/:`,
    ...manifestFiles(outdir).map((f) => {
      const n = countObjects(path.join(outdir, f));
      return `  ${f}  (${n} ${n === 1 ? 'object' : 'objects'})`;
    }),
    `Namespaces to create first: ${path.relative(process.cwd(), prerequisites)}  (${manifests.namespaces.join(', ')})`,
    `Helm values: ${path.relative(process.cwd(), valuesFile)}  (operator ServiceAccount annotation: ${manifestContext.seedRoleArn})`,
    ...manifests.skipped.map((s) => `  not written: ${s}`),
    `Apply after cdk deploy: kubectl apply -f ${path.relative(process.cwd(), prerequisites)}, then kubectl apply -f ${shown}/`,
  ];
  // stderr, not stdout: `cdk8s synth` captures the app's stdout and never shows it.
  console.error(lines.join('\n'));
}

/**
 * Replaces `outdir`'s manifests with those in `staging`. Other files in
 * `outdir` (none of ours) are carried over; a chart the config no longer asks
 * for is gone, so it cannot be applied again.
 */
function swapInto(staging: string, outdir: string): void {
  if (fs.existsSync(outdir)) {
    for (const file of fs.readdirSync(outdir)) {
      if (isOurs(file) || fs.existsSync(path.join(staging, file))) continue;
      fs.cpSync(path.join(outdir, file), path.join(staging, file), { recursive: true });
    }
    const old = `${staging}.old`;
    fs.rmSync(old, { recursive: true, force: true });
    fs.renameSync(outdir, old);
    fs.renameSync(staging, outdir);
    fs.rmSync(old, { recursive: true, force: true });
  } else {
    fs.mkdirSync(path.dirname(outdir), { recursive: true });
    fs.renameSync(staging, outdir);
  }
}

function isOurs(file: string): boolean {
  return file.endsWith('.k8s.yaml') || file === K8S_FINGERPRINT_FILE;
}

function manifestFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.k8s.yaml'))
    .sort();
}

function countObjects(file: string): number {
  return fs
    .readFileSync(file, 'utf8')
    .split(/^---$/m)
    .filter((doc) => doc.trim() !== '').length;
}

const projectDir = path.resolve(__dirname, '..');
const outdir = path.resolve(process.env.CDK8S_OUTDIR ?? 'dist');
const staging = path.join(path.dirname(outdir), `.${path.basename(outdir)}.next`);
try {
  main(projectDir, outdir, staging);
} catch (e) {
  fs.rmSync(staging, { recursive: true, force: true });
  const kept = fs.existsSync(outdir)
    ? `${path.relative(process.cwd(), outdir) || '.'}/ still holds the previous manifests`
    : 'nothing was written';
  // A ConfigError or StackOutputsError already names the field, the value and
  // the fix; anything else gets its message, the stack only on request.
  if (e instanceof ConfigError || e instanceof StackOutputsError) {
    console.error(e.message);
  } else if (process.env.KUBESTASH_IRSA_DEBUG !== undefined) {
    console.error(e);
  }
  const reason =
    e instanceof ConfigError || e instanceof StackOutputsError
      ? 'see above'
      : `${e instanceof Error ? e.message.split('\n')[0] : String(e)} (KUBESTASH_IRSA_DEBUG=1 shows the stack)`;
  console.error(`synth:k8s failed (${reason}); ${kept}.`);
  process.exit(1);
}
