import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from './config-error';
import { projectConfigSchema } from './project-config';
import type { ProjectConfig } from './project-config';

/** The CDK context key that holds the configuration object. */
export const CONFIG_CONTEXT_KEY = 'config';
/** A context key (or environment variable) that names a JSON file to use instead. */
export const CONFIG_FILE_CONTEXT_KEY = 'configFile';
export const CONFIG_FILE_ENV = 'KUBESTASH_IRSA_CONFIG_FILE';

/**
 * Builds the validated configuration from a context map such as CDK's:
 * `config` holds the object (or `configFile` names a JSON file holding it), and
 * every `config.<a>.<b>` key overrides one field, e.g. `-c config.bucket.name=x`.
 * Override values are parsed as JSON when they parse, else taken as strings.
 */
export function loadConfig(
  context: Record<string, unknown>,
  baseDir = process.cwd(),
): ProjectConfig {
  const file = context[CONFIG_FILE_CONTEXT_KEY];
  let raw: unknown =
    typeof file === 'string'
      ? readJsonFile(path.resolve(baseDir, file))
      : context[CONFIG_CONTEXT_KEY];
  if (raw === undefined) {
    throw new ConfigError([
      `config: got nothing: put the configuration object under "context"."config" in cdk.json, or pass -c configFile=<path.json>`,
    ]);
  }
  raw = structuredClone(raw);
  for (const [key, value] of Object.entries(context)) {
    if (key.startsWith(`${CONFIG_CONTEXT_KEY}.`)) {
      raw = setPath(raw, key.slice(CONFIG_CONTEXT_KEY.length + 1).split('.'), parseOverride(value));
    }
  }
  const result = projectConfigSchema.safeParse(raw);
  if (!result.success) throw ConfigError.fromZod(result.error, raw);
  return result.data;
}

/**
 * Reads the configuration the way `cdk synth` would, for programs that are not
 * the CDK app (the cdk8s app, the plan command): cdk.json's context, then the
 * file named by KUBESTASH_IRSA_CONFIG_FILE if set.
 */
export function loadConfigFromCdkJson(projectDir: string, env = process.env): ProjectConfig {
  const cdkJson = readJsonFile(path.join(projectDir, 'cdk.json'));
  const context =
    cdkJson !== null && typeof cdkJson === 'object' && 'context' in cdkJson
      ? { ...(cdkJson.context as Record<string, unknown>) }
      : {};
  const fromEnv = env[CONFIG_FILE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') context[CONFIG_FILE_CONTEXT_KEY] = fromEnv;
  return loadConfig(context, projectDir);
}

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`configFile: cannot read ${file}: ${(e as Error).message}`]);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`configFile: ${file} is not valid JSON: ${(e as Error).message}`]);
  }
}

function parseOverride(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function setPath(target: unknown, keys: readonly string[], value: unknown): unknown {
  const [head, ...rest] = keys;
  if (head === undefined || head === '') return value;
  const isIndex = /^\d+$/.test(head);
  const container: Record<string, unknown> | unknown[] =
    target !== null && typeof target === 'object'
      ? (target as Record<string, unknown>)
      : isIndex
        ? []
        : {};
  const current = (container as Record<string, unknown>)[head];
  (container as Record<string, unknown>)[head] = setPath(current, rest, value);
  return container;
}
