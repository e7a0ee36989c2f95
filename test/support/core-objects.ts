import * as path from 'node:path';
import ts from 'typescript';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { PROJECT_DIR } from './example-app';

/**
 * Offline validation of core Kubernetes objects, in two parts:
 *
 * - `kubernetes-models` (its JSON-schema validators, compiled from the
 *   Kubernetes OpenAPI document) checks types, required fields, enums and
 *   formats, as the API server's schema would;
 * - like the OpenAPI document itself, those validators accept any extra
 *   field, so `unknownFields` walks the same package's TypeScript declarations
 *   (one interface per Kubernetes type) and names every field they lack: the
 *   equivalent of `additionalProperties: false` for core objects, and of
 *   `kubectl apply --validate=strict` without a server.
 */

interface CoreModel {
  validate(): void;
}

/** The core kinds the cdk8s app writes, each with its model and its declared interface. */
const CORE_KINDS: Record<string, { model: (o: object) => CoreModel; type: string; from: string }> =
  {
    'v1/Namespace': {
      model: (o) => new Namespace(o as never),
      type: 'INamespace',
      from: 'v1/Namespace',
    },
    'v1/ServiceAccount': {
      model: (o) => new ServiceAccount(o as never),
      type: 'IServiceAccount',
      from: 'v1/ServiceAccount',
    },
    'v1/Secret': { model: (o) => new Secret(o as never), type: 'ISecret', from: 'v1/Secret' },
    'apps/v1/DaemonSet': {
      model: (o) => new DaemonSet(o as never),
      type: 'IDaemonSet',
      from: 'apps/v1/DaemonSet',
    },
    'batch/v1/CronJob': {
      model: (o) => new CronJob(o as never),
      type: 'ICronJob',
      from: 'batch/v1/CronJob',
    },
    'rbac.authorization.k8s.io/v1/ClusterRole': {
      model: (o) => new ClusterRole(o as never),
      type: 'IClusterRole',
      from: 'rbac.authorization.k8s.io/v1/ClusterRole',
    },
    'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': {
      model: (o) => new MutatingWebhookConfiguration(o as never),
      type: 'IMutatingWebhookConfiguration',
      from: 'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration',
    },
    'rbac.authorization.k8s.io/v1/Role': {
      model: (o) => new Role(o as never),
      type: 'IRole',
      from: 'rbac.authorization.k8s.io/v1/Role',
    },
    'rbac.authorization.k8s.io/v1/RoleBinding': {
      model: (o) => new RoleBinding(o as never),
      type: 'IRoleBinding',
      from: 'rbac.authorization.k8s.io/v1/RoleBinding',
    },
  };

function keyOf(obj: Record<string, unknown>): string {
  return `${String(obj.apiVersion)}/${String(obj.kind)}`;
}

/** Whether `obj` is one of the core kinds this module validates. */
export function isCoreKind(obj: Record<string, unknown>): boolean {
  return keyOf(obj) in CORE_KINDS;
}

