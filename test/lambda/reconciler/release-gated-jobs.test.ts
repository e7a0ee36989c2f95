import { STSClient } from '@aws-sdk/client-sts';
import { IamAdapter } from '../../../lambda/adapters/iam/iam-adapter';
import { StsWebIdentity } from '../../../lambda/adapters/sts/sts-web-identity';
import { reconcileSeed } from '../../../lambda/reconciler/reconcile-seed';
import type { ReconcileOptions } from '../../../lambda/reconciler/reconcile-seed';
import type { WebIdentityOutcome, WebIdentityPort } from '../../../lambda/ports/web-identity-port';
import { MOTO_ACCOUNT, MOTO_CLIENT_CONFIG } from '../../support/moto-server';
import { ReconcileHarness, SEED, SEED_ARN } from '../../support/reconcile-harness';

/**
 * The release half of the job gate, against a real moto_server (IAM, STS)
 * and the Kubernetes test server (which enforces the reconciler's RBAC).
 * moto's STS accepts any web-identity token for any role, so IAM's
 * propagation delay is played by a wrapper that denies the first N calls
 * exactly as IAM words it, then hands over to moto.
 */
const MANAGED = { 'app.kubernetes.io/managed-by': 'kubestash.com' };
const HELD = { 'kubestash-irsa.io/gate': 'held' };
// The test server stamps objects with the real clock, so the reconciler's clock starts there too.
const NOW = new Date();

const h = ReconcileHarness.forJest();

/** Denies the first `denials` calls as IAM does while a trust policy propagates. */
class PropagatingIam implements WebIdentityPort {
  calls = 0;
  constructor(
    private readonly real: WebIdentityPort,
    private denials: number,
  ) {}
  propagate(): void {
    this.denials = 0;
  }
  async assumeRoleWithWebIdentity(roleArn: string, token: string): Promise<WebIdentityOutcome> {
    this.calls++;
    if (this.calls <= this.denials) {
      return {
        accepted: false,
        reason: 'AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity',
      };
    }
    return this.real.assumeRoleWithWebIdentity(roleArn, token);
  }
}

function deps(denials = 0, now = NOW) {
  const client = h.kubernetes();
  const iamWebIdentity = new PropagatingIam(
    new StsWebIdentity(new STSClient({ ...MOTO_CLIENT_CONFIG, endpoint: h.moto.endpoint })),
    denials,
  );
  const slept: number[] = [];
  let clock = now.getTime();
  return {
    iamWebIdentity,
    slept,
    deps: {
      iam: new IamAdapter(h.iam().client),
      kubernetes: () => client,
      webIdentity: iamWebIdentity,
      now: () => new Date(clock),
      // The clock moves only when the reconciler waits, so the proof budget is exercised exactly.
      sleep: async (ms: number) => {
        slept.push(ms);
        clock += ms;
      },
    },
  };
}

function options(gate: ReconcileOptions['gate']): ReconcileOptions {
  return { emptyRoleGracePeriodSeconds: 3600, otherSeeds: [], reportUnknownSeeds: true, gate };
}
const PROVEN = options({ stuckAfterSeconds: 1800, proof: { attempts: 5, delayMs: 2000 } });

function addSession(i: number, opts: { seeded?: boolean; job?: Record<string, unknown> } = {}) {
  const name = `sample-backup-daemon-demo-session-${1778072138 + i}`;
  h.server.addServiceAccount({
    namespace: 'demo',
    name,
    annotations: opts.seeded === false ? {} : { 'go.klusters.dev/seed-role-name': SEED_ARN },
  });
  h.server.addJob({
    namespace: 'demo',
    name,
    uid: `job-${i}`,
    labels: MANAGED,
    annotations: HELD,
    suspend: true,
    serviceAccountName: name,
    ...opts.job,
  });
  return name;
}

