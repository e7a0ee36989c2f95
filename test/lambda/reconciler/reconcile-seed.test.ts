import { CreateRoleCommand, TagRoleCommand } from '@aws-sdk/client-iam';
import { IamAdapter } from '../../../lambda/adapters/iam/iam-adapter';
import { parseTrustPolicy } from '../../../lambda/domain/trust-policy';
import { ALLOWED_NAMESPACES_TAG } from '../../../lambda/ports/tag-keys';
import { reconcileSeed } from '../../../lambda/reconciler/reconcile-seed';
import type { SeedEnv } from '../../../lambda/reconciler/reconciler-settings';
import { SimulatedCrash } from '../../support/faulty-aws-handler';
import type { FaultOptions, FaultyAwsHandler } from '../../support/faulty-aws-handler';
import { ReconcileHarness, SEED, SEED_ARN } from '../../support/reconcile-harness';

const OPTIONS = { emptyRoleGracePeriodSeconds: 3600, otherSeeds: [], reportUnknownSeeds: true };

const h = ReconcileHarness.forJest();
const setUp = (limit = 100) => h.createSeed(limit);

function deps(faults: FaultOptions = {}) {
  const { client: iam, handler } = h.iam(faults);
  const client = h.kubernetes();
  return {
    handler,
    deps: {
      iam: new IamAdapter(iam),
      kubernetes: (_cluster: string) => client,
      now: () => new Date('2026-11-22T12:00:00Z'),
    },
  };
}

function addServiceAccounts(n: number, from = 0) {
  for (let i = from; i < from + n; i++) {
    h.server.addServiceAccount({
      namespace: 'demo',
      name: `sample-backup-daemon-demo-session-${1778072138 + i}`,
      annotations: { 'go.klusters.dev/seed-role-name': SEED_ARN },
    });
  }
}

const writes = (handler: FaultyAwsHandler) =>
  handler.actions.filter((a) =>
    /^(CreateRole|UpdateAssumeRolePolicy|AttachRolePolicy|DeleteRole|TagRole|UntagRole)/.test(a),
  );

