import {
  ACCESS_CHECK_CONTAINER,
  BUCKET_NAMES_ANNOTATION,
  GATE_ANNOTATION,
  GATE_REASON_ANNOTATION,
  KUBESTASH_MANAGED_BY,
  MANAGED_BY_LABEL,
} from '../ports/annotations';
import { ACCESS_CHECK_VOLUME, accessCheckContainer } from './access-check-container';
import { jobObject, pointerSegment } from './admission-review';
import type { AdmissionReview, JsonPatchOperation } from './admission-review';
import type { GateSettings } from './gate-settings';

export interface GatedJob {
  readonly namespace: string;
  /** Empty when the Job is created with generateName only. */
  readonly name: string;
  readonly serviceAccount: string;
}

export type GateDecision =
  | { readonly gated: false; readonly reason: string }
  | { readonly gated: true; readonly patch: readonly JsonPatchOperation[]; readonly job: GatedJob };

/**
 * Whether a reviewed object is a KubeStash Job to hold, and the patch that
 * holds it: `spec.suspend: true`, the gate annotations, and the access-check
 * init container first in line. Pure: the same review always gets the same
 * answer, dry-run or not, as the API server requires of a webhook that
 * declares `sideEffects: NoneOnDryRun`. Anything else passes unchanged.
 */
export function gateJob(review: AdmissionReview, settings: GateSettings): GateDecision {
  const { request } = review;
  if (request.kind.group !== 'batch' || request.kind.kind !== 'Job') {
    return { gated: false, reason: `not a Job (${request.kind.kind}.${request.kind.group})` };
  }
  if (request.operation !== 'CREATE') {
    return { gated: false, reason: `${request.operation}, not CREATE` };
  }
  const parsed = jobObject.safeParse(request.object);
  if (!parsed.success) return { gated: false, reason: 'the object is not a Job the gate can read' };
  const job = parsed.data;
  const namespace = request.namespace ?? job.metadata.namespace ?? '';
  if (job.metadata.labels?.[MANAGED_BY_LABEL] !== KUBESTASH_MANAGED_BY) {
    return { gated: false, reason: `no ${MANAGED_BY_LABEL}=${KUBESTASH_MANAGED_BY} label` };
  }
  if (!settings.allowedNamespaces.includes(namespace)) {
    // The reconciler may not grant roles there, so it could never release the Job.
    return { gated: false, reason: `namespace ${namespace} is not an allowed namespace` };
  }
  if (job.spec.suspend === true) {
    // Someone else holds it; the reconciler only releases Jobs the gate held.
    return { gated: false, reason: 'already suspended by its creator' };
  }
  const initContainers = job.spec.template.spec.initContainers;
  if (initContainers?.some((c) => c.name === ACCESS_CHECK_CONTAINER) === true) {
    return { gated: false, reason: 'already gated (webhook reinvocation)' };
  }

  const serviceAccount = job.spec.template.spec.serviceAccountName ?? 'default';
  const named = (job.metadata.annotations?.[BUCKET_NAMES_ANNOTATION] ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  const managed = settings.buckets.filter((b) => named.length === 0 || named.includes(b.bucket));
  const unmanaged = named.filter((b) => !settings.buckets.some((m) => m.bucket === b));
  const container = accessCheckContainer({
    image: settings.accessCheckImage,
    attempts: settings.accessCheckAttempts,
    delaySeconds: settings.accessCheckDelaySeconds,
    targets: managed,
    unmanagedBuckets: unmanaged,
  });

  const gateAnnotations = {
    [GATE_ANNOTATION]: 'held',
    [GATE_REASON_ANNOTATION]: `created suspended until ServiceAccount ${serviceAccount} has an IAM role; the kubestash-irsa reconciler releases it`,
  };
  const patch: JsonPatchOperation[] = [];
  if (job.metadata.annotations === undefined) {
    patch.push({ op: 'add', path: '/metadata/annotations', value: gateAnnotations });
  } else {
    for (const [key, value] of Object.entries(gateAnnotations)) {
      patch.push({ op: 'add', path: `/metadata/annotations/${pointerSegment(key)}`, value });
    }
  }
  // `add` on an object member sets it whether or not it exists (RFC 6902 4.1).
  patch.push({ op: 'add', path: '/spec/suspend', value: true });
  patch.push(
    initContainers === undefined
      ? { op: 'add', path: '/spec/template/spec/initContainers', value: [container] }
      : { op: 'add', path: '/spec/template/spec/initContainers/0', value: container },
  );
  patch.push(
    job.spec.template.spec.volumes === undefined
      ? { op: 'add', path: '/spec/template/spec/volumes', value: [ACCESS_CHECK_VOLUME] }
      : { op: 'add', path: '/spec/template/spec/volumes/-', value: ACCESS_CHECK_VOLUME },
  );
  return {
    gated: true,
    patch,
    job: { namespace, name: job.metadata.name ?? '', serviceAccount },
  };
}
