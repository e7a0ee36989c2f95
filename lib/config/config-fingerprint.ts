import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { CONFIG_CONTEXT_KEY, CONFIG_FILE_CONTEXT_KEY } from './load-config';
import type { ProjectConfig } from './project-config';

/** Which configuration an app synthesized from, as the synth summary prints it. */
export interface ConfigFingerprint {
  /** Where it came from, e.g. `examples/config/x.json, -c config.kubernetes.cluster`. */
  readonly source: string;
  /** The first 12 hex digits of the SHA-256 of the validated config as JSON. */
  readonly sha256: string;
}

/**
 * The file in the cdk8s app's dist/ that records its {@link ConfigFingerprint}
 * as JSON. No .yaml/.json extension: `kubectl apply -f dist/` reads only
 * those, so it never takes this file for a manifest.
 */
export const K8S_FINGERPRINT_FILE = '.synth-config';

/** The template metadata key under which the CDK app records its {@link ConfigFingerprint}. */
export const CONFIG_FINGERPRINT_METADATA_KEY = 'KubestashIrsa::Config';

/**
 * Names the configuration `config` was loaded from `context` (see
 * {@link loadConfig}) and hashes it, so the two apps' outputs can be compared.
 * Two configs hash alike only if they validate to the same object, wherever
 * they came from.
 */
export function configFingerprint(
  context: Readonly<Record<string, unknown>>,
  config: ProjectConfig,
  baseDir: string,
): ConfigFingerprint {
  const file = context[CONFIG_FILE_CONTEXT_KEY];
  const overrides = Object.keys(context)
    .filter((k) => k.startsWith(`${CONFIG_CONTEXT_KEY}.`))
    .sort();
  const origin =
    typeof file === 'string'
      ? path.relative(baseDir, path.resolve(baseDir, file)) || file
      : `cdk.json context "${CONFIG_CONTEXT_KEY}"`;
  return {
    source: [origin, ...overrides.map((o) => `-c ${o}`)].join(', '),
    sha256: createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12),
  };
}

/**
 * The line that names the config an app used, e.g.
 * `config used: CDK app   examples/config/x.json  sha256 0123456789ab`.
 */
export function fingerprintLine(app: 'CDK app' | 'cdk8s app', fp: ConfigFingerprint): string {
  return `config used: ${app.padEnd(10)}${fp.source}  sha256 ${fp.sha256}`;
}
