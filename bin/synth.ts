#!/usr/bin/env node
/**
 * `npm run synth`, `npm run synth:cdk`, `npm run synth:k8s`: runs the CDK app
 * (`cdk synth`) and/or the cdk8s app with ONE configuration. A config file is
 * named once (`-c configFile=my.json` or KUBESTASH_IRSA_CONFIG_FILE) and every
 * `-c` pair reaches both apps: the CDK app as `-c` flags, the cdk8s app through
 * KUBESTASH_IRSA_CONTEXT. Then it prints what was written and which config
 * each app used (source and short hash), and fails if the two differ.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { CONTEXT_ENV, fingerprintLine } from '../lib/config';
import type { ConfigFingerprint } from '../lib/config';
import {
  describeTemplate,
  manifestsFingerprint,
  synthesizedTemplates,
  templateFingerprint,
} from './synth-summary';

const USAGE =
  'usage: npm run synth[:cdk|:k8s] -- [-c configFile=<file.json>] [-c config.<field>=<value> ...]';

/** What the command line asks for. */
export interface SynthArgs {
  readonly apps: readonly ('cdk' | 'k8s')[];
  /** `-c key=value` pairs in the order given. */
  readonly context: readonly (readonly [string, string])[];
}

/**
 * Parses `[--only cdk|k8s] [-c key=value | --context key=value | -c=key=value]...`.
 *
 * @throws Error with the usage line when an argument is not one of those
 */
export function parseSynthArgs(argv: readonly string[]): SynthArgs {
  let apps: ('cdk' | 'k8s')[] = ['cdk', 'k8s'];
  const context: [string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--only') {
      const app = argv[++i];
      if (app !== 'cdk' && app !== 'k8s') throw new Error(`--only takes cdk or k8s\n${USAGE}`);
      apps = [app];
      continue;
    }
    const inline = /^(?:-c|--context)=(.*)$/.exec(arg);
    const pair =
      inline !== null ? inline[1] : arg === '-c' || arg === '--context' ? argv[++i] : undefined;
    const eq = pair?.indexOf('=') ?? -1;
    if (pair === undefined || eq <= 0)
      throw new Error(`unexpected argument ${JSON.stringify(arg)}\n${USAGE}`);
    context.push([pair.slice(0, eq), pair.slice(eq + 1)]);
  }
  return { apps, context };
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): void {
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function main(): void {
  let args: SynthArgs;
  try {
    args = parseSynthArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  const projectDir = path.resolve(__dirname, '..');
  const bin = (name: string) => path.join(projectDir, 'node_modules', '.bin', name);
  const cdkOut = path.join(projectDir, 'cdk.out');
  const dist = path.resolve(process.env.CDK8S_OUTDIR ?? path.join(projectDir, 'dist'));
  const used = new Map<'CDK app' | 'cdk8s app', ConfigFingerprint | undefined>();

  if (args.apps.includes('cdk')) {
    run(
      bin('cdk'),
      [
        'synth',
        '--quiet',
        '--no-notices',
        ...args.context.flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      ],
      { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    );
    const templates = synthesizedTemplates(cdkOut);
    for (const t of templates) console.log(describeTemplate(t).join('\n'));
    used.set(
      'CDK app',
      templates.map(templateFingerprint).find((f) => f !== undefined),
    );
  }
  if (args.apps.includes('k8s')) {
    run(bin('tsx'), [path.join(projectDir, 'k8s', 'main.ts')], {
      ...process.env,
      [CONTEXT_ENV]: JSON.stringify(Object.fromEntries(args.context)),
    });
    used.set('cdk8s app', manifestsFingerprint(dist));
  }

  // The other app's last output, when only one ran: say if it came from another config.
  if (!used.has('CDK app')) {
    try {
      const fp = synthesizedTemplates(cdkOut)
        .map(templateFingerprint)
        .find((f) => f);
      if (fp) used.set('CDK app', fp);
    } catch {
      // no cloud assembly yet
    }
  }
  if (!used.has('cdk8s app')) {
    const fp = manifestsFingerprint(dist);
    if (fp) used.set('cdk8s app', fp);
  }
  for (const [app, fp] of used) if (fp) console.log(fingerprintLine(app, fp));
  const cdk = used.get('CDK app');
  const k8s = used.get('cdk8s app');
  if (cdk && k8s && cdk.sha256 !== k8s.sha256) {
    const both = args.apps.length === 2;
    console.error(
      `${both ? 'error' : 'warning'}: the template (cdk.out/) and the manifests (${path.relative(process.cwd(), dist) || '.'}/) come from different configs; ` +
        `run \`npm run synth\` with the same -c flags (or KUBESTASH_IRSA_CONFIG_FILE) so both apps read one config`,
    );
    if (both) process.exit(1);
  }
}

if (require.main === module) main();
