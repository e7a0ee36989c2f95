/**
 * Faults the main reconcileSeed suite does not reach: crashes right after the
 * IAM calls that empty and delete a derived role, crashes right after each
 * Kubernetes call the reconciler makes, and an AWS account whose IAM roles
 * quota is exhausted. Each is checked against what moto and the Kubernetes
 * test server hold afterwards: nothing lost, nothing granted twice, and a
 * settled pass that writes nothing.
 */
import { IamAdapter } from '../../../lambda/adapters/iam/iam-adapter';
import { KubernetesHttpClient } from '../../../lambda/adapters/kubernetes/kubernetes-http-client';
import { CONNECT_TIMEOUT_CODE } from '../../../lambda/adapters/kubernetes/kubernetes-transport';
import { serviceAccountSubject } from '../../../lambda/domain/subject';
import { parseTrustPolicy } from '../../../lambda/domain/trust-policy';
import { ROLE_ARN_ANNOTATION, SEED_ROLE_ANNOTATION } from '../../../lambda/ports/annotations';
import { RoleQuotaExceededError } from '../../../lambda/ports/iam-port';
import { EMPTY_SINCE_TAG } from '../../../lambda/ports/tag-keys';
import {
  ROLE_QUOTA_EXCEEDED_REASON,
  reconcileSeed,
} from '../../../lambda/reconciler/reconcile-seed';
import type { ReconcileOptions } from '../../../lambda/reconciler/reconcile-seed';
import { SimulatedCrash } from '../../support/faulty-aws-handler';
import type { FaultOptions, FaultyAwsHandler } from '../../support/faulty-aws-handler';
import type { RecordedRequest } from '../../support/kubernetes-test-server';
import { MOTO_ACCOUNT } from '../../support/moto-server';
import { sharedTestPki } from '../../support/kubernetes-test-server';
import { ReconcileHarness, SEED, SEED_ARN } from '../../support/reconcile-harness';
import { SilentServer } from '../../support/silent-server';

const PATH = '/kubestash-irsa/';
const OPTIONS: ReconcileOptions = {
  emptyRoleGracePeriodSeconds: 3600,
  otherSeeds: [],
  reportUnknownSeeds: true,
};
/** An emptied role may be deleted on the pass after the one that marked it. */
const NO_GRACE: ReconcileOptions = { ...OPTIONS, emptyRoleGracePeriodSeconds: 0 };

const h = ReconcileHarness.forJest();
const setUp = (limit = 100) => h.createSeed(limit);

interface KubernetesClientOptions {
  /**
   * One attempt per call: a dropped answer then ends the pass, as the Lambda
   * dying would, instead of being retried.
   */
  readonly dieOnDroppedReply?: boolean;
  /** `limit` of list requests, to make a list take several pages. */
  readonly pageSize?: number;
}

function deps(faults: FaultOptions = {}, kube: KubernetesClientOptions = {}) {
  const { client: iam, handler } = h.iam(faults);
  const client = h.kubernetes({
    ...(kube.dieOnDroppedReply === true ? { maxAttempts: 1 } : {}),
    ...(kube.pageSize === undefined ? {} : { pageSize: kube.pageSize }),
  });
  return {
    handler,
    deps: {
      iam: new IamAdapter(iam),
      kubernetes: (_cluster: string) => client,
      now: () => new Date('2026-11-22T12:00:00Z'),
    },
  };
}

const saName = (i: number) => `sample-backup-daemon-demo-session-${1778072138 + i}`;

function addServiceAccounts(n: number, from = 0, seedRole = SEED_ARN): string[] {
  const names: string[] = [];
  for (let i = from; i < from + n; i++) {
    h.server.addServiceAccount({
      namespace: 'demo',
      name: saName(i),
      annotations: { [SEED_ROLE_ANNOTATION]: seedRole },
    });
    names.push(saName(i));
  }
  return names;
}

/** IAM writes that reached moto (refused and throttled attempts carry a `:` suffix). */
const writes = (handler: FaultyAwsHandler) =>
  handler.actions.filter((a) =>
    /^(CreateRole|UpdateAssumeRolePolicy|AttachRolePolicy|DetachRolePolicy|DeleteRole|TagRole|UntagRole)$/.test(
      a,
    ),
  );

