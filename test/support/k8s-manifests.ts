import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../lib/config';
import type { ProjectConfig, ProjectConfigInput } from '../../lib/config';
import { buildManifests } from '../../k8s/kubestash-irsa-manifests';
import type { Manifests } from '../../k8s/kubestash-irsa-manifests';
import { StackOutputs } from '../../k8s/stack-outputs';
import { exampleConfigInput, PROJECT_DIR } from './example-app';

/** A Kubernetes object as synthesized: plain JSON. */
export type KubeObject = Record<string, any>;

export interface ManifestFile {
  /** File name in the output directory, e.g. 0002-kubestash-storage.k8s.yaml. */
  readonly name: string;
  readonly yaml: string;
  readonly objects: readonly KubeObject[];
}

export interface SynthesizedManifests {
  readonly config: ProjectConfig;
  readonly manifests: Manifests;
  /** The files `cdk8s synth` writes, sorted by name (the order kubectl applies them). */
  readonly files: readonly ManifestFile[];
  readonly objects: readonly KubeObject[];
  readonly warnings: readonly string[];
}

export interface SynthOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The deployed stack's outputs, as `cdk deploy --outputs-file` would write them; none by default. */
  readonly stackOutputs?: Readonly<Record<string, string>>;
}

export const CRD_DIR = path.join(PROJECT_DIR, 'k8s', 'crds');

/** The raw config as a test edits it: any field, any value, typed or not. */
export type MutableConfig = Record<string, any>;

/** The example config from cdk.json, changed by `modify`, validated as the apps do. */
export function exampleConfig(modify: (c: MutableConfig) => void = () => {}): ProjectConfig {
  const input = exampleConfigInput() as MutableConfig;
  modify(input);
  return loadConfig({ config: input as ProjectConfigInput });
}

/** Parses a multi-document YAML text into its objects (empty documents dropped). */
export function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

/**
 * Synthesizes the manifests of a config into a temporary directory, as
 * `cdk8s synth` does, reads the files back and removes the directory.
 * Warnings are collected instead of printed; the environment is empty unless given.
 */
export function synthConfig(
  config: ProjectConfig,
  options: SynthOptions = {},
): SynthesizedManifests {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubestash-irsa-k8s-'));
  const outdir = path.join(work, 'dist');
  const warnings: string[] = [];
  try {
    let outputs: StackOutputs | undefined;
    if (options.stackOutputs !== undefined) {
      const file = path.join(work, 'outputs.json');
      fs.writeFileSync(file, JSON.stringify({ [config.stackName]: options.stackOutputs }));
      outputs = StackOutputs.load(file, config.stackName);
    }
    const app = new App({ outdir });
    const manifests = buildManifests(app, {
      config,
      env: options.env ?? {},
      warn: (m) => warnings.push(m),
      outputs,
    });
    app.synth();
    const files = fs
      .readdirSync(outdir)
      .filter((f) => f.endsWith('.k8s.yaml'))
      .sort()
      .map((name) => {
        const yaml = fs.readFileSync(path.join(outdir, name), 'utf8');
        return { name, yaml, objects: parseObjects(yaml) };
      });
    return {
      config,
      manifests,
      files,
      objects: files.flatMap((f) => f.objects),
      warnings,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** `synthConfig` of the example config changed by `modify`. */
export function synthExample(
  modify: (c: MutableConfig) => void = () => {},
  options: SynthOptions = {},
): SynthesizedManifests {
  return synthConfig(exampleConfig(modify), options);
}

/** The objects of one kind. */
export function ofKind(objects: readonly KubeObject[], kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind);
}
