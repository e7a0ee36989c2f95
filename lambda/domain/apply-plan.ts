import type { ExistingRole, Plan, PlanInput } from './plan-types';

/**
 * The state a plan leads to, had every write succeeded: roles created,
 * re-trusted, re-tagged or deleted, ServiceAccounts annotated. Used to prove
 * the planner idempotent and by the plan command and benchmarks; the
 * reconciler reads the real state back instead.
 */
export function applyPlan(input: PlanInput, plan: Plan): PlanInput {
  const deleted = new Set(plan.deletes.map((d) => d.roleName));
  const updates = new Map(plan.updates.map((u) => [u.roleName, u]));
  const roles: ExistingRole[] = input.roles
    .filter((r) => !deleted.has(r.name))
    .map((role) => {
      const update = updates.get(role.name);
      if (update === undefined) return role;
      const tags = { ...role.tags, ...update.setTags };
      for (const key of update.removeTags) delete tags[key];
      return { ...role, trustPolicy: update.trustPolicy ?? role.trustPolicy, tags };
    });
  for (const create of plan.creates) {
    roles.push({
      name: create.roleName,
      path: create.path,
      trustPolicy: encodeURIComponent(create.trustPolicy),
      tags: { ...create.tags },
      createDate: input.now,
    });
  }
  const annotations = new Map(
    plan.assignments
      .filter((a) => a.annotate)
      .map((a) => [`${a.cluster}/${a.namespace}/${a.name}`, a.roleArn]),
  );
  const serviceAccounts = input.serviceAccounts.map((sa) => {
    const arn = annotations.get(`${sa.cluster}/${sa.namespace}/${sa.name}`);
    return arn === undefined ? sa : { ...sa, roleArn: arn };
  });
  return { ...input, roles, serviceAccounts };
}