describe('reconcileSeed against moto and the Kubernetes test server', () => {
  test('grants every ServiceAccount a derived role, annotates it, and a second pass writes nothing', async () => {
    const policyArn = await setUp();
    addServiceAccounts(45);
    const first = deps();
    const result = await reconcileSeed(first.deps, SEED, OPTIONS);
    expect(result).toMatchObject({ created: 3, updated: 0, annotated: 45, events: 0 });
    expect(writes(first.handler).filter((a) => a === 'CreateRole')).toHaveLength(3);
    const sa = h.server.serviceAccount('demo', 'sample-backup-daemon-demo-session-1778072138') as {
      metadata: { annotations: Record<string, string> };
    };
    expect(sa.metadata.annotations['eks.amazonaws.com/role-arn']).toMatch(
      /^arn:aws:iam::123456789012:role\/kubestash-irsa\/KubestashRole-\d$/,
    );
    const derived = await first.deps.iam.listRolesUnderPath('/kubestash-irsa/');
    for (const role of derived) {
      expect(await first.deps.iam.listAttachedPolicyArns(role.name)).toEqual([policyArn]);
      expect(parseTrustPolicy(role.trustPolicy).unrecognized).toEqual([]);
    }
    const patches = h.server.requests.filter((r) => r.method === 'PATCH');
    expect(patches[0].headers['content-type']).toBe('application/merge-patch+json');

    const second = deps();
    const again = await reconcileSeed(second.deps, SEED, OPTIONS);
    expect(again).toMatchObject({ created: 0, updated: 0, deleted: 0, annotated: 0 });
    expect(writes(second.handler)).toEqual([]);
  });

  test('a crash after CreateRole leaves nothing lost: the next pass attaches the policy and converges', async () => {
    const policyArn = await setUp();
    addServiceAccounts(5);
    const crashing = deps();
    crashing.handler.crashAfter('CreateRole');
    await expect(reconcileSeed(crashing.deps, SEED, OPTIONS)).rejects.toThrow(SimulatedCrash);
    addServiceAccounts(2, 100);
    const rerun = deps();
    const result = await reconcileSeed(rerun.deps, SEED, OPTIONS);
    expect(result.annotated).toBe(7);
    expect(await rerun.deps.iam.listAttachedPolicyArns('KubestashRole-0')).toEqual([policyArn]);
    expect(await rerun.deps.iam.listRolesUnderPath('/kubestash-irsa/')).toHaveLength(1);
    const third = deps();
    await reconcileSeed(third.deps, SEED, OPTIONS);
    expect(writes(third.handler)).toEqual([]);
  });

  test('IAM refusing a document for its size makes the pass re-plan with the quota IAM named', async () => {
    await setUp();
    addServiceAccounts(30);
    const strict = deps({ trustPolicyQuota: 1200 });
    const result = await reconcileSeed(strict.deps, SEED, OPTIONS);
    expect(result.plan.quota).toBe(1200);
    expect(strict.handler.actions).toContain('CreateRole:limit-exceeded');
    for (const role of await strict.deps.iam.listRolesUnderPath('/kubestash-irsa/')) {
      expect(decodeURIComponent(role.trustPolicy).replace(/\s/g, '').length).toBeLessThanOrEqual(
        1200,
      );
    }
    expect(result.annotated).toBe(30);
  });

  test('past the creation limit, the refused ServiceAccounts get a Warning Event saying what to do', async () => {
    await setUp(1);
    addServiceAccounts(25);
    const { deps: d } = deps();
    const result = await reconcileSeed(d, SEED, OPTIONS);
    expect(result.created).toBe(1);
    expect(result.events).toBe(25 - result.annotated);
    const events = h.server.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/events'),
    );
    expect(events.length).toBe(result.events);
    expect(JSON.stringify(events[0].body)).toMatch(
      /DerivedRoleLimitReached.*KubestashRoleRoleCreationLimit/,
    );
  });

  test('a ServiceAccount deleted while its grant is in flight is skipped, and its subject removed next time', async () => {
    await setUp();
    addServiceAccounts(3);
    const { deps: d } = deps();
    // The ServiceAccount disappears between the read and the annotation.
    const gone = 'sample-backup-daemon-demo-session-1778072139';
    const original = d.kubernetes('prod').patchServiceAccountAnnotations.bind(d.kubernetes('prod'));
    d.kubernetes('prod').patchServiceAccountAnnotations = async (ns, name, annotations, pre) => {
      if (name === gone) h.server.deleteServiceAccount(ns, name);
      return original(ns, name, annotations, pre);
    };
    const result = await reconcileSeed(d, SEED, OPTIONS);
    expect(result.annotated).toBe(2);
    const next = await reconcileSeed(deps().deps, SEED, OPTIONS);
    expect(next.updated).toBe(1);
    const [role] = await d.iam.listRolesUnderPath('/kubestash-irsa/');
    expect(JSON.stringify([...parseTrustPolicy(role.trustPolicy).grants.values()])).not.toContain(
      gone,
    );
  });

  test('throttling on one IAM call in three loses nothing: every ServiceAccount is granted, once', async () => {
    await setUp();
    addServiceAccounts(30);
    const throttled = deps({ throttleEvery: 3 });
    const result = await reconcileSeed(throttled.deps, SEED, OPTIONS);
    expect(result.annotated).toBe(30);
    expect(
      throttled.handler.actions.filter((a) => a.endsWith(':throttled')).length,
    ).toBeGreaterThanOrEqual(3);
    const again = deps();
    await reconcileSeed(again.deps, SEED, OPTIONS);
    expect(writes(again.handler)).toEqual([]);
  });

  test.each(['UpdateAssumeRolePolicy', 'AttachRolePolicy', 'TagRole'])(
    'a crash right after %s is repaired by the next pass',
    async (action) => {
      const policyArn = await setUp();
      addServiceAccounts(3);
      await reconcileSeed(deps().deps, SEED, OPTIONS);
      if (action === 'TagRole') {
        // Emptying a role: its trust is rewritten, then it is marked.
        for (let i = 0; i < 3; i++)
          h.server.deleteServiceAccount(
            'demo',
            `sample-backup-daemon-demo-session-${1778072138 + i}`,
          );
      } else {
        addServiceAccounts(2, 50);
      }
      const crashing = deps();
      if (action === 'AttachRolePolicy') {
        addServiceAccounts(30, 100); // forces a new role: CreateRole, then AttachRolePolicy
      }
      crashing.handler.crashAfter(action);
      await expect(reconcileSeed(crashing.deps, SEED, OPTIONS)).rejects.toThrow(SimulatedCrash);

      const rerun = deps();
      await reconcileSeed(rerun.deps, SEED, OPTIONS);
      const settled = deps();
      await reconcileSeed(settled.deps, SEED, OPTIONS);
      expect(writes(settled.handler)).toEqual([]);
      for (const role of await settled.deps.iam.listRolesUnderPath('/kubestash-irsa/')) {
        expect(await settled.deps.iam.listAttachedPolicyArns(role.name)).toEqual([policyArn]);
        if (action === 'TagRole') {
          expect((await settled.deps.iam.getRoleTags(role.name)).map((t) => t.key)).toContain(
            'kubestash-irsa.io/empty-since',
          );
        }
      }
      // Every ServiceAccount still there is annotated with a derived role.
      for (const sa of await settled.deps.kubernetes('prod').listServiceAccounts('demo')) {
        expect(sa.annotations['eks.amazonaws.com/role-arn']).toMatch(
          /:role\/kubestash-irsa\/KubestashRole-\d+$/,
        );
      }
    },
  );
});

