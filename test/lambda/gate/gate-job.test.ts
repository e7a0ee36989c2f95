import * as fs from 'node:fs';
import * as path from 'node:path';
import { admissionReview } from '../../../lambda/gate/admission-review';
import type { AdmissionReview } from '../../../lambda/gate/admission-review';
import { gateJob } from '../../../lambda/gate/gate-job';
import type { AdmissionFacts } from '../../../lambda/gate/gate-job';
import type { GateSettings } from '../../../lambda/gate/gate-settings';
import { SETTINGS } from '../../support/gate-fixtures';
import { applyJsonPatch } from '../../support/json-patch';

const FIXTURE = path.join(__dirname, '../../fixtures/admission/kubestash-backup-job.json');

type Json = Record<string, unknown>;

function fixture(change: (review: Json & { request: Json & { object: Json } }) => void = () => {}) {
  const review = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as Json & {
    request: Json & { object: Json };
  };
  change(review);
  return admissionReview.parse(review);
}

/** The fixture's ServiceAccount as KubeStash annotates it: it names the seed this stack serves, no role yet. */
const SEED_ARN = 'arn:aws:iam::111122223333:role/KubestashRole';
const FOUND: AdmissionFacts = {
  cluster: 'prod-cluster',
  serviceAccount: { kind: 'found', annotations: { 'go.klusters.dev/seed-role-name': SEED_ARN } },
};

function job(review: AdmissionReview): Json {
  return review.request.object as Json;
}

describe('gateJob', () => {
  test('a KubeStash backup Job is held: suspended, annotated, access check first in line', () => {
    const review = fixture();
    const decision = gateJob(review, SETTINGS, FOUND);
    if (!decision.gated) throw new Error(decision.reason);
    const patched = applyJsonPatch(job(review), decision.patch) as {
      metadata: { annotations: Record<string, string> };
      spec: {
        suspend: boolean;
        template: {
          spec: {
            initContainers: {
              name: string;
              image: string;
              env: { name: string; value: string }[];
            }[];
            containers: { name: string }[];
          };
        };
      };
    };
    expect(patched.spec.suspend).toBe(true);
    expect(patched.metadata.annotations).toEqual({
      'go.klusters.dev/bucket-names': 'kubestash-backups-111122223333',
      'kubestash-irsa.io/gate': 'held',
      'kubestash-irsa.io/gate-reason':
        'created suspended until ServiceAccount sample-backup-daemon-demo-session-1778072138 has an IAM role; the kubestash-irsa reconciler releases it',
    });
    const [check] = patched.spec.template.spec.initContainers;
    expect(check.name).toBe('kubestash-irsa-access-check');
    expect(check.image).toBe('amazon/aws-cli:2.27.50');
    expect(Object.fromEntries(check.env.map((e) => [e.name, e.value]))).toMatchObject({
      TARGETS:
        'kubestash-backups-111122223333=ace/production/backups/.kubestash-irsa-access-check/',
      UNMANAGED_BUCKETS: '',
      ATTEMPTS: '12',
      DELAY_SECONDS: '5',
    });
    // The backup container itself is untouched.
    expect(patched.spec.template.spec.containers).toEqual(
      (job(review).spec as { template: { spec: { containers: unknown } } }).template.spec
        .containers,
    );
    expect(decision.job).toEqual({
      namespace: 'demo',
      name: 'sample-backup-daemon-demo-session-1778072138',
      serviceAccount: 'sample-backup-daemon-demo-session-1778072138',
    });
  });

  test('existing init containers stay, after the access check; a Job without annotations gets them', () => {
    const review = fixture((r) => {
      const object = r.request.object as {
        metadata: Json;
        spec: { template: { spec: Json } };
      };
      delete object.metadata.annotations;
      object.spec.template.spec.initContainers = [{ name: 'prepare', image: 'busybox:1.37' }];
    });
    const decision = gateJob(review, SETTINGS, FOUND);
    if (!decision.gated) throw new Error(decision.reason);
    const patched = applyJsonPatch(job(review), decision.patch) as {
      metadata: { annotations: Record<string, string> };
      spec: { template: { spec: { initContainers: { name: string }[] } } };
    };
    expect(patched.spec.template.spec.initContainers.map((c) => c.name)).toEqual([
      'kubestash-irsa-access-check',
      'prepare',
    ]);
    expect(Object.keys(patched.metadata.annotations).sort()).toEqual([
      'kubestash-irsa.io/gate',
      'kubestash-irsa.io/gate-reason',
    ]);
  });

  test('buckets the stack does not manage are named in the check, not probed', () => {
    const review = fixture((r) => {
      (r.request.object.metadata as { annotations: Json }).annotations = {
        'go.klusters.dev/bucket-names': 'kubestash-backups-111122223333, someone-elses-bucket',
      };
    });
    const decision = gateJob(review, SETTINGS, FOUND);
    if (!decision.gated) throw new Error(decision.reason);
    const [container] = decision.patch.find((p) => p.path.includes('initContainers'))?.value as {
      env: { name: string; value: string }[];
    }[];
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
    expect(env.UNMANAGED_BUCKETS).toBe('someone-elses-bucket');
    expect(env.TARGETS).toContain('kubestash-backups-111122223333=');
  });

  test('dry-run gets the same patch (the webhook declares sideEffects NoneOnDryRun)', () => {
    const real = gateJob(fixture(), SETTINGS, FOUND);
    const dry = gateJob(
      fixture((r) => (r.request.dryRun = true)),
      SETTINGS,
      FOUND,
    );
    expect(dry).toEqual(real);
  });

  test.each<[string, (r: Json & { request: Json & { object: Json } }) => void, RegExp]>([
    [
      'a Job without the KubeStash label',
      (r) => delete (r.request.object.metadata as Json).labels,
      /label/,
    ],
    [
      'a Job labelled by someone else',
      (r) =>
        ((r.request.object.metadata as Json).labels = { 'app.kubernetes.io/managed-by': 'Helm' }),
      /label/,
    ],
    ['an UPDATE', (r) => (r.request.operation = 'UPDATE'), /UPDATE, not CREATE/],
    ['a DELETE', (r) => (r.request.operation = 'DELETE'), /DELETE, not CREATE/],
    [
      'a CronJob',
      (r) => (r.request.kind = { group: 'batch', version: 'v1', kind: 'CronJob' }),
      /not a Job/,
    ],
    ['a Pod', (r) => (r.request.kind = { group: '', version: 'v1', kind: 'Pod' }), /not a Job/],
    [
      'a Job in a namespace the reconciler may not serve',
      (r) => (r.request.namespace = 'kube-system'),
      /not an allowed namespace/,
    ],
    [
      'a Job its creator already suspended',
      (r) => ((r.request.object.spec as Json).suspend = true),
      /already suspended/,
    ],
    [
      'a Job already gated (reinvocation)',
      (r) =>
        ((r.request.object.spec as { template: { spec: Json } }).template.spec.initContainers = [
          { name: 'kubestash-irsa-access-check' },
        ]),
      /already gated/,
    ],
    [
      'a Job object without a pod template',
      (r) => (r.request.object.spec = {}),
      /not a Job the gate can read/,
    ],
  ])('%s passes unchanged', (_, change, reason) => {
    const decision = gateJob(fixture(change), SETTINGS, FOUND);
    expect(decision.gated).toBe(false);
    if (!decision.gated) expect(decision.reason).toMatch(reason);
  });
});

