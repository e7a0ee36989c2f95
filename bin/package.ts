#!/usr/bin/env node
/**
 * `npm run package -- --bucket <name>`: the CloudFormation console's way in.
 * Synthesizes the stack as a console-ready template (environment-agnostic,
 * site values as labelled, grouped parameters, no `cdk bootstrap` needed),
 * publishes it and its Lambda code to the named bucket, and prints the
 * console's quick-create link (docs/packaging.md).
 *
 * The config is named as for `npm run synth`: cdk.json's context,
 * `-c configFile=<file>` or KUBESTASH_IRSA_CONFIG_FILE, and `-c config.<field>=<value>`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { AssetManifestArtifact } from 'aws-cdk-lib/cx-api';
import {
  CONTEXT_ENV,
  ConfigError,
  configFingerprint,
  contextFromCdkJson,
  fingerprintLine,
  loadConfig,
} from '../lib/config';
import { addKubestashIrsaStack } from '../lib/kubestash-irsa-app';
import {
  PackageError,
  callerAccount,
  checkBucket,
  publishAssets,
  quickCreateUrl,
  s3ObjectUrl,
} from './package-target';

const USAGE =
  'usage: npm run package -- --bucket <name> [--prefix <key-prefix>] [--region <region>] [--stack-name <name>] [-c configFile=<file.json>] [-c config.<field>=<value> ...]';

/** What the command line asks for. */
export interface PackageArgs {
  readonly bucket: string;
  /** Key prefix of every object, ending in `/`. @default 'kubestash-irsa/' */
  readonly prefix: string;
  /** @default AWS_REGION, AWS_DEFAULT_REGION, then the config's region */
  readonly region?: string;
  /** @default the config's stackName */
  readonly stackName?: string;
  /** `-c key=value` pairs, as `npm run synth` takes them. */
  readonly context: Readonly<Record<string, string>>;
}

/**
 * Parses `--bucket B [--prefix P] [--region R] [--stack-name N] [-c k=v]...`
 * (also `--flag=value`). A prefix gets a trailing `/` when it lacks one.
 *
 * @throws PackageError naming the argument and the usage line
 */
export function parsePackageArgs(argv: readonly string[]): PackageArgs {
  const flags = new Map<string, string>();
  const context: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--')
      ? splitOnce(argv[i], '=')
      : [argv[i], undefined];
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') {
      throw new PackageError(`${flag}: needs a value; ${USAGE}`);
    }
    if (flag === '-c' || flag === '--context') {
      const [key, v] = splitOnce(value, '=');
      if (v === undefined || key === '')
        throw new PackageError(`${flag} ${value}: write key=value; ${USAGE}`);
      context[key] = v;
    } else if (['--bucket', '--prefix', '--region', '--stack-name'].includes(flag)) {
      flags.set(flag, value);
    } else {
      throw new PackageError(`unexpected argument ${JSON.stringify(argv[i])}; ${USAGE}`);
    }
  }
  const bucket = flags.get('--bucket');
  if (bucket === undefined) {
    throw new PackageError(
      `--bucket: missing; name the S3 bucket the template and its Lambda code go to. ${USAGE}`,
    );
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new PackageError(
      `--bucket ${bucket}: not an S3 bucket name; use 3-63 lowercase letters, digits, "." and "-"`,
    );
  }
  const rawPrefix = flags.get('--prefix') ?? 'kubestash-irsa/';
  if (rawPrefix.startsWith('/') || rawPrefix.includes('//')) {
    throw new PackageError(
      `--prefix ${rawPrefix}: write the key prefix without a leading "/" or "//", e.g. kubestash-irsa/`,
    );
  }
  return {
    bucket,
    prefix: rawPrefix.endsWith('/') ? rawPrefix : `${rawPrefix}/`,
    region: flags.get('--region'),
    stackName: flags.get('--stack-name'),
    context,
  };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/**
 * Runs the whole command, writing progress and the summary through `log`.
 *
 * @returns the quick-create link
 * @throws PackageError or ConfigError, each one line naming the fix
 */
