#!/usr/bin/env node
/**
 * Synthesizes the stack for the example config in cdk.json and for every
 * config in examples/config/, plus cdk.json's config as `npm run package`
 * builds it for the console, then runs cfn-lint on each template.
 * Exits non-zero if cfn-lint reports an error (warnings are printed).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { addKubestashIrsaStack } from '../lib/kubestash-irsa-app';
import type { PackageTarget } from '../lib/kubestash-irsa-app';

const projectDir = path.resolve(__dirname, '..');
const outRoot = path.join(projectDir, '.tmp', 'cfn-lint');
const cdkJson = JSON.parse(fs.readFileSync(path.join(projectDir, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

const exampleDir = path.join(projectDir, 'examples', 'config');
const variants: { name: string; configFile?: string; target?: PackageTarget }[] = [
  { name: 'cdk.json' },
  {
    name: 'cdk.json-packaged',
    target: { bucketName: 'example-artifacts', keyPrefix: 'kubestash-irsa/' },
  },
  ...fs
    .readdirSync(exampleDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, configFile: path.join(exampleDir, f) })),
];

fs.rmSync(outRoot, { recursive: true, force: true });
let failed = 0;
for (const [i, variant] of variants.entries()) {
  const outdir = path.join(outRoot, variant.name.replace(/\.json$/, ''));
  const context = {
    ...cdkJson.context,
    ...(variant.configFile ? { configFile: variant.configFile } : {}),
  };
  const started = Date.now();
  const app = new App({ outdir, context });
  addKubestashIrsaStack(app, projectDir, process.env, variant.target);
  const assembly = app.synth();
  const templates = assembly.stacks.map((s) => path.join(outdir, s.templateFile));
  const lint = spawnSync('cfn-lint', ['--format', 'parseable', ...templates], { encoding: 'utf8' });
  if (lint.error) {
    console.error(
      `cfn-lint could not run (${lint.error.message}); install it with: pip install cfn-lint`,
    );
    process.exit(2);
  }
  const findings = `${lint.stdout}${lint.stderr}`.trim();
  // cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
  const errors = (lint.status ?? 2) & 2;
  const label = errors ? 'ERRORS' : findings ? 'warnings only' : 'clean';
  console.log(
    `[${i + 1}/${variants.length}] ${variant.name}: ${templates.length} template(s), ${label} (${Date.now() - started} ms)`,
  );
  if (findings) console.log(findings.replace(/^/gm, '    '));
  if (errors) failed++;
}
console.log(
  failed === 0
    ? `cfn-lint: ${variants.length} configs, no errors`
    : `cfn-lint: ${failed} config(s) with errors`,
);
process.exit(failed === 0 ? 0 : 1);