type JobJson = { metadata: { annotations?: Record<string, string> }; spec: { suspend: boolean } };
const job = (name: string) => h.server.job('demo', name) as JobJson;
const eventsOn = (name: string) =>
  h.server.events
    .filter((e) => (e.involvedObject as { name: string; kind: string }).name === name)
    .filter((e) => (e.involvedObject as { kind: string }).kind === 'Job')
    .map((e) => ({ type: e.type, reason: e.reason, message: e.message as string }));

describe('releasing the Jobs the gate holds', () => {
  test('a held Job is released in the pass that grants its ServiceAccount, after IAM accepts the token', async () => {
    await h.createSeed();
    const name = addSession(0);
    const { deps: d, iamWebIdentity } = deps();
    const result = await reconcileSeed(d, SEED, PROVEN);

    expect(result.jobs).toEqual({
      released: 1,
      releasedElsewhere: 0,
      held: 0,
      stuck: 0,
      events: 1,
    });
    expect(job(name).spec.suspend).toBe(false);
    const roleArn = `arn:aws:iam::${MOTO_ACCOUNT}:role/kubestash-irsa/KubestashRole-0`;
    expect(job(name).metadata.annotations).toMatchObject({
      'kubestash-irsa.io/gate': 'released',
      'kubestash-irsa.io/gate-reason': `released: ServiceAccount ${name} has role ${roleArn}, proven with a token before it was annotated`,
    });
    expect(eventsOn(name)).toEqual([
      { type: 'Normal', reason: 'Released', message: expect.stringContaining(roleArn) },
    ]);
    expect(iamWebIdentity.calls).toBe(1);
    expect(h.server.issuedTokens).toEqual([
      expect.objectContaining({ name, audiences: ['sts.amazonaws.com'], expirationSeconds: 600 }),
    ]);
    // The unsuspend is one merge patch guarded by the Job's uid.
    const unsuspend = h.server.requests.find(
      (r) => r.method === 'PATCH' && r.path.endsWith(`/jobs/${name}`),
    );
    expect(unsuspend?.contentType).toBe('application/merge-patch+json');
    expect(unsuspend?.body).toMatchObject({ metadata: { uid: 'job-0' }, spec: { suspend: false } });
  });

  test('a trust policy that propagates only after 3 denials: released on the 4th attempt, 2 s apart', async () => {
    await h.createSeed();
    const name = addSession(0);
    const { deps: d, iamWebIdentity, slept } = deps(3);
    const result = await reconcileSeed(d, SEED, PROVEN);
    expect(result.jobs?.released).toBe(1);
    expect(iamWebIdentity.calls).toBe(4);
    expect(slept).toEqual([2000, 2000, 2000]);
    expect(job(name).spec.suspend).toBe(false);
  });

  test('not yet propagated after every attempt: the Job stays held with an Event, and the next pass releases it', async () => {
    await h.createSeed();
    const name = addSession(0);
    const first = deps(99);
    const held = await reconcileSeed(first.deps, SEED, PROVEN);
    expect(held.jobs).toMatchObject({ released: 0, held: 1 });
    expect(job(name).spec.suspend).toBe(true);
    expect(eventsOn(name)).toEqual([
      {
        type: 'Warning',
        reason: 'AccessNotYetProven',
        message: expect.stringContaining(
          'the Job stays suspended and the next reconcile tries again',
        ),
      },
    ]);
    // The same story on the next unproven pass is not recorded twice.
    await reconcileSeed(first.deps, SEED, PROVEN);
    expect(eventsOn(name)).toHaveLength(1);

    first.iamWebIdentity.propagate();
    const released = await reconcileSeed(first.deps, SEED, PROVEN);
    expect(released.jobs?.released).toBe(1);
    expect(job(name).spec.suspend).toBe(false);
  });

  test('proofs share a time budget per pass: Jobs past it are left for the next pass, untouched', async () => {
    await h.createSeed();
    const names = [0, 1, 2, 3, 4, 5].map((i) => addSession(i));
    const { deps: d } = deps(99);
    const result = await reconcileSeed(
      d,
      SEED,
      options({ stuckAfterSeconds: 1800, proof: { attempts: 5, delayMs: 2000, budgetMs: 5000 } }),
    );
    expect(result.jobs).toMatchObject({ released: 0, held: 6 });
    for (const n of names) expect(job(n).spec.suspend).toBe(true);
  });

  test('without proof, a Job is released as soon as the trust policy and the annotation are written', async () => {
    await h.createSeed();
    const name = addSession(0);
    const { deps: d, iamWebIdentity } = deps(99);
    const result = await reconcileSeed(d, SEED, options({ stuckAfterSeconds: 1800 }));
    expect(result.jobs?.released).toBe(1);
    expect(iamWebIdentity.calls).toBe(0);
    expect(job(name).metadata.annotations?.['kubestash-irsa.io/gate-reason']).not.toContain(
      'token',
    );
  });

  test('a refused ServiceAccount: its Job stays held with the refusal on it, and is marked stuck after stuckAfter', async () => {
    // One derived role of a 2048-character trust policy holds ~20 of these subjects.
    await h.createSeed(1);
    const names = Array.from({ length: 30 }, (_, i) => addSession(i));
    const early = await reconcileSeed(deps().deps, SEED, PROVEN);
    const refused = early.plan.refusals.map((r) => r.name);
    expect(refused.length).toBeGreaterThan(0);
    const [waiting] = refused;
    expect(job(waiting).spec.suspend).toBe(true);
    expect(eventsOn(waiting)).toEqual([
      {
        type: 'Warning',
        reason: 'DerivedRoleLimitReached',
        message: expect.stringMatching(/^ServiceAccount .* was refused a role: /),
      },
    ]);
    expect(job(waiting).metadata.annotations?.['kubestash-irsa.io/gate']).toBe('held');
    expect(names.filter((n) => !refused.includes(n)).every((n) => !job(n).spec.suspend)).toBe(true);

    const late = await reconcileSeed(
      deps(0, new Date(NOW.getTime() + 31 * 60_000)).deps,
      SEED,
      PROVEN,
    );
    expect(late.jobs?.stuck).toBe(refused.length);
    expect(job(waiting).spec.suspend).toBe(true);
    expect(job(waiting).metadata.annotations?.['kubestash-irsa.io/gate']).toBe('stuck');
    expect(job(waiting).metadata.annotations?.['kubestash-irsa.io/gate-reason']).toMatch(
      /^held for over 30 min: DerivedRoleLimitReached: /,
    );
  });

  test('Jobs the gate did not hold, finished Jobs and Jobs already released are left alone', async () => {
    await h.createSeed();
    const theirs = addSession(0, { job: { annotations: {} } });
    const finished = addSession(1, { job: { conditions: [{ type: 'Complete', status: 'True' }] } });
    const result = await reconcileSeed(deps().deps, SEED, PROVEN);
    expect(result.jobs).toEqual({
      released: 0,
      releasedElsewhere: 0,
      held: 0,
      stuck: 0,
      events: 0,
    });
    expect(job(theirs).spec.suspend).toBe(true);
    expect(job(finished).spec.suspend).toBe(true);
  });

  test('a held Job whose ServiceAccount needs no role is released with an Event and its access check off; a missing ServiceAccount keeps it held', async () => {
    await h.createSeed();
    const bare = addSession(0, { seeded: false });
    h.server.addJob({
      namespace: 'demo',
      name: 'orphan',
      uid: 'job-orphan',
      labels: MANAGED,
      annotations: HELD,
      suspend: true,
      serviceAccountName: 'never-created',
    });
    const result = await reconcileSeed(deps().deps, SEED, PROVEN);
    expect(result.jobs).toMatchObject({ released: 1, held: 1 });
    expect(job(bare).spec.suspend).toBe(false);
    expect(job(bare).metadata.annotations?.['kubestash-irsa.io/gate']).toBe('released');
    const template = (h.server.job('demo', bare) as { spec: { template: { metadata?: unknown } } })
      .spec.template.metadata;
    expect(template).toEqual({ annotations: { 'kubestash-irsa.io/access-check': 'skip' } });
    expect(eventsOn(bare)).toEqual([
      expect.objectContaining({
        type: 'Normal',
        reason: 'NoRoleNeeded',
        message: expect.stringContaining('needs no role from kubestash-irsa'),
      }),
    ]);
    expect(eventsOn('orphan')).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'ServiceAccountNotFound' }),
    ]);
    // Only the seed that reports unknowns tells this story, so it is told once.
    const quiet = await reconcileSeed(deps().deps, SEED, { ...PROVEN, reportUnknownSeeds: false });
    expect(quiet.jobs).toEqual({ released: 0, releasedElsewhere: 0, held: 0, stuck: 0, events: 0 });
  });

  test('a held Job that KubeStash unsuspended itself is recorded released: no Warning, no stuck mark', async () => {
    await h.createSeed();
    const name = addSession(0, { job: { suspend: false } });
    const late = deps(0, new Date(NOW.getTime() + 31 * 60_000));
    const result = await reconcileSeed(late.deps, SEED, PROVEN);
    expect(result.jobs).toMatchObject({ released: 0, releasedElsewhere: 1, held: 0, stuck: 0 });
    expect(job(name).metadata.annotations).toMatchObject({
      'kubestash-irsa.io/gate': 'released',
      'kubestash-irsa.io/gate-reason': expect.stringContaining('released by another controller'),
    });
    expect(eventsOn(name).filter((e) => e.type === 'Warning')).toEqual([]);
    // Recorded once: the next pass finds nothing held.
    const again = await reconcileSeed(late.deps, SEED, PROVEN);
    expect(again.jobs).toMatchObject({ releasedElsewhere: 0 });
  });

  test('one proof per written role version: ten sessions placed in one role cost one token and one AssumeRoleWithWebIdentity', async () => {
    await h.createSeed();
    const names = Array.from({ length: 10 }, (_, i) => addSession(i));
    const { deps: d, iamWebIdentity } = deps();
    const result = await reconcileSeed(d, SEED, PROVEN);
    expect(result.jobs?.released).toBe(10);
    expect(iamWebIdentity.calls).toBe(1);
    expect(h.server.issuedTokens).toHaveLength(1);
    for (const n of names) expect(job(n).spec.suspend).toBe(false);
  });

  test('the role ARN is not written until the role version is proven, so KubeStash cannot release early either', async () => {
    await h.createSeed();
    const name = addSession(0);
    const sa = () =>
      (
        h.server.serviceAccount('demo', name) as {
          metadata: { annotations: Record<string, string> };
        }
      ).metadata.annotations;
    const first = deps(99);
    const denied = await reconcileSeed(first.deps, SEED, PROVEN);
    expect(denied.annotated).toBe(0);
    expect(sa()['eks.amazonaws.com/role-arn']).toBeUndefined();
    // The trust policy is written already: the next pass only proves and annotates.
    first.iamWebIdentity.propagate();
    const proven = await reconcileSeed(first.deps, SEED, PROVEN);
    expect(proven).toMatchObject({ created: 0, updated: 0, annotated: 1 });
    expect(sa()['eks.amazonaws.com/role-arn']).toMatch(/KubestashRole-0$/);
  });

  test('a burst goes on during the pass: a Job stored after the list whose ServiceAccount the pass granted is released by the same pass; one whose ServiceAccount it did not grant waits for its own pass', async () => {
    await h.createSeed();
    const first = addSession(0);
    // The second session's ServiceAccount exists when the pass reads them; its Job is stored
    // only while the pass releases the first (the API server stores it after the gate answers).
    const late = `sample-backup-daemon-demo-session-${1778072138 + 1}`;
    h.server.addServiceAccount({
      namespace: 'demo',
      name: late,
      annotations: { 'go.klusters.dev/seed-role-name': SEED_ARN },
    });
    const unread = `sample-backup-daemon-demo-session-${1778072138 + 2}`;
    const { deps: d } = deps();
    const kubernetes = d.kubernetes();
    const original = kubernetes.setJobSuspended.bind(kubernetes);
    kubernetes.setJobSuspended = async (namespace, name, suspend, opts) => {
      if (name === first) {
        for (const [i, sa] of [
          [1, late],
          [2, unread],
        ] as const) {
          if (i === 2)
            h.server.addServiceAccount({
              namespace: 'demo',
              name: sa,
              annotations: { 'go.klusters.dev/seed-role-name': SEED_ARN },
            });
          h.server.addJob({
            namespace: 'demo',
            name: sa,
            uid: `job-${i}`,
            labels: MANAGED,
            annotations: HELD,
            suspend: true,
            serviceAccountName: sa,
          });
        }
      }
      return original(namespace, name, suspend, opts);
    };
    const result = await reconcileSeed(d, SEED, PROVEN);
    expect(result.jobs?.released).toBe(2);
    expect(job(first).spec.suspend).toBe(false);
    expect(job(late).spec.suspend).toBe(false);
    expect(eventsOn(late)).toEqual([
      { type: 'Normal', reason: 'Released', message: expect.stringContaining(late) },
    ]);
    // Its ServiceAccount appeared after the read: untouched, no Event, and its hint still asks for a pass.
    expect(job(unread).spec.suspend).toBe(true);
    expect(eventsOn(unread)).toEqual([]);
    expect(result.gateJobs?.marked).toEqual(
      new Set([`prod/demo/${first}/job-0`, `prod/demo/${late}/job-1`]),
    );
    // The handler's next look finds the one no pass judged (hint-watch.ts).
    expect(await result.gateJobs?.heldNow()).toEqual(new Set([`prod/demo/${unread}/job-2`]));
  });

  test('the second look is best effort: when listing the Jobs again fails, the pass keeps what it released and succeeds', async () => {
    await h.createSeed();
    const name = addSession(0);
    const { deps: d } = deps();
    const kubernetes = d.kubernetes();
    const original = kubernetes.listJobs.bind(kubernetes);
    let lists = 0;
    kubernetes.listJobs = async (namespace, selector) => {
      lists++;
      if (lists === 2) throw new Error('the API server answered 500 after every retry');
      return original(namespace, selector);
    };
    const result = await reconcileSeed(d, SEED, PROVEN);
    expect(lists).toBe(2);
    expect(result.jobs?.released).toBe(1);
    expect(job(name).spec.suspend).toBe(false);
    expect(result.gateJobs?.marked).toEqual(new Set([`prod/demo/${name}/job-0`]));
  });

  test('a Job deleted between the list and the release is skipped, and not counted as judged; the pass goes on', async () => {
    await h.createSeed();
    const gone = addSession(0);
    const kept = addSession(1);
    const { deps: d } = deps();
    const kubernetes = d.kubernetes();
    const original = kubernetes.setJobSuspended.bind(kubernetes);
    kubernetes.setJobSuspended = async (namespace, name, suspend, opts) => {
      if (name === gone) h.server.deleteJob('demo', gone);
      return original(namespace, name, suspend, opts);
    };
    const result = await reconcileSeed(d, SEED, PROVEN);
    expect(result.jobs?.released).toBe(1);
    expect(job(kept).spec.suspend).toBe(false);
    // Not judged: a Job re-created under its name must still bring a pass.
    expect(result.gateJobs?.marked).toEqual(new Set([`prod/demo/${kept}/job-1`]));
  });
});
