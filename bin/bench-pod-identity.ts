#!/usr/bin/env node
/**
 * `npm run bench:pod-identity` (also `npm run bench:reconciler -- --mode pod-identity`):
 * 1,000 KubeStash ServiceAccounts created in a burst, their events delivered in
 * FIFO batches of 10 to the real reconcile handler with a pod-identity seed,
 * against moto_server (IAM; EKS clusters, with the Pod Identity association
 * calls played at HTTP level as the EKS API reference documents them) and the
 * local Kubernetes test server. Prints the EKS writes per new ServiceAccount,
 * the writes of an unchanged resync, and the time until every ServiceAccount
 * is associated (including the settle wait).
 */
import { performance } from 'node:perf_hooks';
import { podIdentityHarness } from '../test/support/pod-identity-harness';
import { startMotoServer } from '../test/support/moto-server';

// The handler's metrics would print EMF lines between the figures.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const COUNT = 1000;
const SETTLE_SECONDS = 10;

export async function benchPodIdentity(): Promise<void> {
  console.log(
    `Pod Identity benchmark: ${COUNT} ServiceAccounts in a burst, events in FIFO batches of 10, settle ${SETTLE_SECONDS} s\n`,
  );
  const moto = await startMotoServer();
  const h = await podIdentityHarness(moto.endpoint, { settleSeconds: SETTLE_SECONDS });
  try {
    const names = Array.from(
      { length: COUNT },
      (_, i) => `sample-backup-daemon-demo-session-${1778072138 + i * 300}`,
    );
    for (const name of names) {
      h.server.addServiceAccount({
        namespace: 'demo',
        name,
        annotations: { 'klusters.dev/pod-identity-association-id': 'a-operator00000000001' },
      });
    }
    const start = performance.now();
    let grantedAt = 0;
    for (let i = 0; i < COUNT; i += 10) {
      const out = await h.deliver(names.slice(i, i + 10));
      if (out.batchItemFailures.length > 0) throw new Error(`batch ${i / 10 + 1} failed`);
      if (grantedAt === 0 && names.every((n) => h.associated(n) !== undefined))
        grantedAt = performance.now() - start;
    }
    const total = performance.now() - start;
    const burstCreates = h.eksHandler.count('Create');
    const burstDeletes = h.eksHandler.count('Delete');
    const granted = names.filter((n) => h.associated(n) !== undefined).length;
    await h.deliver(['resync']);
    const resyncWrites =
      h.eksHandler.count('Create') + h.eksHandler.count('Delete') - burstCreates - burstDeletes;
    console.log(`granted:                 ${granted} / ${COUNT} ServiceAccounts associated`);
    console.log(
      `EKS writes (burst):      ${burstCreates + burstDeletes} (${burstCreates} CreatePodIdentityAssociation + ${burstDeletes} Delete) = ${((burstCreates + burstDeletes) / granted).toFixed(2)} per new ServiceAccount (goal 1)`,
    );
    console.log(
      `EKS writes (resync):     ${resyncWrites} for ${COUNT} unchanged ServiceAccounts (goal 0)`,
    );
    console.log(
      `EKS reads:               ${h.eksHandler.count('List')} List pages, ${h.eksHandler.count('Describe')} Describe (each association described once per warm Lambda)`,
    );
    console.log(
      `time to grant all:       ${(grantedAt / 1000).toFixed(2)} s, of which ${SETTLE_SECONDS} s settle wait (all ${COUNT / 10} batches in ${(total / 1000).toFixed(2)} s)`,
    );
    const ok = burstCreates === COUNT && resyncWrites === 0 && granted === COUNT;
    console.log(
      `\nResult: writes ${ok ? 'PASS' : 'FAIL'} (one per new ServiceAccount, none on resync)`,
    );
  } finally {
    await h.close();
    await moto.stop();
  }
}

if (require.main === module) {
  benchPodIdentity().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
