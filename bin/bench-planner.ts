#!/usr/bin/env node
/**
 * `npm run bench:planner`: how well the planner packs realistic KubeStash
 * subjects, and how its time grows with the number of ServiceAccounts.
 * Reproducible: names come from a seeded PRNG.
 */
import { performance } from 'node:perf_hooks';
import { applyPlan } from '../lambda/domain/apply-plan';
import type { PlanInput, SeedSpec, ServiceAccountState } from '../lambda/domain/plan-types';
import { plan } from '../lambda/domain/planner';
import { serviceAccountSubject } from '../lambda/domain/subject';
import { TrustPolicySizer } from '../lambda/domain/trust-policy';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/9F3A7C1B5D8E42A6C91E0F2B4A7D6C8E';
const DR_ISSUER = 'oidc.eks.us-west-2.amazonaws.com/id/6895F1604286AE3EB02EFD39CAC4E288';
const SEED: SeedSpec = {
  name: 'KubestashRole',
  arn: 'arn:aws:iam::111122223333:role/KubestashRole',
  path: '/kubestash-irsa/',
  conditionOperator: 'StringLike',
  roleCreationLimit: 100,
  clusters: [
    {
      name: 'prod',
      issuer: ISSUER,
      providerArn: `arn:aws:iam::111122223333:oidc-provider/${ISSUER}`,
    },
  ],
};
const DR_CLUSTER = {
  name: 'dr',
  issuer: DR_ISSUER,
  providerArn: `arn:aws:iam::111122223333:oidc-provider/${DR_ISSUER}`,
};

/** KubeStash's names: `<config>-<session>-<unix time>`, retention jobs, and `<restore>-restore`, in 4–20-character namespaces. */
function serviceAccounts(count: number, seed: number): ServiceAccountState[] {
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const word = (min: number, max: number) =>
    Array.from({ length: min + Math.floor(random() * (max - min + 1)) }, () =>
      pick([...'abcdefghijklmnopqrstuvwxyz']),
    ).join('');
  const namespaces = Array.from({ length: 12 }, () => word(4, 20));
  const configs = Array.from({ length: 40 }, () => `${word(3, 10)}-backup`);
  const sessions = ['demo-session', 'daily', 'hourly', 'weekly-full'];
  const out: ServiceAccountState[] = [];
  for (let i = 0; i < count; i++) {
    const kind = random();
    const time = 1778072138 + i * 37;
    const name =
      kind < 0.7
        ? `${pick(configs)}-${pick(sessions)}-${time}`
        : kind < 0.9
          ? `retention-policy-${pick(configs)}-${pick(sessions)}-${time}`
          : `${word(4, 12)}-${i}-restore`;
    out.push({ cluster: 'prod', namespace: pick(namespaces), name, seedRole: SEED.arn });
  }
  return out;
}

