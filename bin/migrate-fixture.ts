#!/usr/bin/env node
/**
 * `npm run migrate:fixture`: what `npm run migrate` prints on the test
 * fixture (test/support/migration-fixture.ts: aws-credential-manager's roles
 * at `/` with live and stale subjects, annotated ServiceAccounts and its
 * webhook), against a real moto_server and the local Kubernetes test server.
 * First one reconcile pass of this project runs beside the manager (its
 * summary is printed), then `migrate` as a dry run, with `--apply`, and with
 * `--apply` again (nothing left to do). Each run's progress (stderr) and
 * report (stdout) are printed in order, as a terminal shows them.
 */
import { IamAdapter } from '../lambda/adapters/iam/iam-adapter';
import { reconcileSeed } from '../lambda/reconciler/reconcile-seed';
import { runMigrate, seedMigrationFixture } from '../test/support/migration-fixture';
import { ReconcileHarness, SEED } from '../test/support/reconcile-harness';

const RUNS: readonly (readonly string[])[] = [
  ['--seed', 'KubestashRole'],
  ['--seed', 'KubestashRole', '--apply'],
  ['--seed', 'KubestashRole', '--apply'],
];

async function main(): Promise<void> {
  const h = await ReconcileHarness.startOutsideJest();
  try {
    await seedMigrationFixture(h);
    const kubernetes = h.kubernetes();
    const pass = await reconcileSeed(
      { iam: new IamAdapter(h.iam().client), kubernetes: () => kubernetes, now: () => new Date() },
      SEED,
      { emptyRoleGracePeriodSeconds: 3600, otherSeeds: [], reportUnknownSeeds: true },
    );
    const own = await new IamAdapter(h.iam().client).listRolesUnderPath('/kubestash-irsa/');
    console.log(
      `# one reconcile pass beside the manager: created ${own.map((r) => r.name).join(', ')}, annotated ${pass.annotated}; ` +
        `skipped the manager's ${(pass.managerRoles ?? []).join(', ')}, left ${pass.leftToManager ?? 0} ServiceAccount(s) to them; ` +
        `taken by another role: ${(pass.takenRoleNames ?? []).join(', ') || 'none'}\n`,
    );
    for (const args of RUNS) {
      const run = await runMigrate(h, [...args]);
      process.stdout.write(`$ npm run migrate -- ${args.join(' ')}\n${run.err}${run.out}`);
      process.stdout.write(`(exit ${run.code})\n\n`);
    }
  } finally {
    await h.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
