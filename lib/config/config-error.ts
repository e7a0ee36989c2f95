import leven from 'leven';
import type { z } from 'zod';

/**
 * Configuration problems, phrased for the person who has to fix them: the
 * header names where the configuration came from (cdk.json's context, a config
 * file, `-c config.<field>=` overrides) and every line names the field, the
 * value found there and what to do instead.
 *
 * Every schema of the configuration reaches the user through
 * {@link parseConfig}, so a field added anywhere gets these messages without
 * writing its own for a missing value, a wrong type or a misspelled key.
 */

/** Where the configuration was read from, as the header of a {@link ConfigError} names it. */
export interface ConfigSource {
  /** E.g. `cdk.json context "config"` or `config file /home/me/prod.json`. */
  readonly description: string;
  /** The `config.<a>.<b>` context keys that overrode fields, e.g. `config.bucket.name`. */
  readonly overrides?: readonly string[];
}

/** The source when nothing better is known: the place `cdk synth` reads first. */
export const CDK_JSON_SOURCE: ConfigSource = {
  description: 'cdk.json context "config", or -c config.<field>=<value>',
};

export class ConfigError extends Error {
  constructor(
    readonly problems: readonly string[],
    readonly source: ConfigSource = CDK_JSON_SOURCE,
  ) {
    super(
      `Invalid kubestash-irsa configuration (${source.description}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * Validates `input` against a configuration schema. On failure, throws a
 * {@link ConfigError} with one line per problem: `config.<field>: got <value>:
 * <what is wrong and the fix>`. Messages a schema gives itself are kept; the
 * validator's generic ones (missing field, wrong type, unknown key, value out
 * of range) are replaced by ones that say what to write, and an unknown key is
 * answered with the closest known key.
 *
 * @throws ConfigError naming `source` in its header
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  input: unknown,
  source: ConfigSource,
): z.output<S> {
  const result = validate(schema, input);
  if ('data' in result) return result.data;
  throw new ConfigError(
    result.issues.map((i) => problem(i.path, input, source, i.message)),
    source,
  );
}

/** One problem {@link validate} found: where (the path into the input) and what to do. */
export interface ValidationIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Validates `input` against any zod schema with the wording of
 * {@link parseConfig}: a schema's own messages are kept, the validator's
 * generic ones (missing field, wrong type, unknown key, out of range) say what
 * to write, and each unknown key is its own issue, at the key's path, naming
 * the closest known key. Callers add the source and print the path their way.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
): { readonly data: z.output<S> } | { readonly issues: readonly ValidationIssue[] } {
  // Zod reports an unknown key on the object, not on the key: remember which
  // keys that object knows, to suggest the closest one.
  const knownKeys = new Map<string, readonly string[]>();
  const result = schema.safeParse(input, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        const shape = (issue.inst as { shape?: Record<string, unknown> } | undefined)?.shape;
        knownKeys.set(pathKey(issue.path ?? []), Object.keys(shape ?? {}));
      }
      return genericMessage(issue);
    },
  });
  if (result.success) return { data: result.data };
  return { issues: result.error.issues.flatMap((issue) => describeIssue(issue, knownKeys)) };
}

/** The field path as problems print it: `config.seeds.0.name`. */
export function configField(path: readonly PropertyKey[]): string {
  return ['config', ...path.map(String)].join('.');
}

function describeIssue(
  issue: z.core.$ZodIssue,
  knownKeys: ReadonlyMap<string, readonly string[]>,
): ValidationIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys.get(pathKey(path)) ?? [];
    return issue.keys.map((key) => ({
      path: [...path, key],
      message: unknownKeyMessage(key, known),
    }));
  }
  return [{ path, message: issue.message }];
}

function problem(
  path: readonly (string | number)[],
  input: unknown,
  source: ConfigSource,
  message: string,
): string {
  const value = valueAt(input, path);
  const shown = value === undefined ? 'nothing' : truncate(JSON.stringify(value));
  const field = configField(path);
  // An override is the likelier culprit than the file it overrode: say so.
  const override = (source.overrides ?? []).find(
    (o) => field === o || field.startsWith(`${o}.`) || o.startsWith(`${field}.`),
  );
  return `${field}: got ${shown}: ${message}${override === undefined ? '' : ` (set by -c ${override})`}`;
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const closest = closestKey(key, known);
  const list = `known keys here: ${known.join(', ')}`;
  return closest === undefined
    ? `unknown key "${key}"; remove it (${list})`
    : `unknown key "${key}"; did you mean "${closest}"? Rename it (${list})`;
}

/** The known key nearest to a misspelled one, when it is near enough to be a typo. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = leven(key.toLowerCase(), candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { key: candidate, distance };
  }
  // More than half the letters changed is another word, not a typo.
  return best !== undefined && best.distance <= Math.max(2, Math.floor(key.length / 2))
    ? best.key
    : undefined;
}

/**
 * Replaces the validator's generic wording for issues a schema did not word
 * itself (a schema's own message takes precedence over this map). Returns
 * undefined to keep zod's text for anything else.
 */
function genericMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = typeName(issue.expected);
      if (issue.input === undefined) {
        const about = (issue.inst as { description?: string } | undefined)?.description;
        const key = issue.path?.at(-1);
        return `required: add ${key === undefined ? 'it' : JSON.stringify(String(key))} with ${expected}${about === undefined ? '' : ` (${about})`}`;
      }
      return `expected ${expected}, not ${typeName(jsonType(issue.input))}; ${rewrite(issue.expected, issue.input)}`;
    }
    case 'invalid_value':
      return `choose one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `use ${issue.inclusive === false ? 'more than' : 'at least'} ${String(issue.minimum)}${unitOf(issue.origin)}`;
    case 'too_big':
      return `use ${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}${unitOf(issue.origin)}`;
    case 'invalid_format':
      return `write ${issue.format === 'regex' && 'pattern' in issue ? `a value matching ${String(issue.pattern)}` : `a valid ${issue.format}`}`;
    case 'not_multiple_of':
      return `use a multiple of ${String(issue.divisor)}`;
    default:
      return undefined;
  }
}

function unitOf(origin: string): string {
  if (origin === 'string') return ' characters';
  if (origin === 'array' || origin === 'set') return ' items';
  return '';
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function typeName(type: string): string {
  switch (type) {
    case 'array':
      return 'a list';
    case 'object':
      return 'an object';
    case 'null':
      return 'null';
    case 'boolean':
      return 'true or false';
    case 'int':
      return 'a whole number';
    default:
      return `a ${type}`;
  }
}

/** How to write the value that was given as the type that was expected. */
function rewrite(expected: string, input: unknown): string {
  if (expected === 'number' && typeof input === 'string' && input.trim() !== '') {
    return Number.isNaN(Number(input))
      ? 'write a number such as 100'
      : `write ${input.trim()} without quotes`;
  }
  if (expected === 'boolean') return 'write true or false without quotes';
  if (expected === 'string' && (typeof input === 'number' || typeof input === 'boolean')) {
    return `put it in quotes: "${String(input)}"`;
  }
  if (expected === 'array') return `write a JSON list, e.g. [${truncate(JSON.stringify(input))}]`;
  if (expected === 'object') return 'write a JSON object { ... } with the fields documented for it';
  return `write ${typeName(expected)}`;
}

function pathKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map(String));
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