interface ServiceAccountView {
  readonly name: string;
  readonly uid: string;
  readonly annotations: Record<string, string>;
}

/** The ServiceAccounts as the test server holds them (not as the reconciler saw them). */
function serviceAccountsInServer(names: readonly string[]): ServiceAccountView[] {
  const out: ServiceAccountView[] = [];
  for (const name of names) {
    const object = h.server.serviceAccount('demo', name) as
      { metadata: { uid: string; annotations?: Record<string, string> } } | undefined;
    if (object !== undefined)
      out.push({ name, uid: object.metadata.uid, annotations: object.metadata.annotations ?? {} });
  }
  return out;
}

/** Every subject of every derived role in moto, with the roles that trust it. */
async function trustedBy(
  iam: IamAdapter,
): Promise<{ roles: Map<string, string>; subjects: Map<string, string[]> }> {
  const roles = new Map<string, string>();
  const subjects = new Map<string, string[]>();
  for (const role of await iam.listRolesUnderPath(PATH)) {
    roles.set(role.arn, role.name);
    const parsed = parseTrustPolicy(role.trustPolicy);
    expect(parsed.unrecognized).toEqual([]);
    const document = decodeURIComponent(role.trustPolicy);
    for (const list of parsed.grants.values()) {
      for (const subject of list) {
        // The parser drops duplicates inside one document: count the raw text too.
        expect(document.split(JSON.stringify(subject)).length - 1).toBe(1);
        subjects.set(subject, [...(subjects.get(subject) ?? []), role.name]);
      }
    }
  }
  return { roles, subjects };
}

/**
 * What must hold at every moment, even right after a crash: a ServiceAccount
 * annotated with a derived role is trusted by that role, and no subject is in
 * two roles.
 */
async function expectSafe(iam: IamAdapter, names: readonly string[]): Promise<void> {
  const { roles, subjects } = await trustedBy(iam);
  for (const [subject, holders] of subjects)
    expect({ subject, holders: holders.length }).toEqual({
      subject,
      holders: 1,
    });
  for (const sa of serviceAccountsInServer(names)) {
    const arn = sa.annotations[ROLE_ARN_ANNOTATION];
    if (arn === undefined) continue;
    const role = roles.get(arn);
    expect({ sa: sa.name, role }).toEqual({ sa: sa.name, role: expect.any(String) });
    expect(subjects.get(serviceAccountSubject('demo', sa.name))).toEqual([role]);
  }
}

/** Successful merge patches of one ServiceAccount, including one whose answer was dropped. */
function appliedPatches(name: string): RecordedRequest[] {
  return h.server.requests.filter(
    (r) =>
      r.method === 'PATCH' &&
      r.path === `/api/v1/namespaces/demo/serviceaccounts/${name}` &&
      r.status === 200,
  );
}

/**
 * Converged: each ServiceAccount in `granted` is annotated, by exactly one
 * merge patch over the whole test, with the one role that trusts it; no role
 * trusts anyone else; every role carries the seed's policy and no empty mark.
 */
async function expectConverged(
  iam: IamAdapter,
  granted: readonly string[],
  policyArn: string,
): Promise<void> {
  await expectSafe(iam, granted);
  const { roles, subjects } = await trustedBy(iam);
  const present = serviceAccountsInServer(granted);
  expect(present.map((sa) => sa.name)).toEqual(granted);
  for (const sa of present) {
    expect(roles.get(sa.annotations[ROLE_ARN_ANNOTATION] ?? '')).toBeDefined();
    expect({ sa: sa.name, patches: appliedPatches(sa.name).length }).toEqual({
      sa: sa.name,
      patches: 1,
    });
  }
  expect([...subjects.keys()].sort()).toEqual(
    granted.map((name) => serviceAccountSubject('demo', name)).sort(),
  );
  for (const name of roles.values()) {
    expect(await iam.listAttachedPolicyArns(name)).toEqual([policyArn]);
    expect((await iam.getRoleTags(name)).map((t) => t.key)).not.toContain(EMPTY_SINCE_TAG);
  }
}