describe('derived names taken by roles the seed does not own (issue 11)', () => {
  // IAM role names are unique in the account whatever the path (and ignoring case):
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
  // moto refuses a name taken at another path with IAM's EntityAlreadyExists, as IAM does.
  test('a foreign role named <seed>-<i> at another path is skipped: the pass grants and annotates around it', async () => {
    await setUp();
    const { client } = h.iam();
    await client.send(
      new CreateRoleCommand({
        RoleName: 'KubestashRole-0',
        Path: '/hand-made/',
        AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
      }),
    );
    addServiceAccounts(25);
    const { deps: d } = deps();
    const result = await reconcileSeed(d, SEED, OPTIONS);
    expect(result).toMatchObject({
      annotated: 25,
      takenRoleNames: ['KubestashRole-0'],
    });
    expect(result.warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining('CreateRole KubestashRole-0: the name is taken by a role'),
      ]),
    );
    expect((await d.iam.listRolesUnderPath('/kubestash-irsa/')).map((r) => r.name).sort()).toEqual([
      'KubestashRole-1',
      'KubestashRole-2',
    ]);
  });

  // Names are not distinguished by case (RoleName in
  // https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html); moto
  // distinguishes them, so the faulty handler plays IAM's 409 EntityAlreadyExists.
  test('a foreign role whose name differs only in case (kubestashrole-0) is skipped at run time: the pass grants and annotates around it', async () => {
    await setUp();
    const { client } = h.iam();
    await client.send(
      new CreateRoleCommand({
        RoleName: 'kubestashrole-0',
        AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
      }),
    );
    addServiceAccounts(25);
    const { deps: d, handler } = deps({ roleNamesIgnoreCase: true });
    const result = await reconcileSeed(d, SEED, OPTIONS);
    expect(handler.actions).toContain('CreateRole:entity-already-exists');
    expect(result).toMatchObject({ annotated: 25, takenRoleNames: ['KubestashRole-0'] });
    const derived = (await d.iam.listRolesUnderPath('/kubestash-irsa/')).map((r) => r.name).sort();
    expect(derived).not.toContain('KubestashRole-0');
    expect(derived.length).toBeGreaterThanOrEqual(2);
    // Every ServiceAccount points at a role of the seed's own, none at the foreign one.
    for (const sa of await d.kubernetes('prod').listServiceAccounts('demo')) {
      expect(sa.annotations['eks.amazonaws.com/role-arn']).toMatch(
        /:role\/kubestash-irsa\/KubestashRole-[1-9]\d*$/,
      );
    }
    // Each ServiceAccount the taken name moved is told so, once, naming the name and the fix.
    const taken = (
      h.server.events as { reason: string; message: string; involvedObject: { kind: string } }[]
    ).filter((e) => e.reason === 'DerivedRoleNameTaken');
    expect(taken).toHaveLength(25);
    expect(taken.every((e) => e.involvedObject.kind === 'ServiceAccount')).toBe(true);
    expect(taken[0].message).toMatch(
      /KubestashRole-0 of seed KubestashRole is taken.*Rename or delete/,
    );
    expect(result.events).toBe(25);
    const again = await reconcileSeed(deps({ roleNamesIgnoreCase: true }).deps, SEED, OPTIONS);
    expect(again.events).toBe(0);
    expect(
      h.server.events.filter((e) => (e as { reason: string }).reason === 'DerivedRoleNameTaken'),
    ).toHaveLength(25);
  });
});