/** The kubernetes-models verdict on `obj`: empty when valid, else its message. */
export function schemaProblems(obj: Record<string, unknown>): string[] {
  const entry = CORE_KINDS[keyOf(obj)];
  if (entry === undefined) return [`no core model for ${keyOf(obj)}`];
  try {
    entry.model(obj).validate();
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

/**
 * The declared types, read once with the TypeScript compiler from a small
 * in-memory module that imports the interfaces above.
 */
class DeclaredTypes {
  private static instance: DeclaredTypes | undefined;
  readonly checker: ts.TypeChecker;
  private readonly types = new Map<string, ts.Type>();

  static get(): DeclaredTypes {
    DeclaredTypes.instance ??= new DeclaredTypes();
    return DeclaredTypes.instance;
  }

  private constructor() {
    const entries = Object.entries(CORE_KINDS);
    const file = path.join(PROJECT_DIR, 'test', 'support', '__core-kinds__.ts');
    const text = [
      ...entries.map(
        ([, e], i) => `import type { ${e.type} as T${i} } from 'kubernetes-models/${e.from}';`,
      ),
      `export interface CoreKinds {`,
      ...entries.map(([key], i) => `  ${JSON.stringify(key)}: T${i};`),
      `}`,
    ].join('\n');
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      target: ts.ScriptTarget.ES2022,
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, language, ...rest) =>
      name === file
        ? ts.createSourceFile(name, text, language)
        : getSourceFile(name, language, ...rest);
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => name === file || fileExists(name);
    const program = ts.createProgram([file], options, host);
    this.checker = program.getTypeChecker();
    const source = program.getSourceFile(file);
    const kinds = source?.statements.find(ts.isInterfaceDeclaration);
    if (kinds === undefined) throw new Error('core kinds: the in-memory module did not compile');
    const kindsType = this.checker.getTypeAtLocation(kinds);
    for (const [key] of entries) {
      const symbol = kindsType.getProperty(key);
      if (symbol === undefined) throw new Error(`core kinds: no type for ${key}`);
      const type = this.checker.getTypeOfSymbolAtLocation(symbol, kinds);
      if (type.getProperties().length === 0) {
        throw new Error(
          `core kinds: ${key} resolved to an empty type (is kubernetes-models installed?)`,
        );
      }
      this.types.set(key, type);
    }
  }

  typeOf(key: string): ts.Type | undefined {
    return this.types.get(key);
  }
}

/**
 * Every field of `obj` that its declared Kubernetes type does not have, as a
 * JSON path (`/spec/jobTemplate/spec/template/spec/containers/0/imag`).
 * Maps (labels, annotations, resource limits) accept any key.
 */
export function unknownFields(obj: Record<string, unknown>): string[] {
  const types = DeclaredTypes.get();
  const type = types.typeOf(keyOf(obj));
  if (type === undefined) return [`no declared type for ${keyOf(obj)}`];
  const found: string[] = [];
  walk(types.checker, obj, type, '', found);
  return found;
}

function walk(
  checker: ts.TypeChecker,
  value: unknown,
  declared: ts.Type,
  at: string,
  found: string[],
): void {
  if (value === null || typeof value !== 'object') return;
  const type = checker.getNonNullableType(declared);
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
  if (Array.isArray(value)) {
    const element = checker.getIndexTypeOfType(type, ts.IndexKind.Number);
    if (element !== undefined)
      value.forEach((v, i) => walk(checker, v, element, `${at}/${i}`, found));
    return;
  }
  // Of a union (IntOrString, Quantity), the object members are the ones an object can match.
  const members = type.isUnion()
    ? type.types.filter((t) => (t.flags & ts.TypeFlags.Object) !== 0)
    : [type];
  if (members.length !== 1) return;
  const objectType = members[0];
  const index = checker.getIndexTypeOfType(objectType, ts.IndexKind.String);
  for (const [key, child] of Object.entries(value)) {
    const property = objectType.getProperty(key);
    if (property !== undefined) {
      const declaration = property.valueDeclaration ?? property.declarations?.[0];
      const propertyType =
        declaration === undefined
          ? checker.getTypeOfSymbol(property)
          : checker.getTypeOfSymbolAtLocation(property, declaration);
      walk(checker, child, propertyType, `${at}/${key}`, found);
    } else if (index !== undefined) {
      walk(checker, child, index, `${at}/${key}`, found);
    } else {
      found.push(`${at}/${key}`);
    }
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** A label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key ${key}: the prefix is not a DNS subdomain`;
  }
  if (name.length > 63 || !LABEL_NAME.test(name)) return `label key ${key}: bad name`;
  return undefined;
}

/**
 * What the API server checks in every object's metadata, whatever its kind:
 * the name (a DNS subdomain; a DNS label for a Namespace), the namespace (a
 * DNS label), label keys and values, annotation keys and their total size.
 * Neither kubernetes-models nor the CRD schemas (`metadata: {type: object}`)
 * check these.
 */
export function metadataProblems(obj: Record<string, any>): string[] {
  const problems: string[] = [];
  const meta = obj.metadata as Record<string, any> | undefined;
  if (meta === undefined) return ['metadata: missing'];
  const name: unknown = meta.name;
  const nameRule = obj.kind === 'Namespace' ? DNS_LABEL : DNS_SUBDOMAIN;
  const nameMax = obj.kind === 'Namespace' ? 63 : 253;
  if (typeof name !== 'string' || name.length > nameMax || !nameRule.test(name)) {
    problems.push(`metadata.name: ${JSON.stringify(name)} is not a valid ${obj.kind} name`);
  }
  if (meta.namespace !== undefined) {
    const ns: unknown = meta.namespace;
    if (typeof ns !== 'string' || ns.length > 63 || !DNS_LABEL.test(ns)) {
      problems.push(`metadata.namespace: ${JSON.stringify(ns)} is not a DNS label`);
    }
  }
  for (const [key, value] of Object.entries((meta.labels ?? {}) as Record<string, unknown>)) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem !== undefined) problems.push(`metadata.labels: ${keyProblem}`);
    if (
      typeof value !== 'string' ||
      value.length > 63 ||
      (value !== '' && !LABEL_NAME.test(value))
    ) {
      problems.push(`metadata.labels.${key}: ${JSON.stringify(value)} is not a label value`);
    }
  }
  const annotations = (meta.annotations ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(annotations)) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem !== undefined) problems.push(`metadata.annotations: ${keyProblem}`);
    if (typeof value !== 'string') problems.push(`metadata.annotations.${key}: not a string`);
  }
  const size = Object.entries(annotations).reduce(
    (n, [k, v]) => n + k.length + String(v).length,
    0,
  );
  if (size > 256 * 1024) problems.push(`metadata.annotations: ${size} bytes, over 256 KiB`);
  return problems;
}
