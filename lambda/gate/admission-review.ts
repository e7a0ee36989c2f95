// zod/mini: the classic build would add ~450 KB to the bundle.
import * as z from 'zod/mini';

/**
 * The parts of an `admission.k8s.io/v1` AdmissionReview the gate reads. The
 * object is kept loose (only what the gate inspects is typed) because the
 * patch must be computed against the object exactly as the API server sent it.
 */
const groupVersionKind = z.object({
  group: z.string(),
  version: z.string(),
  kind: z.string(),
});

const metadata = z.object({
  name: z.optional(z.string()),
  generateName: z.optional(z.string()),
  namespace: z.optional(z.string()),
  uid: z.optional(z.string()),
  labels: z.optional(z.record(z.string(), z.string())),
  annotations: z.optional(z.record(z.string(), z.string())),
});

const container = z.object({ name: z.string() });

export const jobObject = z.object({
  metadata,
  spec: z.object({
    suspend: z.optional(z.boolean()),
    template: z.object({
      spec: z.object({
        serviceAccountName: z.optional(z.string()),
        initContainers: z.optional(z.array(container)),
        volumes: z.optional(z.array(z.object({ name: z.string() }))),
      }),
    }),
  }),
});
export type JobObject = z.infer<typeof jobObject>;

export const admissionReview = z.object({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: z.object({
    uid: z.string().check(z.minLength(1)),
    kind: groupVersionKind,
    operation: z.string(),
    namespace: z.optional(z.string()),
    dryRun: z.optional(z.boolean()),
    object: z.optional(z.unknown()),
  }),
});
export type AdmissionReview = z.infer<typeof admissionReview>;

export interface JsonPatchOperation {
  readonly op: 'add' | 'replace';
  readonly path: string;
  readonly value: unknown;
}

/** The answer to a review: always allowed, with a JSON patch when the object is to change. */
export function admissionResponse(
  uid: string,
  patch: readonly JsonPatchOperation[],
): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: {
      uid,
      allowed: true,
      ...(patch.length === 0
        ? {}
        : {
            patchType: 'JSONPatch',
            patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
          }),
    },
  };
}

/** RFC 6901: `/` and `~` in a key are escaped inside a JSON pointer. */
export function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
