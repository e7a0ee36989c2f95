// zod/mini: the classic build would add ~450 KB to every Lambda bundle.
import * as z from 'zod/mini';

/**
 * The events that tell the reconciler where to look. Anything may publish them
 * to the project's EventBridge bus (the audit-log forwarder, the job gate, a
 * person with `aws events put-events`); they carry no authority: the reconciler
 * re-reads the truth from Kubernetes and IAM whatever an event says.
 *
 * Every event names the seed whose derived roles it concerns, because the bus
 * routes by seed to a FIFO message group of that seed: writes for one seed are
 * serialized. A publisher that cannot tell the seed (a deletion says only which
 * ServiceAccount is gone) publishes one event per configured seed.
 */
export const EVENT_SOURCE = 'kubestash-irsa';

export const DetailType = {
  serviceAccountChanged: 'ServiceAccount Changed',
  jobGated: 'Job Gated',
  resync: 'Resync Requested',
} as const;

const name = z.string().check(z.minLength(1), z.maxLength(253));
const seedName = z.string().check(z.minLength(1), z.maxLength(64));
const clusterName = z.string().check(z.minLength(1), z.maxLength(100));

export const serviceAccountChangedDetail = z.strictObject({
  seed: seedName,
  cluster: clusterName,
  namespace: name,
  name,
  operation: z.enum(['create', 'update', 'delete']),
});

export const jobGatedDetail = z.strictObject({
  seed: seedName,
  cluster: clusterName,
  namespace: name,
  job: name,
  serviceAccount: name,
});

export const resyncDetail = z.strictObject({
  seed: seedName,
  reason: z._default(z.string().check(z.maxLength(200)), 'schedule'),
});

/**
 * An event as publishers put it on the bus (the gate, the audit-log forwarder,
 * a person with `aws events put-events`); the queue carries only the fields of
 * {@link queuedEventSchema}, which is what the reconcile handler reads.
 */
export const reconcileEventSchema = z.discriminatedUnion('detail-type', [
  z.object({
    source: z.literal(EVENT_SOURCE),
    'detail-type': z.literal(DetailType.serviceAccountChanged),
    detail: serviceAccountChangedDetail,
  }),
  z.object({
    source: z.literal(EVENT_SOURCE),
    'detail-type': z.literal(DetailType.jobGated),
    detail: jobGatedDetail,
  }),
  z.object({
    source: z.literal(EVENT_SOURCE),
    'detail-type': z.literal(DetailType.resync),
    detail: resyncDetail,
  }),
]);

export type ReconcileEvent = z.output<typeof reconcileEventSchema>;

/**
 * What an SQS message of the reconcile queue carries: each rule's input
 * transformer keeps only the source, the kind, EventBridge's `time` (RFC 3339,
 * to the second) and the seed (`queuedMessage` in lib/reconcile-queue.ts), so
 * content-based deduplication keeps one message per seed, kind and second. A
 * whole event (a message queued before the transformer) reads the same: the
 * other fields are ignored.
 */
export const queuedEventSchema = z.object({
  source: z.literal(EVENT_SOURCE),
  'detail-type': z.enum([DetailType.serviceAccountChanged, DetailType.jobGated, DetailType.resync]),
  time: z.optional(z.string()),
  detail: z.object({ seed: seedName }),
});

export type QueuedEventBody = z.output<typeof queuedEventSchema>;
