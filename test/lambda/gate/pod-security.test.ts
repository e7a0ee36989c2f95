import { admissionReview } from '../../../lambda/gate/admission-review';
import { gateJob } from '../../../lambda/gate/gate-job';
import type { AdmissionFacts } from '../../../lambda/gate/gate-job';
import { SETTINGS } from '../../support/gate-fixtures';
import { applyJsonPatch } from '../../support/json-patch';
import { admissionReviewOf, kubestashObjects } from '../../support/kubestash-objects';
import { restrictedViolations } from '../../support/pod-security';

type Json = Record<string, unknown>;

/** Each session's ServiceAccount names the seed and has no role yet, so its Job is held. */
const HELD: AdmissionFacts = {
  cluster: 'prod-cluster',
  serviceAccount: {
    kind: 'found',
    annotations: {
      'go.klusters.dev/seed-role-name': 'arn:aws:iam::111122223333:role/KubestashRole',
    },
  },
};
type PodSpec = Json & { containers: Json[]; securityContext?: Json };

/**
 * The gate must not turn a Job that complies with the `restricted` Pod
 * Security level into one whose Pods PodSecurity rejects (a real 1.32 API
 * server answered `would violate PodSecurity "restricted:latest":
 * seccompProfile (pod or container "kubestash-irsa-access-check" must set …)`).
 */
function compliant(job: Json, podLevel: boolean): Json {
  const out = structuredClone(job) as Json & { spec: { template: { spec: PodSpec } } };
  const spec = out.spec.template.spec;
  const restricted = {
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    ...(podLevel ? {} : { seccompProfile: { type: 'RuntimeDefault' } }),
  };
  spec.containers = spec.containers.map((c) => ({ ...c, securityContext: restricted }));
  if (podLevel) {
    spec.securityContext = {
      ...spec.securityContext,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    };
  }
  return out;
}

const sessions = ['backup-session.yaml', 'retention-session.yaml', 'restore-session.yaml'];

describe.each(sessions)('%s Job under the restricted Pod Security level', (file) => {
  const { job } = kubestashObjects(file);
  if (job === undefined) throw new Error(`${file} has no Job`);

  test.each([
    ['seccomp set on each container only', false],
    ['seccomp and runAsNonRoot set on the pod', true],
  ])('the held Job still complies (%s)', (_, podLevel) => {
    const before = compliant(job, podLevel);
    const template = (j: Json) => (j as { spec: { template: { spec: Json } } }).spec.template.spec;
    expect(restrictedViolations(template(before))).toEqual([]);
    const decision = gateJob(admissionReview.parse(admissionReviewOf(before)), SETTINGS, HELD);
    if (!decision.gated) throw new Error(decision.reason);
    const after = applyJsonPatch(before, decision.patch);
    expect(restrictedViolations(template(after))).toEqual([]);
  });
});

test('the checker is not blind: the access-check container without seccomp is reported the way PodSecurity words it', () => {
  const { job } = kubestashObjects('backup-session.yaml');
  if (job === undefined) throw new Error('no Job');
  const before = compliant(job, false);
  const decision = gateJob(admissionReview.parse(admissionReviewOf(before)), SETTINGS, HELD);
  if (!decision.gated) throw new Error(decision.reason);
  const after = applyJsonPatch(before, decision.patch) as {
    spec: { template: { spec: Json & { initContainers: { securityContext: Json }[] } } };
  };
  delete after.spec.template.spec.initContainers[0].securityContext.seccompProfile;
  expect(restrictedViolations(after.spec.template.spec)).toEqual([
    'seccompProfile (pod or container "kubestash-irsa-access-check" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  ]);
});