export async function runPackage(
  args: PackageArgs,
  projectDir: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<string> {
  const context = contextFromCdkJson(projectDir, {
    ...env,
    [CONTEXT_ENV]: JSON.stringify(args.context),
  });
  const config = loadConfig(context, projectDir, path.join(projectDir, 'cdk.json'));
  const region = args.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? config.region;
  const stackName = args.stackName ?? config.stackName;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
    throw new PackageError(
      `--stack-name ${stackName}: a stack name is letters, digits and "-", starting with a letter`,
    );
  }
  log(fingerprintLine('CDK app', configFingerprint(context, config, projectDir)));
  log(`[1/4] credentials and bucket: s3://${args.bucket}/${args.prefix} in ${region}`);
  const account = await callerAccount(region);
  await checkBucket(args.bucket, region);
  log(`  account ${account}; bucket ${args.bucket} is in ${region}`);

  log('[2/4] synthesize the console template (cdk-nag AwsSolutions checks run here)');
  const outdir = path.join(projectDir, '.tmp', 'package');
  fs.rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir, context });
  const stack = addKubestashIrsaStack(app, projectDir, env, {
    bucketName: args.bucket,
    keyPrefix: args.prefix,
  });
  const assembly = app.synth();
  const artifact = assembly.getStackArtifact(stack.artifactId);
  const template = artifact.template as { Parameters?: Record<string, { Default?: unknown }> };
  const templateBytes = fs.statSync(artifact.templateFullPath).size;
  log(`  ${path.relative(projectDir, artifact.templateFullPath)} (${templateBytes} bytes)`);

  log(`[3/4] publish to s3://${args.bucket}/${args.prefix}`);
  const manifest = artifact.dependencies.find((d) => d instanceof AssetManifestArtifact);
  if (manifest === undefined) {
    throw new PackageError(
      `${artifact.templateFile}: synthesis wrote no asset manifest; report this as a bug`,
    );
  }
  const objects = await publishAssets(manifest.file, region, log);
  const templateObject = objects.find(
    (o) => o.sourcePath === path.basename(artifact.templateFullPath),
  );
  if (templateObject === undefined) {
    throw new PackageError(
      `${artifact.templateFile}: the asset manifest lists no template to publish; report this as a bug`,
    );
  }
  const uploaded = objects.filter((o) => o.uploaded).length;
  log(
    `  ${objects.length} objects: ${uploaded} uploaded, ${objects.length - uploaded} unchanged` +
      ' (keys are content hashes: an object already at its key holds these bytes and is not sent again)',
  );

  log('[4/4] quick-create link');
  const templateUrl = s3ObjectUrl(args.bucket, region, templateObject.key);
  const parameters = Object.fromEntries(
    Object.entries(template.Parameters ?? {}).flatMap(([name, p]) =>
      p.Default === undefined ? [] : [[name, String(p.Default)]],
    ),
  );
  const link = quickCreateUrl({ region, templateUrl, stackName, parameters });
  log(`  template: ${templateUrl}`);
  log(
    `  parameters (config values; the console lets you change them): ${Object.entries(parameters)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  log(
    '  open this link, check the values, acknowledge the IAM capability and choose Create stack:',
  );
  log(link);
  return link;
}

async function main(): Promise<void> {
  const projectDir = path.resolve(__dirname, '..');
  try {
    await runPackage(parsePackageArgs(process.argv.slice(2)), projectDir, process.env, (line) =>
      console.log(line),
    );
  } catch (error) {
    if (!(error instanceof PackageError) && !(error instanceof ConfigError)) throw error;
    // The message names the field, value and fix; a stack trace would bury it.
    console.error(`npm run package: ${error.message}`);
    process.exit(1);
  }
}

if (require.main === module) void main();
