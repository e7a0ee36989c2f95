import type { Plan } from '../../lambda/domain/plan-types';
import type { ReconcileResult } from '../../lambda/reconciler/reconcile-seed';

/** A plan that does nothing, under the default trust-policy quota. */
export function emptyPlan(): Plan {
  return {
    quota: 2048,
    creates: [],
    updates: [],
    deletes: [],
    assignments: [],
    refusals: [],
    roles: [],
    notes: [],
  };
}

/** What a pass that changed nothing returns (3 derived roles of a limit of 100), for handler tests. */
export function quietReconcileResult(): ReconcileResult {
  return {
    plan: emptyPlan(),
    created: 0,
    updated: 0,
    deleted: 0,
    annotated: 0,
    events: 0,
    unreachableClusters: [],
    derivedRoles: 3,
    roleCreationLimit: 100,
    refusedByReason: {},
    warnings: [],
  };
}