/** Warning Events stored by the server, per ServiceAccount name and reason. */
function storedEvents(): { name: string; uid: string; reason: string; message: string }[] {
  return h.server.events.map((e) => {
    const event = e as {
      involvedObject: { name: string; uid: string };
      reason: string;
      message: string;
      type: string;
    };
    expect(event.type).toBe('Warning');
    return {
      name: event.involvedObject.name,
      uid: event.involvedObject.uid,
      reason: event.reason,
      message: event.message,
    };
  });
}

/** A pass with nothing left to do: no IAM write, no merge patch, no new Event. */
async function expectSettled(options: ReconcileOptions = OPTIONS): Promise<void> {
  const before = h.server.requests.length;
  const eventsBefore = h.server.events.length;
  const settled = deps();
  const result = await reconcileSeed(settled.deps, SEED, options);
  expect(writes(settled.handler)).toEqual([]);
  expect(result).toMatchObject({ created: 0, updated: 0, deleted: 0, annotated: 0 });
  expect(h.server.requests.slice(before).filter((r) => r.method === 'PATCH')).toEqual([]);
  expect(h.server.events.length).toBe(eventsBefore);
}

/** The ServiceAccounts annotated with a given derived role. */
function annotatedWith(names: readonly string[], roleName: string): string[] {
  return serviceAccountsInServer(names)
    .filter((sa) => sa.annotations[ROLE_ARN_ANNOTATION]?.endsWith(`/${roleName}`) === true)
    .map((sa) => sa.name);
}

