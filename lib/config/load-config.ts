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
 * One route for both apps: the CDK app gets its context from the CDK CLI
 * (cdk.json, then `-c` flags), the other programs from cdk.json plus the `-c`
 * pairs `npm run synth` hands on in {@link CONTEXT_ENV}; in both, a config file
 * is named once, by `-c configFile=` or by {@link CONFIG_FILE_ENV}. This
 * variable holds a JSON object of `-c key=value` pairs.
 */
export const CONTEXT_ENV = 'KUBESTASH_IRSA_CONTEXT';

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
 * the CDK app (the cdk8s app, the plan command): see {@link contextFromCdkJson}.
 */
export function loadConfigFromCdkJson(projectDir: string, env = process.env): ProjectConfig {
  return loadConfig(
    contextFromCdkJson(projectDir, env),
    projectDir,
    path.join(projectDir, 'cdk.json'),
  );
}

/**
 * Adds the config file named by {@link CONFIG_FILE_ENV} to a context, so that
 * the variable works for the CDK app as for the cdk8s app.
 *
 * @param baseDir directory relative paths are resolved from (the project root)
 * @throws ConfigError when `-c configFile=` and the variable name different files
 */
export function withConfigFileFromEnv(
  context: Readonly<Record<string, unknown>>,
  baseDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, unknown> {
  const fromEnv = env[CONFIG_FILE_ENV];
  if (fromEnv === undefined || fromEnv === '') return { ...context };
  const fromContext = context[CONFIG_FILE_CONTEXT_KEY];
  if (
    typeof fromContext === 'string' &&
    path.resolve(baseDir, fromContext) !== path.resolve(baseDir, fromEnv)
  ) {
    throw new ConfigError([
      `${CONFIG_FILE_CONTEXT_KEY}: got "${fromContext}" from -c and "${fromEnv}" from ${CONFIG_FILE_ENV}: name the config file once, by one of the two`,
    ]);
  }
  return { ...context, [CONFIG_FILE_CONTEXT_KEY]: fromEnv };
}

/**
 * The context a program other than the CDK app sees, as `cdk synth` would build
 * it: cdk.json's `context`, then the pairs in {@link CONTEXT_ENV} (the `-c`
 * flags of `npm run synth`), then the file named by {@link CONFIG_FILE_ENV}.
 *
 * @throws ConfigError when cdk.json is unreadable, {@link CONTEXT_ENV} is not a
 *   JSON object, or the file is named twice
 */
export function contextFromCdkJson(
  projectDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, unknown> {
  const cdkJson = readJsonFile(path.join(projectDir, 'cdk.json'));
  const fromCdkJson =
    cdkJson !== null && typeof cdkJson === 'object' && 'context' in cdkJson
      ? (cdkJson.context as Record<string, unknown>)
      : {};
  return withConfigFileFromEnv({ ...fromCdkJson, ...contextFromEnv(env) }, projectDir, env);
}

function contextFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const text = env[CONTEXT_ENV];
  if (text === undefined || text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([
      `${CONTEXT_ENV}: got ${JSON.stringify(text)}: it must be a JSON object of -c pairs such as {"config.bucket.name":"x"}; unset it and pass -c to npm run synth instead`,
    ]);
  }
  return parsed as Record<string, unknown>;
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
