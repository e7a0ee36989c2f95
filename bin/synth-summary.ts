/**
 * What `cdk synth` wrote this time, and which config each app used: read by
 * bin/synth.ts after the apps ran.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_FINGERPRINT_METADATA_KEY, K8S_FINGERPRINT_FILE } from '../lib/config';
import type { ConfigFingerprint } from '../lib/config';

interface Template {
  readonly Resources?: Record<string, { Type: string }>;
  readonly Parameters?: Record<string, unknown>;
  readonly Outputs?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** One stack template of the cloud assembly. */
export interface SynthesizedTemplate {
  readonly stackName: string;
  readonly file: string;
  readonly template: Template;
}

/**
 * The stack templates of the last synthesis into `outdir`, as its
 * `manifest.json` lists them: templates of stacks an earlier config named stay
 * in the directory, but not in the manifest.
 *
 * @throws Error naming the file when there is no cloud assembly in `outdir`
 */
export function synthesizedTemplates(outdir: string): SynthesizedTemplate[] {
  const manifestFile = path.join(outdir, 'manifest.json');
  if (!fs.existsSync(manifestFile))
    throw new Error(`no ${manifestFile}: run \`npm run synth:cdk\` first`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as {
    artifacts?: Record<
      string,
      { type: string; displayName?: string; properties?: { templateFile?: string } }
    >;
  };
  return Object.entries(manifest.artifacts ?? {})
    .filter(([, a]) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile)
    .map(([id, a]) => {
      const file = path.join(outdir, a.properties?.templateFile ?? '');
      return {
        stackName: a.displayName ?? id,
        file,
        template: JSON.parse(fs.readFileSync(file, 'utf8')) as Template,
      };
    });
}

/** The lines `npm run synth:cdk` prints for one template: resources by type, parameters, outputs. */
export function describeTemplate(t: SynthesizedTemplate, cwd = process.cwd()): string[] {
  const resources = Object.values(t.template.Resources ?? {}).filter(
    (r) => r.Type !== 'AWS::CDK::Metadata',
  );
  const byType = new Map<string, number>();
  for (const r of resources) byType.set(r.Type, (byType.get(r.Type) ?? 0) + 1);
  return [
    `${path.relative(cwd, t.file)}: ${resources.length} resources`,
    ...[...byType].sort().map(([type, count]) => `  ${String(count).padStart(3)} ${type}`),
    `  parameters: ${Object.keys(t.template.Parameters ?? {})
      .filter((p) => p !== 'BootstrapVersion')
      .join(', ')}`,
    `  outputs:    ${Object.keys(t.template.Outputs ?? {}).join(', ')}`,
  ];
}

/** The config the CDK app recorded in a template's metadata, if it did. */
export function templateFingerprint(t: SynthesizedTemplate): ConfigFingerprint | undefined {
  return asFingerprint(t.template.Metadata?.[CONFIG_FINGERPRINT_METADATA_KEY]);
}

/** The config the cdk8s app recorded in `distDir`, if it did. */
export function manifestsFingerprint(distDir: string): ConfigFingerprint | undefined {
  const file = path.join(distDir, K8S_FINGERPRINT_FILE);
  if (!fs.existsSync(file)) return undefined;
  try {
    return asFingerprint(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

function asFingerprint(value: unknown): ConfigFingerprint | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { source, sha256 } = value as Record<string, unknown>;
  return typeof source === 'string' && typeof sha256 === 'string' ? { source, sha256 } : undefined;
}