function input(
  sas: ServiceAccountState[],
  quota: number,
  limit = 100,
  clusters = SEED.clusters,
): PlanInput {
  return {
    seeds: [{ ...SEED, roleCreationLimit: limit, clusters }],
    allowedNamespaces: [...new Set(sas.map((s) => s.namespace))],
    quota,
    emptyRoleGracePeriodSeconds: 3600,
    now: '2026-11-22T12:00:00Z',
    roles: [],
    serviceAccounts: sas,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void, runs = 7): number {
  fn(); // warm-up
  fn();
  return median(
    Array.from({ length: runs }, () => {
      const start = performance.now();
      fn();
      return performance.now() - start;
    }),
  );
}

console.log('Planner benchmark (seeded names; `npm run bench:planner`)\n');

console.log('1. Packing: subjects per role achieved vs the theoretical maximum (goal ≥ 99%)');
let packingOk = true;
for (const quota of [2048, 4096, 8192]) {
  const sas = serviceAccounts(3000, 7);
  const result = plan(input(sas, quota, 1000));
  // The last role takes the remainder; the full ones show how tight the packing is.
  const full = result.roles.slice(0, -1);
  const achieved = full.reduce((a, r) => a + r.subjects, 0) / full.length;
  const sizer = new TrustPolicySizer('StringLike');
  const capacity = quota - sizer.documentBase - sizer.statementCost(SEED.clusters[0], 0) + 1;
  // The theoretical maximum for the subjects those roles actually hold: room divided by their mean cost.
  const inFull = new Set(full.map((r) => r.roleName));
  const held = result.assignments.filter((a) => inFull.has(a.roleName));
  const meanCost =
    held.reduce(
      (sum, a) =>
        sum + TrustPolicySizer.quotedLength(serviceAccountSubject(a.namespace, a.name)) + 1,
      0,
    ) / held.length;
  const theoretical = capacity / meanCost;
  const pct = (achieved / theoretical) * 100;
  const fill = (full.reduce((a, r) => a + r.size, 0) / (full.length * quota)) * 100;
  packingOk &&= pct >= 99;
  console.log(
    `   quota ${String(quota).padStart(4)}: ${result.roles.length} roles for ${sas.length} subjects; ` +
      `${achieved.toFixed(2)} per full role vs ${theoretical.toFixed(2)} theoretical = ${pct.toFixed(2)}% ` +
      `(full roles ${fill.toFixed(2)}% filled) ${pct >= 99 ? 'PASS' : 'FAIL'}`,
  );
}

console.log(
  '\n2. Multi-cluster packing: two clusters in one seed vs packing each cluster separately (goal ≥ 99%)',
);
let multiOk = true;
{
  const random = prng(5);
  const twoClusters = (count: number, seed: number) =>
    serviceAccounts(count, seed).map((sa) => ({
      ...sa,
      cluster: random() < 0.5 ? 'prod' : 'dr',
    }));
  const both = [SEED.clusters[0], DR_CLUSTER];
  /** Each cluster planned alone, as a seed that serves only it: the roles and who they hold. */
  const separately = (sas: ServiceAccountState[], quota: number, limit: number) =>
    both.flatMap((cluster) => {
      const own = sas.filter((sa) => sa.cluster === cluster.name);
      return plan(input(own, quota, limit, [cluster])).roles;
    });

  const sas = twoClusters(400, 13);
  const multi = plan(input(sas, 2048, 100, both));
  const alone = separately(sas, 2048, 100);
  const pct = (alone.length / multi.roles.length) * 100;
  multiOk &&= pct >= 99;
  console.log(
    `   quota 2048: ${multi.roles.length} roles for ${sas.length} subjects of 2 clusters vs ${alone.length} packing each cluster separately = ${pct.toFixed(2)}% ${pct >= 99 ? 'PASS' : 'FAIL'}`,
  );

  const many = twoClusters(3000, 17);
  const limited = plan(input(many, 2048, 100, both));
  // What fits: each cluster packed alone without a limit, then the 100 roles that hold the most.
  const fit = separately(many, 2048, 1000)
    .map((r) => r.subjects)
    .sort((a, b) => b - a)
    .slice(0, 100)
    .reduce((a, n) => a + n, 0);
  const granted = limited.assignments.length;
  const grantedPct = (granted / fit) * 100;
  multiOk &&= grantedPct >= 99;
  console.log(
    `   quota 2048, limit 100: ${granted} of ${many.length} subjects of 2 clusters granted vs ${fit} that fit packing each cluster separately = ${grantedPct.toFixed(2)}% ${grantedPct >= 99 ? 'PASS' : 'FAIL'}`,
  );
}

console.log(
  '\n3. Planning time over up to 100 roles (median of 7 runs after warm-up; goal: 30,000 ≤ 12× 3,000)',
);
const rows: { n: number; fresh: number; resync: number }[] = [];
for (const n of [3000, 30000]) {
  const state = input(serviceAccounts(n, 11), 2048);
  const fresh = time(() => plan(state));
  const settled = applyPlan(state, plan(state));
  const resync = time(() => plan(settled));
  const granted = plan(settled).assignments.length;
  rows.push({ n, fresh, resync });
  console.log(
    `   ${String(n).padStart(6)} ServiceAccounts: first plan ${fresh.toFixed(1)} ms, resync of the settled state ${resync.toFixed(1)} ms (${granted} granted in 100 roles, the rest refused at the limit)`,
  );
}
const [small, large] = rows;
const freshRatio = large.fresh / small.fresh;
const resyncRatio = large.resync / small.resync;
console.log(
  `   ratio 30,000 / 3,000: first plan ${freshRatio.toFixed(1)}×, resync ${resyncRatio.toFixed(1)}× ${Math.max(freshRatio, resyncRatio) <= 12 ? 'PASS' : 'FAIL'}`,
);
console.log(
  `\nResult: packing ${packingOk ? 'PASS' : 'FAIL'}, multi-cluster ${multiOk ? 'PASS' : 'FAIL'}, scaling ${Math.max(freshRatio, resyncRatio) <= 12 ? 'PASS' : 'FAIL'}`,
);
