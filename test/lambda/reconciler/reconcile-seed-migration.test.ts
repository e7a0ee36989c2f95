import { GetRoleCommand, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { IamAdapter } from '../../../lambda/adapters/iam/iam-adapter';
import { parseTrustPolicy } from '../../../lambda/domain/trust-policy';
import { serviceAccountSubject } from '../../../lambda/domain/subject';
import { reconcileSeed } from '../../../lambda/reconciler/reconcile-seed';
import type { ReconcileOptions } from '../../../lambda/reconciler/reconcile-seed';
import { managerTrustPolicy } from '../../support/credential-manager';
import type { FaultyAwsHandler } from '../../support/faulty-aws-handler';
import {
  iamWrites,
  MANAGER_ROLES,
  managerRoleArn,
  runMigrate,
  seedMigrationFixture,
} from '../../support/migration-fixture';
import { ReconcileHarness, SEED, SEED_ARN, TEST_ISSUER } from '../../support/reconcile-harness';

/**
 * Issue 18 on moto and the Kubernetes test server: the account and cluster of
 * someone moving from aws-credential-manager (test/support/migration-fixture.ts:
 * its KubestashRole-0…3 at `/`, untagged, trusting session ServiceAccounts;
 * KubestashRole-4 at `/` with this project's tags, a foreign name), this
 * project's reconciler running beside it with its gate holding Jobs, and
 * sessions arriving while the manager still grants some of them.
 */
const h = ReconcileHarness.forJest();

const MANAGED = { 'app.kubernetes.io/managed-by': 'kubestash.com' };
const HELD = { 'kubestash-irsa.io/gate': 'held' };
// The test server stamps objects with the real clock, so the reconciler's clock starts there too.
const NOW = new Date();
const OPTIONS: ReconcileOptions = {
  emptyRoleGracePeriodSeconds: 3600,
  otherSeeds: [],
  reportUnknownSeeds: true,
  gate: { stuckAfterSeconds: 1800 },
};
const MANAGER_NAMES = Object.keys(MANAGER_ROLES);
const PROVIDER = SEED.clusters[0].providerArn;
const SEEDED = { 'go.klusters.dev/seed-role-name': SEED_ARN };

function deps() {
  const { client, handler } = h.iam();
  const kubernetes = h.kubernetes();
  return {
    handler,
    deps: { iam: new IamAdapter(client), kubernetes: () => kubernetes, now: () => NOW },
  };
}

/** IAM writes the handler forwarded that name one of the manager's roles. */
const writesToManagerRoles = (handler: FaultyAwsHandler) =>
  handler.forwarded.filter(
    (r) =>
      /^(CreateRole|UpdateAssumeRolePolicy|AttachRolePolicy|DetachRolePolicy|TagRole|UntagRole|DeleteRole)$/.test(
        r.action,
      ) &&
      r.roleName !== undefined &&
      MANAGER_NAMES.includes(r.roleName),
  );

/** Each manager role's trust policy, attached policies and tags, to compare before and after. */
async function managerRoleState(): Promise<unknown> {
  const { client } = h.iam();
  const iam = new IamAdapter(client);
  return Promise.all(
    MANAGER_NAMES.map(async (name) => {
      const role = await client.send(new GetRoleCommand({ RoleName: name }));
      return {
        name,
        trust: role.Role?.AssumeRolePolicyDocument,
        policies: await iam.listAttachedPolicyArns(name),
        tags: await iam.getRoleTags(name),
      };
    }),
  );
}

/** A KubeStash session: its ServiceAccount (seed-annotated, maybe granted by the manager) and its Job, held by the gate. */
function addSession(name: string, roleArn?: string) {
  h.server.addServiceAccount({
    namespace: 'demo',
    name,
    annotations: {
      ...SEEDED,
      ...(roleArn === undefined ? {} : { 'eks.amazonaws.com/role-arn': roleArn }),
    },
  });
  h.server.addJob({
    namespace: 'demo',
    name,
    labels: MANAGED,
    annotations: HELD,
    suspend: true,
    serviceAccountName: name,
  });
}

/** What the manager does when it grants a session: the subject into its role's trust, then the annotation. */
async function managerGrants(roleName: string, name: string) {
  const { client } = h.iam();
  const role = await client.send(new GetRoleCommand({ RoleName: roleName }));
  const trust = parseTrustPolicy(role.Role?.AssumeRolePolicyDocument ?? '');
  const subjects = [...(trust.grants.get(PROVIDER) ?? []), serviceAccountSubject('demo', name)];
  await client.send(
    new UpdateAssumeRolePolicyCommand({
      RoleName: roleName,
      PolicyDocument: managerTrustPolicy(TEST_ISSUER, PROVIDER, subjects),
    }),
  );
  addSession(name, managerRoleArn(roleName));
}

type Annotated = { metadata: { annotations?: Record<string, string> } };
const roleArnOf = (name: string) =>
  (h.server.serviceAccount('demo', name) as Annotated).metadata.annotations?.[
    'eks.amazonaws.com/role-arn'
  ];
const suspended = (name: string) =>
  (h.server.job('demo', name) as { spec: { suspend: boolean } }).spec.suspend;
const patchesTo = (name: string) =>
  h.server.requests.filter(
    (r) => r.method === 'PATCH' && r.path.endsWith(`/serviceaccounts/${name}`),
  );

async function ownRoles(): Promise<{ name: string; subjects: string[] }[]> {
  const { client } = h.iam();
  const roles = await new IamAdapter(client).listRolesUnderPath('/kubestash-irsa/');
  return roles
    .map((r) => ({
      name: r.name,
      subjects: [...parseTrustPolicy(r.trustPolicy).grants.values()].flat(),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe('the reconciler beside aws-credential-manager (issue 18)', () => {
  test('never writes to the manager’s roles, grants new sessions past their indices, leaves working grants alone and releases their Jobs', async () => {
    await seedMigrationFixture(h);
    // live-a's Job was held by this project's gate before the manager annotated it.
    h.server.addJob({
      namespace: 'demo',
      name: 'live-a',
      labels: MANAGED,
      annotations: HELD,
      suspend: true,
      serviceAccountName: 'live-a',
    });
    addSession('session-new-1');
    addSession('session-new-2');
    const before = await managerRoleState();

    const first = deps();
    const result = await reconcileSeed(first.deps, SEED, OPTIONS);

    expect(writesToManagerRoles(first.handler)).toEqual([]);
    expect(await managerRoleState()).toEqual(before);
    expect(result).toMatchObject({
      managerRoles: MANAGER_NAMES,
      leftToManager: 1,
      // KubestashRole-4 at / carries this project's tags: not the manager's, a foreign name (#11).
      takenRoleNames: ['KubestashRole-4'],
    });
    // New grants land in this project's role past the manager's indices (and past the taken -4).
    // `pending` is annotated with KubestashRole-3, which does not trust it: not a working grant.
    expect(await ownRoles()).toEqual([
      {
        name: 'KubestashRole-5',
        subjects: expect.arrayContaining(
          ['pending', 'session-new-1', 'session-new-2'].map((n) =>
            serviceAccountSubject('demo', n),
          ),
        ),
      },
    ]);
    expect((await ownRoles())[0].subjects).not.toContain(serviceAccountSubject('demo', 'live-a'));
    const ours = 'arn:aws:iam::123456789012:role/kubestash-irsa/KubestashRole-5';
    expect(['pending', 'session-new-1', 'session-new-2'].map(roleArnOf)).toEqual([
      ours,
      ours,
      ours,
    ]);

    // The kept ServiceAccount: annotation untouched (no PATCH at all), its held Job released.
    expect(roleArnOf('live-a')).toBe(managerRoleArn('KubestashRole-0'));
    expect(patchesTo('live-a')).toEqual([]);
    expect(['live-a', 'session-new-1', 'session-new-2'].map(suspended)).toEqual([
      false,
      false,
      false,
    ]);
    expect(result.jobs).toMatchObject({ released: 3, held: 0 });
    // Only the unexpected taken name is told; the manager's roles are the known case.
    const taken = h.server.events.filter((e) => e.reason === 'DerivedRoleNameTaken');
    expect(taken.length).toBeGreaterThan(0);
    for (const e of taken) {
      expect(e.message).toContain('KubestashRole-4');
      expect(e.message).not.toMatch(/KubestashRole-[0-3]\b/);
    }

    // A second pass changes nothing.
    const second = deps();
    const again = await reconcileSeed(second.deps, SEED, OPTIONS);
    expect(again).toMatchObject({ created: 0, updated: 0, annotated: 0, leftToManager: 1 });
    expect(iamWrites(second.handler)).toEqual([]);
  });

  test('sessions arriving mid-migration: the manager’s grants stay its, the others go to this project’s roles; migrate then retires exactly the empty manager roles, and a crash in --apply is repaired', async () => {
    await seedMigrationFixture(h);
    await reconcileSeed(deps().deps, SEED, OPTIONS);

    // The manager still runs: it grants one new session (trust first, then the annotation) …
    await managerGrants('KubestashRole-0', 'session-by-manager');
    // … while another arrives that nobody granted yet, and live-a's session ends.
    addSession('session-after');
    h.server.deleteServiceAccount('demo', 'live-a');
    const before = await managerRoleState();

    const pass = deps();
    const result = await reconcileSeed(pass.deps, SEED, OPTIONS);
    expect(writesToManagerRoles(pass.handler)).toEqual([]);
    expect(await managerRoleState()).toEqual(before);
    expect(result).toMatchObject({ leftToManager: 1, created: 0 });
    expect(roleArnOf('session-by-manager')).toBe(managerRoleArn('KubestashRole-0'));
    expect(patchesTo('session-by-manager')).toEqual([]);
    expect(roleArnOf('session-after')).toMatch(/:role\/kubestash-irsa\/KubestashRole-5$/);
    expect([suspended('session-by-manager'), suspended('session-after')]).toEqual([false, false]);
    const subjects = (await ownRoles()).flatMap((r) => r.subjects);
    expect(subjects).toContain(serviceAccountSubject('demo', 'session-after'));
    expect(subjects).not.toContain(serviceAccountSubject('demo', 'session-by-manager'));

    // migrate: KubestashRole-0 still trusts a live session; -1, -2 trust nobody live; -3's only
    // annotated ServiceAccount (pending) now carries this project's role.
    const dry = await runMigrate(h, ['--seed', 'KubestashRole']);
    expect(dry.code).toBe(0);
    expect(iamWrites(dry.aws)).toEqual([]);
    expect(dry.out).toMatch(/KubestashRole-0 +\/ +keep +1 +2 +0 +1/);
    for (const n of [1, 2, 3]) expect(dry.out).toMatch(new RegExp(`KubestashRole-${n} +/ +delete`));
    expect(dry.out).toContain('3 with no live subject would be deleted');

    // A crash right after the first DetachRolePolicy: the next run finishes the job.
    const crashed = await runMigrate(h, ['--seed', 'KubestashRole', '--apply'], {
      crashAfter: 'DetachRolePolicy',
    });
    expect(crashed.code).toBe(1);
    const next = await runMigrate(h, ['--seed', 'KubestashRole', '--apply']);
    expect(next.code).toBe(0);
    const { client } = h.iam();
    const atRoot = (await new IamAdapter(client).listRolesUnderPath('/')).map((r) => r.name);
    expect(atRoot.sort()).toEqual([
      'KubestashRole',
      'KubestashRole-0',
      'KubestashRole-4',
      'KubestashRole-backup',
    ]);
    // Every role deleted had its policy detached first, and this project's roles are untouched.
    const deleted = [...crashed.aws.forwarded, ...next.aws.forwarded].filter(
      (r) => r.action === 'DeleteRole',
    );
    expect(deleted.map((r) => r.roleName).sort()).toEqual([
      'KubestashRole-1',
      'KubestashRole-2',
      'KubestashRole-3',
    ]);
    expect((await ownRoles()).map((r) => r.name)).toEqual(['KubestashRole-5']);

    // The next pass: the retired names are free again; nothing moves, nothing is rewritten.
    const after = deps();
    const settled = await reconcileSeed(after.deps, SEED, OPTIONS);
    expect(settled).toMatchObject({ managerRoles: ['KubestashRole-0'], leftToManager: 1 });
    expect(iamWrites(after.handler)).toEqual([]);
    expect(roleArnOf('session-by-manager')).toBe(managerRoleArn('KubestashRole-0'));
  });
});
