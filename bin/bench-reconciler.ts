#!/usr/bin/env node
/**
 * `npm run bench:reconciler`: 1,000 KubeStash ServiceAccounts created in a
 * burst, their events delivered in FIFO batches of 10 to the real reconcile
 * handler, against a real moto_server (IAM) and the local Kubernetes test
 * server. Prints the IAM writes per 1,000 granted, the time until every
 * ServiceAccount is annotated, and the reconciler's bundle size.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { performance } from 'node:perf_hooks';
import { IamAdapter } from '../lambda/adapters/iam/iam-adapter';
import { createReconcileHandler } from '../lambda/handlers/reconcile';
import { reconcileSeed } from '../lambda/reconciler/reconcile-seed';
import { benchPodIdentity } from './bench-pod-identity';
import { bundleSize } from './bundle-size';
import { FaultyAwsHandler } from '../test/support/faulty-aws-handler';
import type { KubernetesTestServer } from '../test/support/kubernetes-test-server';
import { startConnectedTestServer } from '../test/support/kubernetes-test-server';
import { createSeedRole } from '../test/support/moto-seed';
import { MOTO_ACCOUNT, MOTO_CLIENT_CONFIG, startMotoServer } from '../test/support/moto-server';

// The handler's metrics would print EMF lines between the figures.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const COUNT = 1000;
const TOKEN = 'k8s-aws-v1.bench';
const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/BENCH';
const SEED_ARN = `arn:aws:iam::${MOTO_ACCOUNT}:role/KubestashRole`;

async function main(): Promise<void> {
  console.log(
    `Reconciler benchmark: ${COUNT} ServiceAccounts in a burst, events in FIFO batches of 10\n`,
  );
  const moto = await startMotoServer();
  const { server, kube } = await startConnectedTestServer({ token: TOKEN });
  try {
    await createSeedRole(new IAMClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint }));

    const names = Array.from(
      { length: COUNT },
      (_, i) => `sample-backup-daemon-demo-session-${1778072138 + i * 300}`,
    );
    for (const name of names) {
      server.addServiceAccount({
        namespace: 'demo',
        name,
        annotations: { 'go.klusters.dev/seed-role-name': SEED_ARN },
      });
    }

    const aws = new FaultyAwsHandler();
    const iam = new IamAdapter(
      new IAMClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint, requestHandler: aws }),
    );
    const handle = createReconcileHandler({
      env: {
        RECONCILER_SEEDS: [
          {
            name: 'KubestashRole',
            conditionOperator: 'StringLike',
            clusters: [
              {
                name: 'prod',
                issuer: ISSUER,
                providerArn: `arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/${ISSUER}`,
              },
            ],
          },
        ],
        EMPTY_ROLE_GRACE_SECONDS: 3600,
      },
      reconcile: (seed, options) =>
        reconcileSeed({ iam, kubernetes: () => kube, now: () => new Date() }, seed, options),
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Bench', serviceName: 'reconciler' }),
    });

    const start = performance.now();
    let grantedAt = 0;
    let batches = 0;
    for (let i = 0; i < COUNT; i += 10) {
      const records = names.slice(i, i + 10).map(
        (name, j) =>
          ({
            messageId: `m-${i + j}`,
            body: JSON.stringify({
              source: 'kubestash-irsa',
              'detail-type': 'ServiceAccount Changed',
              detail: {
                seed: 'KubestashRole',
                cluster: 'prod',
                namespace: 'demo',
                name,
                operation: 'create',
              },
            }),
          }) as SQSRecord,
      );
      const out = await handle({ Records: records });
      batches++;
      if (out.batchItemFailures.length > 0) throw new Error(`batch ${batches} failed`);
      if (grantedAt === 0 && names.every((n) => annotated(server, n)))
        grantedAt = performance.now() - start;
    }
    const total = performance.now() - start;

    const writes = (prefix: string) => aws.actions.filter((a) => a === prefix).length;
    const creates = writes('CreateRole');
    const updates = writes('UpdateAssumeRolePolicy');
    const attaches = writes('AttachRolePolicy');
    const tags = writes('TagRole') + writes('UntagRole');
    const granted = names.filter((n) => annotated(server, n)).length;
    const trustWrites = creates + updates;
    console.log(`granted:                 ${granted} / ${COUNT} ServiceAccounts annotated`);
    console.log(
      `trust-policy writes:     ${trustWrites} (${creates} CreateRole + ${updates} UpdateAssumeRolePolicy) = ${((trustWrites * 1000) / granted).toFixed(1)} per 1,000 granted (goal ≤ 50; the original: one per ServiceAccount)`,
    );
    console.log(
      `all IAM writes:          ${trustWrites + attaches + tags} (+ ${attaches} AttachRolePolicy of the seed's policy to new roles, ${tags} tag writes)`,
    );
    console.log(
      `time to grant all:       ${(grantedAt / 1000).toFixed(2)} s (all ${batches} batches processed in ${(total / 1000).toFixed(2)} s)`,
    );

    const size = bundleSize('reconcile');
    console.log(
      `reconciler bundle:       ${(size / 1024).toFixed(0)} KiB minified (goal ≤ 1 MB) ${size <= 1_000_000 ? 'PASS' : 'FAIL'}`,
    );
    console.log(
      `\nResult: writes ${(trustWrites * 1000) / granted <= 50 ? 'PASS' : 'FAIL'} (trust-policy writes), bundle ${size <= 1_000_000 ? 'PASS' : 'FAIL'}`,
    );
  } finally {
    await kube.close();
    await server.stop();
    await moto.stop();
  }
}

function annotated(server: KubernetesTestServer, name: string): boolean {
  const sa = server.serviceAccount('demo', name) as
    { metadata?: { annotations?: Record<string, string> } } | undefined;
  return sa?.metadata?.annotations?.['eks.amazonaws.com/role-arn'] !== undefined;
}

// `-- --mode pod-identity` runs the Pod Identity benchmark instead.
const modeAt = process.argv.indexOf('--mode');
const run = process.argv[modeAt + 1] === 'pod-identity' && modeAt >= 0 ? benchPodIdentity : main;
run().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