describe('IAM refusing CreateRole otherwise (issue 11): what fits the roles that exist is still granted', () => {
  test.each([
    ['AccessDenied', { deny: ['CreateRole'] }, 'CreateRole:denied'],
    ['Throttling', { throttle: ['CreateRole'] }, 'CreateRole:throttled'],
  ] as const)(
    'CreateRole answered %s: ServiceAccounts placed in the existing role are annotated, the rest wait with DerivedRoleNotCreated, and the next run repairs',
    async (code, faults, action) => {
      await setUp();
      addServiceAccounts(3);
      await reconcileSeed(deps().deps, SEED, OPTIONS);
      // More sessions than the existing role can hold: some need a new role.
      addServiceAccounts(40, 100);
      const refused = deps(faults);
      const result = await reconcileSeed(refused.deps, SEED, OPTIONS);
      expect(refused.handler.actions).toContain(action);
      expect(result.created).toBe(0);
      expect(result.retryLater).toContain(`CreateRole KubestashRole-1: ${code}`);
      // Some of the new ones fit KubestashRole-0 and are annotated now; none waits on the others.
      expect(result.annotated).toBeGreaterThan(0);
      expect(result.annotated + result.events).toBe(40);
      const sas = await refused.deps.kubernetes('prod').listServiceAccounts('demo');
      const roles = sas.map((sa) => sa.annotations['eks.amazonaws.com/role-arn']);
      expect(roles.filter((r) => r !== undefined)).toHaveLength(3 + result.annotated);
      for (const r of roles.filter((x) => x !== undefined)) expect(r).toMatch(/KubestashRole-0$/);
      const events = h.server.events as { reason: string; message: string }[];
      expect(events.map((e) => e.reason)).toContain('DerivedRoleNotCreated');
      expect(events.find((e) => e.reason === 'DerivedRoleNotCreated')?.message).toContain(code);

      // The next run, with IAM answering again, creates the role and grants the rest.
      const next = deps();
      const repaired = await reconcileSeed(next.deps, SEED, OPTIONS);
      expect(repaired.retryLater).toBeUndefined();
      expect(repaired.created).toBeGreaterThan(0);
      for (const sa of await next.deps.kubernetes('prod').listServiceAccounts('demo')) {
        expect(sa.annotations['eks.amazonaws.com/role-arn']).toMatch(/KubestashRole-\d+$/);
      }
    },
  );
});

/**
 * Issue 12 point 3: a team per namespace. Seed KubestashRole serves `demo`,
 * seed TeamBRole serves `team-b` (each seed's allowed-namespaces tag, as the
 * stack writes it from `seeds[].namespaces`); the reconciler reads every
 * seed's namespaces (WATCHED_NAMESPACES), so a ServiceAccount of team-b that
 * names KubestashRole is seen, refused with an Event, and trusted by no role.
 */