describe('a crash between creating a role and attaching its policy', () => {
  test('with nothing else changing, the rerun attaches the policy before any ServiceAccount points at the role', async () => {
    const policyArn = await setUp();
    const names = addServiceAccounts(5);
    const crashing = deps();
    crashing.handler.crashAfter('CreateRole');
    await expect(reconcileSeed(crashing.deps, SEED, OPTIONS)).rejects.toThrow(SimulatedCrash);
    expect(await crashing.deps.iam.listAttachedPolicyArns('KubestashRole-0')).toEqual([]);

    // The trust policy already names every subject: the plan alone sees nothing
    // to update. The rerun dies right after its first annotation: by then the
    // role must carry its policy.
    h.server.crashAfter({ when: (r) => r.method === 'PATCH' });
    const rerun = deps({}, { dieOnDroppedReply: true });
    await expect(reconcileSeed(rerun.deps, SEED, OPTIONS)).rejects.toThrow();
    expect(writes(rerun.handler)).toEqual(['AttachRolePolicy']);
    expect(h.server.requests.filter((r) => r.replyDropped === true)).toHaveLength(1);
    expect(await rerun.deps.iam.listAttachedPolicyArns('KubestashRole-0')).toEqual([policyArn]);

    // Annotations go out several at a time, so the ones already in flight when the process
    // died may have been applied too; the first one was. The last pass annotates the rest.
    const last = deps();
    const result = await reconcileSeed(last.deps, SEED, OPTIONS);
    expect(result.annotated).toBeLessThan(names.length);
    expect(writes(last.handler)).toEqual([]);
    await expectConverged(last.deps.iam, names, policyArn);
    await expectSettled();
  });

  test('the repair is reported, and counted as a role written', async () => {
    await setUp();
    addServiceAccounts(3);
    const crashing = deps();
    crashing.handler.crashAfter('CreateRole');
    await expect(reconcileSeed(crashing.deps, SEED, OPTIONS)).rejects.toThrow(SimulatedCrash);
    const result = await reconcileSeed(deps().deps, SEED, OPTIONS);
    expect(result).toMatchObject({ created: 0, updated: 1, annotated: 3 });
    expect(result.warnings).toEqual([
      expect.stringMatching(/^KubestashRole-0 lacked some of the seed's policies/),
    ]);
  });
});

describe('crashes right after the IAM calls that empty and delete a derived role', () => {
  test('a crash right after UntagRole (reviving an emptied role) is repaired: the role is reused, not deleted or doubled', async () => {
    const policyArn = await setUp();
    const first = addServiceAccounts(3);
    await reconcileSeed(deps().deps, SEED, NO_GRACE);
    for (const name of first) h.server.deleteServiceAccount('demo', name);
    // Emptied: its trust now names nobody and it carries the empty-since mark.
    await reconcileSeed(deps().deps, SEED, NO_GRACE);
    const [emptied] = await deps().deps.iam.listRolesUnderPath(PATH);
    expect(parseTrustPolicy(emptied.trustPolicy).emptyMarker).toBe(true);
    expect((await deps().deps.iam.getRoleTags(emptied.name)).map((t) => t.key)).toContain(
      EMPTY_SINCE_TAG,
    );

    const fresh = addServiceAccounts(2, 10);
    const crashing = deps();
    crashing.handler.crashAfter('UntagRole');
    await expect(reconcileSeed(crashing.deps, SEED, NO_GRACE)).rejects.toThrow(SimulatedCrash);
    // The mark is gone but the trust is not written yet: the role trusts nobody, nobody points at it.
    expect(writes(crashing.handler)).toEqual(['UntagRole']);
    await expectSafe(crashing.deps.iam, fresh);
    expect(serviceAccountsInServer(fresh).map((sa) => sa.annotations[ROLE_ARN_ANNOTATION])).toEqual(
      [undefined, undefined],
    );

    // With no grace period a role that trusts nobody and has no mark must not be taken for garbage.
    const rerun = deps();
    const result = await reconcileSeed(rerun.deps, SEED, NO_GRACE);
    expect(result).toMatchObject({ created: 0, deleted: 0, annotated: 2 });
    expect((await rerun.deps.iam.listRolesUnderPath(PATH)).map((r) => r.name)).toEqual([
      'KubestashRole-0',
    ]);
    await expectConverged(rerun.deps.iam, fresh, policyArn);
    await expectSettled(NO_GRACE);
  });

  test.each(['DetachRolePolicy', 'DeleteRole'])(
    'a crash right after %s (deleting an emptied role) loses nothing: the refusal Event and a newcomer are handled next pass',
    async (action) => {
      const policyArn = await setUp();
      const all = addServiceAccounts(25);
      await reconcileSeed(deps().deps, SEED, NO_GRACE);
      const kept = annotatedWith(all, 'KubestashRole-0');
      const leaving = annotatedWith(all, 'KubestashRole-1');
      expect(kept.length + leaving.length).toBe(25);
      expect(leaving.length).toBeGreaterThan(0);
      for (const name of leaving) h.server.deleteServiceAccount('demo', name);
      await reconcileSeed(deps().deps, SEED, NO_GRACE); // empties and marks KubestashRole-1

      // Refused on the deleting pass: its Event comes after the IAM writes.
      h.server.addServiceAccount({
        namespace: 'demo',
        name: 'names-another-seed',
        annotations: { [SEED_ROLE_ANNOTATION]: `arn:aws:iam::${MOTO_ACCOUNT}:role/OtherRole` },
      });
      const crashing = deps();
      crashing.handler.crashAfter(action);
      await expect(reconcileSeed(crashing.deps, SEED, NO_GRACE)).rejects.toThrow(SimulatedCrash);
      expect(writes(crashing.handler).at(-1)).toBe(action);
      expect(h.server.events).toEqual([]);
      await expectSafe(crashing.deps.iam, kept);

      // KubestashRole-0 is full: a newcomer needs KubestashRole-1, half-deleted or gone.
      const [newcomer] = addServiceAccounts(1, 100);
      const rerun = deps();
      const result = await reconcileSeed(rerun.deps, SEED, NO_GRACE);
      expect(result.annotated).toBe(1);
      expect(annotatedWith([newcomer], 'KubestashRole-1')).toEqual([newcomer]);
      await expectConverged(rerun.deps.iam, [...kept, newcomer], policyArn);
      expect((await rerun.deps.iam.listRolesUnderPath(PATH)).map((r) => r.name).sort()).toEqual([
        'KubestashRole-0',
        'KubestashRole-1',
      ]);
      expect(storedEvents()).toEqual([
        expect.objectContaining({ name: 'names-another-seed', reason: 'SeedRoleNotAllowed' }),
      ]);
      await expectSettled(NO_GRACE);
    },
  );

  test('a crash right after DeleteRole with nobody waiting leaves the role gone for good', async () => {
    const policyArn = await setUp();
    const all = addServiceAccounts(25);
    await reconcileSeed(deps().deps, SEED, NO_GRACE);
    const kept = annotatedWith(all, 'KubestashRole-0');
    for (const name of annotatedWith(all, 'KubestashRole-1'))
      h.server.deleteServiceAccount('demo', name);
    await reconcileSeed(deps().deps, SEED, NO_GRACE);
    const crashing = deps();
    crashing.handler.crashAfter('DeleteRole');
    await expect(reconcileSeed(crashing.deps, SEED, NO_GRACE)).rejects.toThrow(SimulatedCrash);

    const rerun = deps();
    await reconcileSeed(rerun.deps, SEED, NO_GRACE);
    expect(writes(rerun.handler)).toEqual([]);
    expect((await rerun.deps.iam.listRolesUnderPath(PATH)).map((r) => r.name)).toEqual([
      'KubestashRole-0',
    ]);
    await expectConverged(rerun.deps.iam, kept, policyArn);
  });
});

describe('a crash right after each Kubernetes call the reconciler makes', () => {
  const isList = (r: RecordedRequest) =>
    r.method === 'GET' && r.access?.resource === 'serviceaccounts' && r.access.verb === 'list';
  const isPatch = (r: RecordedRequest) => r.method === 'PATCH';
  const isEvent = (r: RecordedRequest) => r.method === 'POST' && r.path.endsWith('/events');

  // 50 ServiceAccounts, room for two roles of 22: 44 are granted and 6 refused
  // with an Event; lists come in pages of 10.
  const cases: [string, (r: RecordedRequest) => boolean, number][] = [
    ['list ServiceAccounts (page 1 of 5)', isList, 0],
    ['list ServiceAccounts (page 3 of 5)', isList, 2],
    ['merge-patch of the role annotation (the first)', isPatch, 0],
    ['merge-patch of the role annotation (the 17th)', isPatch, 16],
    ['merge-patch of the role annotation (the last)', isPatch, -1],
    ['create Event (the first)', isEvent, 0],
    ['create Event (the third)', isEvent, 2],
  ];

  test.each(cases)(
    'after %s: the rerun converges, each ServiceAccount annotated once, each refusal recorded once',
    async (_call, when, skip) => {
      const policyArn = await setUp(2);
      const names = addServiceAccounts(50);

      // A dry run on a copy of the world tells how many patches there will be.
      let skipCount = skip;
      if (skip === -1) {
        const probe = deps();
        const dry = await reconcileSeed(probe.deps, SEED, OPTIONS);
        skipCount = dry.annotated - 1;
        await h.moto.reset();
        h.server.reset();
        await setUp(2);
        addServiceAccounts(50);
      }

      h.server.crashAfter({ when, skip: skipCount });
      const crashing = deps({}, { dieOnDroppedReply: true, pageSize: 10 });
      await expect(reconcileSeed(crashing.deps, SEED, OPTIONS)).rejects.toThrow();
      const dropped = h.server.requests.filter((r) => r.replyDropped === true);
      expect(dropped).toHaveLength(1);
      expect(when(dropped[0])).toBe(true);
      await expectSafe(crashing.deps.iam, names);

      const rerun = deps({}, { pageSize: 10 });
      const result = await reconcileSeed(rerun.deps, SEED, OPTIONS);
      const granted = result.plan.assignments.map((a) => a.name).sort();
      const refused = result.plan.refusals.map((r) => r.name).sort();
      expect(granted.length + refused.length).toBe(50);
      expect(granted.length).toBeGreaterThan(30);
      expect(refused.length).toBeGreaterThan(0);
      expect(result.plan.refusals.every((r) => r.reason === 'DerivedRoleLimitReached')).toBe(true);
      expect(result.refusedByReason).toEqual({ DerivedRoleLimitReached: refused.length });

      await expectConverged(rerun.deps.iam, granted, policyArn);
      // Refused ones are not annotated, and each has exactly one Event, for its current uid.
      const uids = new Map(serviceAccountsInServer(names).map((sa) => [sa.name, sa.uid]));
      for (const sa of serviceAccountsInServer(refused)) {
        expect(sa.annotations[ROLE_ARN_ANNOTATION]).toBeUndefined();
      }
      const events = storedEvents();
      expect(events.map((e) => e.name).sort()).toEqual(refused);
      for (const e of events) {
        expect(e.uid).toBe(uids.get(e.name));
        expect(e.reason).toBe('DerivedRoleLimitReached');
      }
      await expectSettled();
    },
  );
});

describe("the account's IAM roles quota exhausted", () => {
  test.each([
    ['no role can be created', 2],
    ['one of the two roles needed can be created', 3],
  ])(
    'when %s, the pass grants what fits, tells the rest why, and a later pass grants them',
    async (_why, rolesQuota) => {
      const policyArn = await setUp();
      const early = addServiceAccounts(10);
      await reconcileSeed(deps().deps, SEED, OPTIONS); // the seed and KubestashRole-0: two roles
      const late = addServiceAccounts(40, 100);
      const all = [...early, ...late];

      const full = deps({ rolesPerAccountQuota: rolesQuota });
      const result = await reconcileSeed(full.deps, SEED, OPTIONS);
      // IAM said no once; the pass re-planned instead of failing (and failing every retry).
      expect(full.handler.actions.filter((a) => a === 'CreateRole:limit-exceeded')).toHaveLength(1);
      expect(full.handler.calls('CreateRole')).toBe(rolesQuota - 2);
      expect(result.roleQuotaExceeded).toBe(
        `Cannot exceed quota for RolesPerAccount: ${rolesQuota}`,
      );
      expect(result.warnings.join('\n')).toMatch(/Roles per account.*L-FE177D64/);
      // The metrics count them under the reason their Events give, not the planner's.
      expect(result.refusedByReason).toEqual({
        [ROLE_QUOTA_EXCEEDED_REASON]: result.plan.refusals.length,
      });
      const roles = (await full.deps.iam.listRolesUnderPath(PATH)).map((r) => r.name).sort();
      expect(roles).toEqual(['KubestashRole-0', 'KubestashRole-1'].slice(0, rolesQuota - 1));

      // What fits the existing roles is granted (KubestashRole-0 is filled up first)...
      const granted = result.plan.assignments.map((a) => a.name).sort();
      const refused = result.plan.refusals.map((r) => r.name).sort();
      expect(granted.length + refused.length).toBe(50);
      expect(granted.length).toBeGreaterThan(10);
      expect(refused.length).toBeGreaterThan(0);
      expect(annotatedWith(all, 'KubestashRole-0').length).toBeGreaterThan(10);
      await expectSafe(full.deps.iam, all);
      for (const sa of serviceAccountsInServer(granted))
        expect(sa.annotations[ROLE_ARN_ANNOTATION]).toBeDefined();
      // ...and each of the rest gets one Warning Event naming the quota and the fix.
      const events = storedEvents();
      expect(events.map((e) => e.name).sort()).toEqual(refused);
      for (const e of events) {
        expect(e.reason).toBe(ROLE_QUOTA_EXCEEDED_REASON);
        expect(e.message).toContain(`RolesPerAccount: ${rolesQuota}`);
        expect(e.message).toMatch(/Roles per account.*L-FE177D64.*delete IAM roles/);
        expect(e.message).not.toMatch(/RoleCreationLimit/);
      }
      for (const sa of serviceAccountsInServer(refused))
        expect(sa.annotations[ROLE_ARN_ANNOTATION]).toBeUndefined();

      // Still full: the next pass changes nothing and records no new Event.
      const again = deps({ rolesPerAccountQuota: rolesQuota });
      const still = await reconcileSeed(again.deps, SEED, OPTIONS);
      expect(writes(again.handler)).toEqual([]);
      expect(still.annotated).toBe(0);
      expect(h.server.events).toHaveLength(events.length);

      // Quota raised: the next pass creates the roles and grants the rest.
      const lifted = deps();
      const done = await reconcileSeed(lifted.deps, SEED, OPTIONS);
      expect(done.created).toBeGreaterThan(0);
      expect(done.plan.refusals).toEqual([]);
      expect(done.roleQuotaExceeded).toBeUndefined();
      expect(done.annotated).toBe(refused.length);
      await expectConverged(lifted.deps.iam, all, policyArn);
      await expectSettled();
    },
  );

  test('the IAM adapter maps real IAM\u2019s refusal to RoleQuotaExceededError', async () => {
    await setUp();
    const full = deps({ rolesPerAccountQuota: 1 });
    await expect(
      full.deps.iam.createRole({
        name: 'KubestashRole-0',
        path: PATH,
        trustPolicy: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
        description: 'x',
        maxSessionDurationSeconds: 3600,
        tags: [],
        policyArns: [],
      }),
    ).rejects.toThrow(RoleQuotaExceededError);
    // Not retried as throttling: one attempt.
    expect(full.handler.actions).toEqual(['CreateRole:limit-exceeded']);
  });
});

describe('a seed with two clusters, one of whose API servers cannot be connected to', () => {
  const DARK_ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/DARK';
  const TWO_CLUSTERS = {
    ...SEED,
    clusters: [
      ...SEED.clusters,
      {
        name: 'dark',
        issuer: DARK_ISSUER,
        providerArn: `arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/${DARK_ISSUER}`,
      },
    ],
  };
  let silent: SilentServer;
  beforeAll(async () => {
    silent = await new SilentServer().start();
  });
  afterAll(() => silent.stop());

  test('the reachable cluster is reconciled within seconds, the other keeps its grants, and the pass says which and why', async () => {
    await setUp();
    const { client: iamClient } = h.iam();
    const iam = new IamAdapter(iamClient);
    const reachable = h.kubernetes();
    const [first] = addServiceAccounts(1);
    // Both clusters answer at first (the same test server stands for both).
    await reconcileSeed(
      { iam, kubernetes: () => reachable, now: () => new Date('2026-11-22T12:00:00Z') },
      TWO_CLUSTERS,
      OPTIONS,
    );
    const darkProvider = TWO_CLUSTERS.clusters[1].providerArn;
    const darkSubject = serviceAccountSubject('demo', first);
    const trustsDark = async () =>
      (await iam.listRolesUnderPath(PATH)).some((r) =>
        (parseTrustPolicy(r.trustPolicy).grants.get(darkProvider) ?? []).includes(darkSubject),
      );
    expect(await trustsDark()).toBe(true);

    // Then `dark` stops answering: its connections never reach a TLS session.
    const { caPem } = await sharedTestPki();
    const dark = new KubernetesHttpClient({
      connection: async () => ({ server: silent.url, caPem }),
      tokens: { token: async () => 'k8s-aws-v1.t', invalidate: () => {} },
      connectTimeoutMs: 300,
      retry: { baseDelayMs: 1 },
    });
    const [second] = addServiceAccounts(1, 1);
    const started = Date.now();
    const result = await reconcileSeed(
      {
        iam,
        kubernetes: (cluster) => (cluster === 'dark' ? dark : reachable),
        now: () => new Date('2026-11-22T12:05:00Z'),
      },
      TWO_CLUSTERS,
      { ...OPTIONS, emptyRoleGracePeriodSeconds: 0, gate: { stuckAfterSeconds: 1800 } },
    );
    // Two 300 ms connect attempts, not the 10 s request timeout times four retries.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.unreachableClusters).toEqual([
      expect.objectContaining({
        cluster: 'dark',
        code: CONNECT_TIMEOUT_CODE,
        likelyCause: expect.stringContaining('does not run in the cluster network'),
      }),
    ]);
    // `prod` was reconciled: the new ServiceAccount got its role.
    expect(serviceAccountsInServer([second])[0].annotations[ROLE_ARN_ANNOTATION]).toMatch(
      /:role\/kubestash-irsa\/KubestashRole-\d+$/,
    );
    // `dark`'s grant was not dropped for being unseen, and nothing else was planned for it.
    expect(await trustsDark()).toBe(true);
    expect(result.plan.assignments.filter((a) => a.cluster === 'dark' && a.annotate)).toEqual([]);
    // The gate's Jobs in `dark` were not listed: a look at the held Jobs proves nothing for this
    // seed, so the handler answers its hints with a pass (hint-watch.ts).
    expect(result.gateJobs?.complete).toBe(false);
    await dark.close();
  });
});
