/**
 * The contract with the cluster: the names KubeStash and the reconciler agree
 * on. Changing one of these breaks running clusters, so they live in one place
 * that the reconciler, the job gate and the cdk8s app all import.
 */

/** On a ServiceAccount, written by KubeStash: the seed role ARN it wants a derived role of. */
export const SEED_ROLE_ANNOTATION = 'go.klusters.dev/seed-role-name';

/** On a ServiceAccount or Job, written by KubeStash: buckets the Job will touch, comma-separated. */
export const BUCKET_NAMES_ANNOTATION = 'go.klusters.dev/bucket-names';

/** On a ServiceAccount, written by the reconciler: the derived role it was granted (read by EKS's IRSA webhook). */
export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** Label KubeStash puts on the Jobs it creates; the job gate looks only at those. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** Label KubeStash puts on session Jobs: `kubestash-backup`, `kubestash-cleaner` (retention), `kubestash-restore`. */
export const COMPONENT_LABEL = 'app.kubernetes.io/component';

/** Values of {@link COMPONENT_LABEL} on the Jobs of a backup, retention or restore session: the ones that use the bucket. */
export const SESSION_COMPONENTS: ReadonlySet<string> = new Set([
  'kubestash-backup',
  'kubestash-cleaner',
  'kubestash-restore',
]);

/**
 * On a ServiceAccount, written by KubeStash in EKS Pod Identity mode: the
 * operator ServiceAccount's own association ID, copied onto the ServiceAccounts
 * it makes, as it copies `eks.amazonaws.com/role-arn` into
 * {@link SEED_ROLE_ANNOTATION} in IRSA mode (kubestash/apimachinery
 * `pkg/cloud/irsa.go`, `PodIdentityAssociationIDAnnotationKey`). Its presence
 * says "this ServiceAccount wants Pod Identity"; its value is not ours to use.
 */
export const KUBESTASH_POD_IDENTITY_ANNOTATION = 'klusters.dev/pod-identity-association-id';

/**
 * On a ServiceAccount, written by the reconciler in pod-identity mode once
 * its association exists and has had time to take effect: the association ID.
 * The job gate lets a Job whose ServiceAccount carries it pass unheld.
 */
export const POD_IDENTITY_ASSOCIATION_ANNOTATION = 'kubestash-irsa.io/pod-identity-association';

/** Value of {@link MANAGED_BY_LABEL} on KubeStash's Jobs. */
export const KUBESTASH_MANAGED_BY = 'kubestash.com';

/** `source.component` / `reportingComponent` of the Events the reconciler records. */
export const RECONCILER_COMPONENT = 'kubestash-irsa-reconciler';

/**
 * On a Job, written by the job gate and then the reconciler: where the Job
 * stands. `held` (created suspended by the gate), `released` (unsuspended by
 * the reconciler once its ServiceAccount had a role), `stuck` (still held past
 * the configured time; the reason annotation and the Job's Events say why).
 * The reconciler only ever unsuspends Jobs the gate marked `held`: a Job
 * someone else suspended stays theirs.
 */
export const GATE_ANNOTATION = 'kubestash-irsa.io/gate';
export const GATE_REASON_ANNOTATION = 'kubestash-irsa.io/gate-reason';
export type GateState = 'held' | 'released' | 'stuck';

/** The init container the gate injects; its name marks a Job already gated. */
export const ACCESS_CHECK_CONTAINER = 'kubestash-irsa-access-check';

/**
 * On a Job's pod template, written by the reconciler when it releases a held
 * Job whose ServiceAccount needs no role from this stack: the access-check
 * container reads it through the downward API and steps aside, so a Job the
 * gate should not have held is never failed by the gate's own check. A
 * suspended Job that never started accepts pod-template annotation changes
 * (Kubernetes "mutable scheduling directives" for Jobs, GA in 1.27:
 * https://www.kubernetes.dev/resources/keps/2926/).
 */
export const ACCESS_CHECK_ANNOTATION = 'kubestash-irsa.io/access-check';
/** Value of {@link ACCESS_CHECK_ANNOTATION} that switches the check off. */
export const ACCESS_CHECK_SKIP = 'skip';