describe('gateJob decides from the ServiceAccount', () => {
  const withSa = (annotations: Record<string, string>): AdmissionFacts => ({
    cluster: 'prod-cluster',
    serviceAccount: { kind: 'found', annotations },
  });

  test.each<[string, AdmissionFacts, RegExp]>([
    [
      'a ServiceAccount without the seed annotation (trigger Job)',
      withSa({}),
      /carries no go\.klusters\.dev\/seed-role-name/,
    ],
    [
      'a ServiceAccount with a role of its own',
      withSa({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/team-a' }),
      /carries no go\.klusters\.dev\/seed-role-name/,
    ],
    [
      'a ServiceAccount naming another stack’s seed',
      withSa({ 'go.klusters.dev/seed-role-name': 'arn:aws:iam::111122223333:role/OtherSeed' }),
      /does not serve/,
    ],
    [
      'a ServiceAccount already granted',
      withSa({
        'go.klusters.dev/seed-role-name': SEED_ARN,
        'eks.amazonaws.com/role-arn':
          'arn:aws:iam::111122223333:role/kubestash-irsa/KubestashRole-0',
      }),
      /already granted/,
    ],
    [
      'a cluster the stack does not serve',
      { cluster: 'elsewhere', serviceAccount: FOUND.serviceAccount },
      /does not serve on cluster elsewhere/,
    ],
  ])('%s: the Job passes with the reason', (_, facts, reason) => {
    const decision = gateJob(fixture(), SETTINGS, facts);
    expect(decision.gated).toBe(false);
    if (!decision.gated) expect(decision.reason).toMatch(reason);
  });

  test('a team per namespace: a Job naming the seed of its own namespace is held, one naming another team’s seed passes (the reconciler refuses it with an Event, so holding it would only strand it)', () => {
    const teams: GateSettings = {
      ...SETTINGS,
      clusterSeeds: { 'prod-cluster': ['KubestashRole', 'TeamBRole'] },
      seedNamespaces: { KubestashRole: ['demo'], TeamBRole: ['prod'] },
    };
    const naming = (seed: string): AdmissionFacts => ({
      cluster: 'prod-cluster',
      serviceAccount: {
        kind: 'found',
        annotations: { 'go.klusters.dev/seed-role-name': `arn:aws:iam::111122223333:role/${seed}` },
      },
    });
    const inDemo = fixture();
    expect(gateJob(inDemo, teams, naming('KubestashRole')).gated).toBe(true);
    const foreign = gateJob(inDemo, teams, naming('TeamBRole'));
    expect(foreign).toEqual({
      gated: false,
      reason: expect.stringMatching(
        /names seed .*TeamBRole, which does not serve namespace demo \(only prod\).*NamespaceNotAllowed/,
      ),
    });
    // A seed the settings do not list (a stack from before per-seed namespaces) serves every allowed namespace.
    expect(gateJob(inDemo, { ...teams, seedNamespaces: {} }, naming('TeamBRole')).gated).toBe(true);
  });

  test('an unreadable ServiceAccount lets the Job pass, marked unread (never stranded)', () => {
    const decision = gateJob(fixture(), SETTINGS, {
      cluster: 'prod-cluster',
      serviceAccount: { kind: 'unreadable', reason: 'no answer within 2000 ms' },
    });
    expect(decision).toEqual({
      gated: false,
      unread: true,
      reason: expect.stringContaining('no answer within 2000 ms'),
    });
  });

  test('a missing ServiceAccount holds a session Job (KubeStash may create it just after) but not a trigger Job', () => {
    const missing: AdmissionFacts = {
      cluster: 'prod-cluster',
      serviceAccount: { kind: 'missing' },
    };
    const session = fixture((r) => {
      (r.request.object.metadata as Json).labels = {
        'app.kubernetes.io/managed-by': 'kubestash.com',
        'app.kubernetes.io/component': 'kubestash-backup',
      };
    });
    expect(gateJob(session, SETTINGS, missing).gated).toBe(true);
    const trigger = fixture((r) => {
      (r.request.object.metadata as Json).labels = {
        'app.kubernetes.io/managed-by': 'kubestash.com',
      };
    });
    expect(gateJob(trigger, SETTINGS, missing).gated).toBe(false);
  });

  test('bucket names come from the ServiceAccount (repeats folded); the Job annotation only as a fallback', () => {
    const review = fixture((r) => {
      (r.request.object.metadata as { annotations: Json }).annotations = {
        'go.klusters.dev/bucket-names': 'someone-elses-bucket',
      };
    });
    const decision = gateJob(
      review,
      SETTINGS,
      withSa({
        'go.klusters.dev/seed-role-name': SEED_ARN,
        'go.klusters.dev/bucket-names':
          'kubestash-backups-111122223333,kubestash-backups-111122223333,team-bucket',
      }),
    );
    if (!decision.gated) throw new Error(decision.reason);
    const [container] = decision.patch.find((p) => p.path.includes('initContainers'))?.value as {
      env: { name: string; value?: string }[];
    }[];
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
    expect(env.UNMANAGED_BUCKETS).toBe('team-bucket');
    expect(env.TARGETS?.split(' ')).toHaveLength(1);
  });
});

describe('gateJob in a cluster a pod-identity seed serves', () => {
  const podSettings = { ...SETTINGS, podIdentityClusters: ['prod-cluster'] };
  const found = (annotations: Record<string, string>): AdmissionFacts => ({
    cluster: 'prod-cluster',
    serviceAccount: { kind: 'found', annotations },
  });
  // KubeStash copies the operator's association ID (kubestash/apimachinery pkg/cloud/irsa.go).
  const marker = { 'klusters.dev/pod-identity-association-id': 'a-operator0000000000' };

  test.each([
    ['KubeStash marks it for Pod Identity', marker],
    ['it names the seed this stack serves', { 'go.klusters.dev/seed-role-name': SEED_ARN }],
  ])('holds a session Job whose ServiceAccount has no association yet: %s', (_why, annotations) => {
    expect(gateJob(fixture(), podSettings, found(annotations)).gated).toBe(true);
  });

  test.each([
    [
      'it has its association already',
      { ...marker, 'kubestash-irsa.io/pod-identity-association': 'a-0123' },
      'already has its EKS Pod Identity association a-0123',
    ],
    [
      'it has an IRSA role of its own',
      { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/Mine' },
      'a role of its own',
    ],
    [
      'it names a seed this stack does not serve',
      { 'go.klusters.dev/seed-role-name': 'arn:aws:iam::111122223333:role/Other' },
      'does not serve',
    ],
  ])('lets it pass when %s', (_why, annotations, reason) => {
    const decision = gateJob(fixture(), podSettings, found(annotations));
    expect(decision.gated).toBe(false);
    if (!decision.gated) expect(decision.reason).toContain(reason);
  });

  test('holds a backup session Job whatever its ServiceAccount carries', () => {
    const review = fixture((r) => {
      const labels = (r.request.object.metadata as { labels: Record<string, string> }).labels;
      labels['app.kubernetes.io/component'] = 'kubestash-backup';
    });
    expect(gateJob(review, podSettings, found({})).gated).toBe(true);
  });

  test('lets a trigger Job pass (no session component, no Pod Identity mark)', () => {
    const review = fixture((r) => {
      const labels = (r.request.object.metadata as { labels: Record<string, string> }).labels;
      delete labels['app.kubernetes.io/component'];
    });
    const decision = gateJob(review, podSettings, found({}));
    expect(decision.gated).toBe(false);
  });
});
