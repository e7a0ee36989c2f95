import { gunzipSync } from 'node:zlib';
import * as z from 'zod/mini';
import { DetailType, EVENT_SOURCE } from '../events/reconcile-event';
import type { BusEntry } from '../ports/event-publisher-port';
import { seedNameOf } from '../domain/iam-names';

/**
 * Turns EKS control-plane audit logs, as a CloudWatch Logs subscription
 * delivers them (gzip + base64), into the reconciler's events. Pure apart from
 * gunzip: no AWS calls.
 */

const SEED_ROLE_ANNOTATION = 'go.klusters.dev/seed-role-name';

const subscriptionPayload = z.object({
  messageType: z.enum(['DATA_MESSAGE', 'CONTROL_MESSAGE']),
  logGroup: z.string(),
  logEvents: z.array(z.object({ id: z.string(), timestamp: z.number(), message: z.string() })),
});

const objectMeta = z.optional(
  z.object({
    name: z.optional(z.string()),
    namespace: z.optional(z.string()),
    annotations: z.optional(z.record(z.string(), z.string())),
  }),
);

const auditEvent = z.object({
  kind: z.literal('Event'),
  stage: z.string(),
  verb: z.string(),
  objectRef: z.optional(
    z.object({
      resource: z.optional(z.string()),
      namespace: z.optional(z.string()),
      name: z.optional(z.string()),
    }),
  ),
  responseStatus: z.optional(z.object({ code: z.optional(z.number()) })),
  requestObject: z.optional(z.looseObject({ metadata: objectMeta })),
  responseObject: z.optional(z.looseObject({ metadata: objectMeta })),
});

export interface NormalizeResult {
  readonly entries: BusEntry[];
  /** Log lines that were not audit events of interest, by why. */
  readonly skipped: Record<string, number>;
}

/** `/aws/eks/<cluster>/cluster` → `<cluster>`. */
export function clusterOfLogGroup(logGroup: string): string | undefined {
  return /^\/aws\/eks\/([^/]+)\/cluster$/.exec(logGroup)?.[1];
}

export function decodeSubscriptionData(data: string): z.output<typeof subscriptionPayload> {
  const json = gunzipSync(Buffer.from(data, 'base64')).toString('utf8');
  return subscriptionPayload.parse(JSON.parse(json));
}

/**
 * ServiceAccount creations and deletions that succeeded become `ServiceAccount
 * Changed` events: for the seed the ServiceAccount names when the audit record
 * carries its annotations, otherwise one per configured seed.
 */
export function normalizeAuditLogs(data: string, seeds: readonly string[]): NormalizeResult {
  const skipped: Record<string, number> = {};
  const skip = (why: string) => {
    skipped[why] = (skipped[why] ?? 0) + 1;
  };
  const payload = decodeSubscriptionData(data);
  const cluster = clusterOfLogGroup(payload.logGroup);
  if (payload.messageType === 'CONTROL_MESSAGE' || cluster === undefined) {
    if (cluster === undefined) skip('not an EKS cluster log group');
    return { entries: [], skipped };
  }
  const entries: BusEntry[] = [];
  const seen = new Set<string>();
  for (const logEvent of payload.logEvents) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(logEvent.message);
    } catch {
      skip('not JSON');
      continue;
    }
    const result = auditEvent.safeParse(parsed);
    if (!result.success) {
      skip('not an audit event');
      continue;
    }
    const event = result.data;
    if (event.objectRef?.resource !== 'serviceaccounts' || event.stage !== 'ResponseComplete') {
      skip('not a ServiceAccount change');
      continue;
    }
    if (event.verb !== 'create' && event.verb !== 'delete') {
      skip('not a create or delete');
      continue;
    }
    const code = event.responseStatus?.code ?? 0;
    if (code < 200 || code >= 300) {
      skip('request failed');
      continue;
    }
    const meta = event.requestObject?.metadata ?? event.responseObject?.metadata;
    const namespace = event.objectRef.namespace ?? meta?.namespace;
    const name = event.objectRef.name ?? meta?.name;
    if (namespace === undefined || name === undefined) {
      skip('no namespace or name');
      continue;
    }
    const annotation = meta?.annotations?.[SEED_ROLE_ANNOTATION];
    if (event.verb === 'create' && meta !== undefined && annotation === undefined) {
      skip('no seed annotation');
      continue;
    }
    const targets = annotation === undefined ? seeds : [seedNameOf(annotation)];
    for (const seed of targets) {
      const detail = { seed, cluster, namespace, name, operation: event.verb };
      const key = JSON.stringify(detail);
      // One batch may hold the same change twice (retries); one event suffices.
      if (seen.has(key)) continue;
      seen.add(key);
      entries.push({
        Source: EVENT_SOURCE,
        DetailType: DetailType.serviceAccountChanged,
        Detail: key,
      });
    }
  }
  return { entries, skipped };
}
