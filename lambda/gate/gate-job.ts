import { seedNameOf } from '../domain/iam-names';
import {
  ACCESS_CHECK_CONTAINER,
  BUCKET_NAMES_ANNOTATION,
  COMPONENT_LABEL,
  GATE_ANNOTATION,
  GATE_REASON_ANNOTATION,
  KUBESTASH_MANAGED_BY,
  MANAGED_BY_LABEL,
  ROLE_ARN_ANNOTATION,
  KUBESTASH_POD_IDENTITY_ANNOTATION,
  POD_IDENTITY_ASSOCIATION_ANNOTATION,
  SEED_ROLE_ANNOTATION,
  SESSION_COMPONENTS,
} from '../ports/annotations';
import { ACCESS_CHECK_VOLUME, accessCheckContainer } from './access-check-container';
import { jobObject, pointerSegment } from './admission-review';
import type { AdmissionReview, JobObject, JsonPatchOperation } from './admission-review';
import type { GateSettings } from './gate-settings';

export interface GatedJob {
  readonly namespace: string;
  /** Empty when the Job is created with generateName only. */
  readonly name: string;
  readonly serviceAccount: string;
}

/** What the gate learned of the Job's ServiceAccount at admission (the handler reads it). */
export type ServiceAccountLookup =
  | { readonly kind: 'found'; readonly annotations: Readonly<Record<string, string>> }
  /** The API server has no such ServiceAccount (yet: KubeStash may create it just after the Job). */
  | { readonly kind: 'missing' }
  /** Not read within the gate's budget, or refused: the gate cannot tell, so it lets the Job pass. */
  | { readonly kind: 'unreadable'; readonly reason: string };

export interface AdmissionFacts {
  /** The cluster the review came from (the webhook URL path), when known. */
  readonly cluster: string | undefined;
  readonly serviceAccount: ServiceAccountLookup;
}

export type GateDecision =
  | {
      readonly gated: false;
      readonly reason: string;
      /** The ServiceAccount could not be read: the Job passed without a decision (counted and logged). */
      readonly unread?: true;
    }
  | { readonly gated: true; readonly patch: readonly JsonPatchOperation[]; readonly job: GatedJob };

type Screened =
  | { readonly gated: false; readonly reason: string }
  | { readonly gated: undefined; readonly job: JobObject; readonly target: GatedJob };

/**
 * The first look, from the review alone: whether the Job is one the gate
 * might hold, and if so which ServiceAccount decides it. The handler reads
 * that ServiceAccount only for these.
 */
export function screenJob(review: AdmissionReview, settings: GateSettings): Screened {
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
  if (job.spec.template.spec.initContainers?.some((c) => c.name === ACCESS_CHECK_CONTAINER)) {
    return { gated: false, reason: 'already gated (webhook reinvocation)' };
  }
  const serviceAccount = job.spec.template.spec.serviceAccountName ?? 'default';
  return {
    gated: undefined,
    job,
    target: { namespace, name: job.metadata.name ?? '', serviceAccount },
  };
}

/**
 * Whether a reviewed object is a KubeStash Job to hold, and the patch that
 * holds it: `spec.suspend: true`, the gate annotations, and the access-check
 * init container first in line. A Job is held only when its ServiceAccount
 * names a seed this stack serves for the cluster and carries no role ARN yet
 * (the reconciler writes it only once the role is proven, so a ServiceAccount
 * that has one is granted). Everything else passes unchanged with its reason:
 * trigger Jobs (no seed annotation), ServiceAccounts with a role of their own,
 * other seeds, ServiceAccounts already granted, and any Job whose
 * ServiceAccount could not be read (never stranded). Pure: the same review
 * and facts always get the same answer, dry-run or not, as the API server
 * requires of a webhook that declares `sideEffects: NoneOnDryRun`.
 */