describe('reconcileSeed with a team per namespace', () => {
  const TEAM_B: SeedEnv = { ...SEED, name: 'TeamBRole' };
  const TEAM_B_ARN = SEED_ARN.replace('KubestashRole', 'TeamBRole');
  const teamOptions = (seed: string) => ({
    ...OPTIONS,
    otherSeeds: seed === 'KubestashRole' ? ['TeamBRole'] : ['KubestashRole'],
    reportUnknownSeeds: seed === 'KubestashRole',
    watchedNamespaces: ['demo', 'team-b'],
  });
  const sa = (namespace: string, name: string, seedArn: string) =>
    h.server.addServiceAccount({
      namespace,
      name,
      annotations: { 'go.klusters.dev/seed-role-name': seedArn },
    });
  const annotations = (namespace: string, name: string) =>
    (
      h.server.serviceAccount(namespace, name) as {
        metadata: { annotations: Record<string, string> };
      }
    ).metadata.annotations;
  const subjects = async (d: ReturnType<typeof deps>['deps'], path: string) =>
    (await d.iam.listRolesUnderPath(path)).flatMap((r) =>
      [...parseTrustPolicy(r.trustPolicy).grants.values()].flat(),
    );
  const namespaceEvents = () =>
    h.server.events.filter((e) => (e as { reason?: string }).reason === 'NamespaceNotAllowed') as {
      reason: string;
      message: string;
      involvedObject: { namespace: string; name: string };
    }[];

  beforeEach(async () => {
    await h.createSeed(100, { allowedNamespaces: ['demo'] });
    await h.createSeed(100, {
      name: 'TeamBRole',
      derivedRolePath: '/team-b-irsa/',
      allowedNamespaces: ['team-b'],
    });
  });

  test("a ServiceAccount of team-b naming team A's seed gets a NamespaceNotAllowed Event and no role; each team's own is granted by its seed", async () => {
    sa('demo', 'team-a-backup', SEED_ARN);
    sa('team-b', 'team-b-backup', TEAM_B_ARN);
    sa('team-b', 'borrows-team-a', SEED_ARN);

    const a = deps();
    const teamA = await reconcileSeed(a.deps, SEED, teamOptions('KubestashRole'));
    expect(teamA).toMatchObject({ created: 1, annotated: 1, events: 1 });
    expect(teamA.plan.refusals).toEqual([
      expect.objectContaining({
        namespace: 'team-b',
        name: 'borrows-team-a',
        reason: 'NamespaceNotAllowed',
      }),
    ]);
    const b = deps();
    const teamB = await reconcileSeed(b.deps, TEAM_B, teamOptions('TeamBRole'));
    expect(teamB).toMatchObject({ created: 1, annotated: 1, events: 0 });

    expect(annotations('demo', 'team-a-backup')['eks.amazonaws.com/role-arn']).toMatch(
      /role\/kubestash-irsa\/KubestashRole-0$/,
    );
    expect(annotations('team-b', 'team-b-backup')['eks.amazonaws.com/role-arn']).toMatch(
      /role\/team-b-irsa\/TeamBRole-0$/,
    );
    expect(annotations('team-b', 'borrows-team-a')['eks.amazonaws.com/role-arn']).toBeUndefined();
    expect(await subjects(a.deps, '/kubestash-irsa/')).toEqual([
      'system:serviceaccount:demo:team-a-backup',
    ]);
    expect(await subjects(b.deps, '/team-b-irsa/')).toEqual([
      'system:serviceaccount:team-b:team-b-backup',
    ]);
    const [event] = namespaceEvents();
    expect(event.involvedObject).toMatchObject({ namespace: 'team-b', name: 'borrows-team-a' });
    expect(event.message).toMatch(
      /namespace "team-b" may not receive roles of seed KubestashRole \(allowed: demo\).*KubestashRoleAllowedNamespaces/,
    );

    // Nothing changes: no write, and the Event is not recorded twice.
    const again = deps();
    await reconcileSeed(again.deps, SEED, teamOptions('KubestashRole'));
    expect(writes(again.handler)).toEqual([]);
    expect(namespaceEvents()).toHaveLength(1);
  });

  test('a namespace taken off a seed (its tag changed by a stack update) leaves its roles’ trust at the next pass', async () => {
    const { client } = h.iam();
    await client.send(
      new TagRoleCommand({
        RoleName: 'KubestashRole',
        Tags: [{ Key: ALLOWED_NAMESPACES_TAG, Value: 'demo team-b' }],
      }),
    );
    sa('demo', 'team-a-backup', SEED_ARN);
    sa('team-b', 'borrows-team-a', SEED_ARN);
    const first = deps();
    expect(await reconcileSeed(first.deps, SEED, teamOptions('KubestashRole'))).toMatchObject({
      annotated: 2,
    });
    expect(await subjects(first.deps, '/kubestash-irsa/')).toHaveLength(2);

    await client.send(
      new TagRoleCommand({
        RoleName: 'KubestashRole',
        Tags: [{ Key: ALLOWED_NAMESPACES_TAG, Value: 'demo' }],
      }),
    );
    const next = deps();
    const result = await reconcileSeed(next.deps, SEED, teamOptions('KubestashRole'));
    expect(result).toMatchObject({ updated: 1, events: 1 });
    expect(await subjects(next.deps, '/kubestash-irsa/')).toEqual([
      'system:serviceaccount:demo:team-a-backup',
    ]);
    expect(namespaceEvents().map((e) => e.involvedObject.name)).toEqual(['borrows-team-a']);
  });

  test('without WATCHED_NAMESPACES (a reconciler deployed before per-seed namespaces) the foreign ServiceAccount is not read, so it gets no role either', async () => {
    sa('team-b', 'borrows-team-a', SEED_ARN);
    const { deps: d } = deps();
    const result = await reconcileSeed(d, SEED, {
      ...teamOptions('KubestashRole'),
      watchedNamespaces: undefined,
    });
    expect(result).toMatchObject({ created: 0, annotated: 0, events: 0 });
    expect(h.server.requests.some((r) => r.path.includes('/namespaces/team-b/'))).toBe(false);
  });
});
