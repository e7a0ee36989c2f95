import Ajv from 'ajv';
import { parse } from 'yaml';

/**
 * The SecretProviderClass (Secrets Store CSI driver, `secrets-store.csi.x-k8s.io/v1`)
 * is the one object the cdk8s app writes untyped (its CRD is not imported).
 * Its CRD is not kept in the project either, so the shape below is written by
 * hand from the driver's v1 CRD (spec: provider, parameters as a string map,
 * secretObjects) and from the AWS provider's documented `objects` entries,
 * closed the same way the KubeStash schemas are.
 */

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };

export const SECRET_PROVIDER_CLASS_SCHEMA = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  additionalProperties: false,
  properties: {
    apiVersion: { const: 'secrets-store.csi.x-k8s.io/v1' },
    kind: { const: 'SecretProviderClass' },
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['provider', 'parameters'],
      properties: {
        provider: { type: 'string' },
        parameters: stringMap,
        secretObjects: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              annotations: stringMap,
              labels: stringMap,
              secretName: { type: 'string' },
              type: { type: 'string' },
              data: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  properties: { key: { type: 'string' }, objectName: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;

/** One entry of the AWS provider's `objects` parameter (a YAML list in a string). */
export const AWS_PROVIDER_OBJECTS_SCHEMA = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['objectName'],
    properties: {
      objectName: { type: 'string', minLength: 1 },
      objectType: { enum: ['secretsmanager', 'ssmparameter'] },
      objectAlias: { type: 'string' },
      objectVersion: { type: 'string' },
      objectVersionLabel: { type: 'string' },
      filePermission: { type: 'string' },
      jmesPath: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['path', 'objectAlias'],
          properties: { path: { type: 'string' }, objectAlias: { type: 'string' } },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true });
const validateClass = ajv.compile(SECRET_PROVIDER_CLASS_SCHEMA);
const validateObjects = ajv.compile(AWS_PROVIDER_OBJECTS_SCHEMA);

/** Problems with a SecretProviderClass for the AWS provider; empty when valid. */
export function secretProviderClassProblems(obj: unknown): string[] {
  if (!validateClass(obj)) {
    return (validateClass.errors ?? []).map((e) => `${e.instancePath || '(root)'}: ${e.message}`);
  }
  const spec = (obj as { spec: { provider: string; parameters: Record<string, string> } }).spec;
  if (spec.provider !== 'aws') return [];
  const objects: unknown = parse(spec.parameters.objects ?? '');
  if (!validateObjects(objects)) {
    return (validateObjects.errors ?? []).map(
      (e) => `spec.parameters.objects${e.instancePath}: ${e.message}`,
    );
  }
  return [];
}