export function gateJob(
  review: AdmissionReview,
  settings: GateSettings,
  facts: AdmissionFacts,
): GateDecision {
  const screened = screenJob(review, settings);
  if (screened.gated === false) return screened;
  const { job, target } = screened;
  const { serviceAccount } = target;
  const lookup = facts.serviceAccount;
  if (lookup.kind === 'unreadable') {
    return {
      gated: false,
      unread: true,
      reason: `ServiceAccount ${serviceAccount} could not be read (${lookup.reason}); passed ungated`,
    };
  }
  let saBuckets: string | undefined;
  if (lookup.kind === 'missing') {
    // KubeStash may create a session's ServiceAccount a moment after its Job; the Job cannot
    // start without it anyway, and the reconciler grants it once it appears.
    const component = job.metadata.labels?.[COMPONENT_LABEL] ?? '';
    if (!SESSION_COMPONENTS.has(component)) {
      return {
        gated: false,
        reason: `ServiceAccount ${serviceAccount} does not exist and the Job is no session Job (${COMPONENT_LABEL}=${component || 'none'})`,
      };
    }
  } else if (facts.cluster !== undefined && settings.podIdentityClusters.includes(facts.cluster)) {
    const verdict = podIdentityVerdict(
      job,
      serviceAccount,
      lookup.annotations,
      settings,
      facts.cluster,
    );
    if (verdict !== undefined) return verdict;
    saBuckets = lookup.annotations[BUCKET_NAMES_ANNOTATION];
  } else {
    const seedRole = lookup.annotations[SEED_ROLE_ANNOTATION];
    if (seedRole === undefined) {
      return {
        gated: false,
        reason: `ServiceAccount ${serviceAccount} carries no ${SEED_ROLE_ANNOTATION} (a trigger Job, or a ServiceAccount with a role of its own)`,
      };
    }
    const served = facts.cluster === undefined ? [] : (settings.clusterSeeds[facts.cluster] ?? []);
    if (!served.includes(seedNameOf(seedRole))) {
      return {
        gated: false,
        reason: `ServiceAccount ${serviceAccount} names seed ${seedRole}, which this stack does not serve on cluster ${facts.cluster ?? 'unknown'}`,
      };
    }
    const seedServes = settings.seedNamespaces[seedNameOf(seedRole)];
    if (seedServes !== undefined && !seedServes.includes(target.namespace)) {
      // The reconciler refuses it (NamespaceNotAllowed, an Event on the ServiceAccount) and
      // would never release it: holding it would only park the Job until it is marked stuck.
      return {
        gated: false,
        reason: `ServiceAccount ${serviceAccount} names seed ${seedRole}, which does not serve namespace ${target.namespace} (only ${seedServes.join(', ') || 'none'}); the reconciler refuses it with a NamespaceNotAllowed Event`,
      };
    }
    const granted = lookup.annotations[ROLE_ARN_ANNOTATION];
    if (granted !== undefined) {
      return {
        gated: false,
        reason: `ServiceAccount ${serviceAccount} is already granted ${granted}`,
      };
    }
    // KubeStash writes the buckets on the ServiceAccount; the Job's annotation is a fallback.
    saBuckets = lookup.annotations[BUCKET_NAMES_ANNOTATION];
  }
  return {
    gated: true,
    patch: holdPatch(
      job,
      settings,
      serviceAccount,
      saBuckets ?? job.metadata.annotations?.[BUCKET_NAMES_ANNOTATION],
    ),
    job: target,
  };
}

/**
 * In a cluster a pod-identity seed serves (docs/pod-identity.md), a Job is
 * held when its ServiceAccount will get an association from the reconciler
 * and has none yet: it carries KubeStash's Pod Identity annotation, names a
 * seed this stack serves there, or runs a backup, retention or restore
 * session; and has neither its own IRSA role nor the reconciler's association
 * mark. EKS injects Pod Identity credentials only into pods created after the
 * association exists, so a Job that started early would run without them.
 * Undefined: hold it.
 */
function podIdentityVerdict(
  job: JobObject,
  serviceAccount: string,
  annotations: Readonly<Record<string, string>>,
  settings: GateSettings,
  cluster: string,
): GateDecision | undefined {
  const associated = annotations[POD_IDENTITY_ASSOCIATION_ANNOTATION];
  if (associated !== undefined) {
    return {
      gated: false,
      reason: `ServiceAccount ${serviceAccount} already has its EKS Pod Identity association ${associated}`,
    };
  }
  const own = annotations[ROLE_ARN_ANNOTATION];
  if (own !== undefined) {
    return {
      gated: false,
      reason: `ServiceAccount ${serviceAccount} has a role of its own (${own})`,
    };
  }
  const seedRole = annotations[SEED_ROLE_ANNOTATION];
  const served = settings.clusterSeeds[cluster] ?? [];
  if (seedRole !== undefined && !served.includes(seedNameOf(seedRole))) {
    return {
      gated: false,
      reason: `ServiceAccount ${serviceAccount} names seed ${seedRole}, which this stack does not serve on cluster ${cluster}`,
    };
  }
  const session = SESSION_COMPONENTS.has(job.metadata.labels?.[COMPONENT_LABEL] ?? '');
  if (
    seedRole === undefined &&
    annotations[KUBESTASH_POD_IDENTITY_ANNOTATION] === undefined &&
    !session
  ) {
    return {
      gated: false,
      reason: `ServiceAccount ${serviceAccount} asks for no Pod Identity (no ${KUBESTASH_POD_IDENTITY_ANNOTATION}) and the Job is no session Job (a trigger Job)`,
    };
  }
  return undefined;
}

/**
 * The patch that holds a Job: the gate annotations, `spec.suspend: true`, the
 * access-check container first in line and its scratch volume. `bucketNames`
 * is KubeStash's comma-joined list (repeats allowed); the managed buckets the
 * Job names are probed (all of them when it names none), the others named.
 */
function holdPatch(
  job: JobObject,
  settings: GateSettings,
  serviceAccount: string,
  bucketNames: string | undefined,
): JsonPatchOperation[] {
  const initContainers = job.spec.template.spec.initContainers;
  const named = [
    ...new Set(
      (bucketNames ?? '')
        .split(',')
        .map((b) => b.trim())
        .filter((b) => b !== ''),
    ),
  ];
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
  return patch;
}
