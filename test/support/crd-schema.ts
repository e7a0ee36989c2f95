import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';

/**
 * Validation of synthesized objects against the openAPIV3Schema of their CRD
 * (k8s/crds/), as the API server would check them, but stricter: upstream
 * schemas leave objects open, so a misspelled field would be accepted (and
 * pruned by the server without a word). `forceClosedObjects` closes them.
 */

export type JsonSchema = Readonly<Record<string, unknown>>;

/** Keywords whose value is one schema. */
const SCHEMA_KEYWORDS = ['items', 'additionalProperties', 'not', 'additionalItems'] as const;
/** Keywords whose value is a list of schemas. */
const SCHEMA_LIST_KEYWORDS = ['anyOf', 'allOf', 'oneOf', 'items'] as const;
/** Keywords whose value maps names to schemas. */
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', 'definitions', '$defs'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Applies `fn` to every schema in `schema`, children first, without touching
 * values that are data rather than schemas (`default`, `enum`, `example`):
 * only the schema keywords above are followed. Returns a new tree.
 */
export function mapSchema(schema: unknown, fn: (node: JsonSchema) => JsonSchema): unknown {
  if (!isObject(schema)) return schema;
  const out: Record<string, unknown> = { ...schema };
  for (const key of SCHEMA_KEYWORDS) {
    if (isObject(out[key])) out[key] = mapSchema(out[key], fn);
  }
  for (const key of SCHEMA_LIST_KEYWORDS) {
    const list = out[key];
    if (Array.isArray(list)) out[key] = list.map((s) => mapSchema(s, fn));
  }
  for (const key of SCHEMA_MAP_KEYWORDS) {
    const map = out[key];
    if (isObject(map)) {
      out[key] = Object.fromEntries(Object.entries(map).map(([k, s]) => [k, mapSchema(s, fn)]));
    }
  }
  return fn(out);
}

/**
 * `additionalProperties: false` on every object schema that lists its
 * `properties` and says nothing about others: neither `additionalProperties`
 * (a map) nor `x-kubernetes-preserve-unknown-fields` (free-form, e.g. addon
 * params). A schema without `properties` (such as `metadata: {type: object}`)
 * is left open, as closing it would forbid everything.
 */
export function forceClosedObjects(schema: unknown): unknown {
  return mapSchema(schema, (node) =>
    isObject(node.properties) &&
    !('additionalProperties' in node) &&
    node['x-kubernetes-preserve-unknown-fields'] !== true
      ? { ...node, additionalProperties: false }
      : node,
  );
}

/**
 * Kubernetes' `x-kubernetes-int-or-string: true` as JSON Schema: an integer or
 * a string. controller-gen already writes the `anyOf` next to it; a schema
 * without one gets it here. Other `x-kubernetes-*` keywords (list and map
 * types, merge keys) describe how the server merges, not what is valid, and
 * Ajv ignores them (`strict: false`).
 */
export function intOrStringAsAnyOf(schema: unknown): unknown {
  return mapSchema(schema, (node) =>
    node['x-kubernetes-int-or-string'] === true && !('anyOf' in node) && !('type' in node)
      ? { ...node, anyOf: [{ type: 'integer' }, { type: 'string' }] }
      : node,
  );
}

export interface CrdVersion {
  readonly apiVersion: string;
  readonly kind: string;
  readonly schema: JsonSchema;
  readonly file: string;
}

/** Every served version of every CRD in `dir`, with its openAPIV3Schema. */
export function loadCrdSchemas(dir: string): CrdVersion[] {
  const found: CrdVersion[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'))) {
      const crd: unknown = doc.toJS();
      if (!isObject(crd) || crd.kind !== 'CustomResourceDefinition' || !isObject(crd.spec)) {
        continue;
      }
      const { group, names, versions } = crd.spec;
      if (typeof group !== 'string' || !isObject(names) || !Array.isArray(versions)) continue;
      for (const version of versions) {
        if (!isObject(version) || version.served !== true || !isObject(version.schema)) continue;
        const schema = version.schema.openAPIV3Schema;
        if (!isObject(schema)) continue;
        found.push({
          apiVersion: `${group}/${String(version.name)}`,
          kind: String(names.kind),
          schema,
          file,
        });
      }
    }
  }
  return found;
}

export interface CrdValidatorOptions {
  /** Close open objects (the point of these tests). @default true */
  readonly forceClosed?: boolean;
}

/** One object's apiVersion and kind, or undefined when it has none. */
export function typeOf(obj: unknown): { apiVersion: string; kind: string } | undefined {
  if (!isObject(obj) || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
    return undefined;
  }
  return { apiVersion: obj.apiVersion, kind: obj.kind };
}

/**
 * Validates objects against the CRD of their apiVersion and kind. Schemas are
 * compiled on first use (the BackupConfiguration schema is large).
 */
export class CrdValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(
    private readonly crds: readonly CrdVersion[],
    private readonly options: CrdValidatorOptions = {},
  ) {
    // strict: false lets Ajv ignore the x-kubernetes-* keywords instead of refusing the schema.
    this.ajv = new Ajv({ strict: false, allErrors: true });
    this.ajv.addFormat('int32', {
      type: 'number',
      validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
    });
    this.ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    this.ajv.addFormat('date-time', {
      type: 'string',
      validate: (s: string) =>
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s),
    });
  }

  static fromDirectory(dir: string, options: CrdValidatorOptions = {}): CrdValidator {
    return new CrdValidator(loadCrdSchemas(dir), options);
  }

  /** Whether a CRD in the set defines this apiVersion and kind. */
  knows(obj: unknown): boolean {
    const type = typeOf(obj);
    return (
      type !== undefined &&
      this.crds.some((c) => c.apiVersion === type.apiVersion && c.kind === type.kind)
    );
  }

  /** The problems with `obj`, one line each (`<path>: <message>`); empty when valid. */
  validate(obj: unknown): string[] {
    const type = typeOf(obj);
    if (type === undefined) return ['(root): no apiVersion or kind'];
    const key = `${type.apiVersion}/${type.kind}`;
    let validate = this.compiled.get(key);
    if (validate === undefined) {
      const crd = this.crds.find((c) => c.apiVersion === type.apiVersion && c.kind === type.kind);
      if (crd === undefined) return [`(root): no CRD defines ${type.kind} in ${type.apiVersion}`];
      let schema = intOrStringAsAnyOf(crd.schema);
      if (this.options.forceClosed ?? true) schema = forceClosedObjects(schema);
      validate = this.ajv.compile(schema as JsonSchema);
      this.compiled.set(key, validate);
    }
    return validate(obj) ? [] : (validate.errors ?? []).map(formatError);
  }
}

function formatError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  const extra =
    error.keyword === 'additionalProperties'
      ? ` "${String((error.params as { additionalProperty?: unknown }).additionalProperty)}"`
      : '';
  return `${where}: ${error.message ?? error.keyword}${extra}`;
}
