import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, parseConfig } from './config-error';
import type { ConfigSource } from './config-error';
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
 * `contextName` names where the context came from in error headers.
 *
 * @throws ConfigError naming the file or context and every field that is wrong
 */
export function loadConfig(
  context: Record<string, unknown>,
  baseDir = process.cwd(),
  contextName = 'cdk.json',
): ProjectConfig {
  const file = context[CONFIG_FILE_CONTEXT_KEY];
  const filePath = typeof file === 'string' ? path.resolve(baseDir, file) : undefined;
  let raw: unknown = filePath !== undefined ? readJsonFile(filePath) : context[CONFIG_CONTEXT_KEY];
  if (raw === undefined) {
    throw new ConfigError([
      `config: got nothing: put the configuration object under "context"."config" in cdk.json, or pass -c configFile=<path.json>`,
    ]);
  }
  raw = structuredClone(raw);
  const overrides = Object.keys(context).filter((k) => k.startsWith(`${CONFIG_CONTEXT_KEY}.`));
  for (const key of overrides) {
    raw = setPath(
      raw,
      key.slice(CONFIG_CONTEXT_KEY.length + 1).split('.'),
      parseOverride(context[key]),
    );
  }
  const source: ConfigSource = {
    description: [
      filePath !== undefined ? `config file ${filePath}` : `${contextName} context "config"`,
      ...(overrides.length > 0 ? [`overridden by -c ${overrides.join(', -c ')}`] : []),
    ].join(', '),
    overrides,
  };
  const config = parseConfig(projectConfigSchema, raw, source);
  SOURCES.set(config, source);
  return config;
}

const SOURCES = new WeakMap<ProjectConfig, ConfigSource>();

/**
 * Where a configuration returned by {@link loadConfig} came from, so a later
 * check (the cdk8s app's) can name the same file in its errors.
 */
export function configSourceOf(config: ProjectConfig): ConfigSource | undefined {
  return SOURCES.get(config);
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
  return loadConfig(context, projectDir, path.join(projectDir, 'cdk.json'));
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
