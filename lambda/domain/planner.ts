import { EMPTY_SINCE_TAG, MANAGED_BY_TAG, MANAGED_BY_VALUE, SEED_TAG } from '../ports/tag-keys';
import {
  derivedRoleIndex,
  derivedRoleIndexIgnoringCase,
  derivedRoleName,
  maxRoleCreationLimitForName,
  roleArn,
} from './iam-names';
import type {
  Assignment,
  ExistingRole,
  Plan,
  PlanInput,
  Refusal,
  RoleCreate,
  RoleDelete,
  RoleSummary,
  RoleUpdate,
  SeedCluster,
  SeedSpec,
  ServiceAccountState,
} from './plan-types';
import { DEFAULT_TRUST_POLICY_QUOTA, policySize } from './policy-size';
import { namespaceWildcardSubject, serviceAccountSubject } from './subject';
import {
  parseTrustPolicy,
  renderEmptyTrustPolicy,
  renderTrustPolicy,
  TrustPolicySizer,
} from './trust-policy';
import type { ParsedTrustPolicy } from './trust-policy';

/**
 * Decides which derived role each ServiceAccount's subject goes into, and the
 * fewest IAM writes that get there. Pure and deterministic: the same input
 * gives the same plan, and planning again from the plan's result gives no writes.
 *
 * Invariants (property-tested in test/lambda/domain/planner.test.ts):
 * 1. every eligible subject is in exactly one derived role of its seed, no other subject in any;
 * 2. no rendered document exceeds the quota;
 * 3. a subject already in a role stays there; new subjects fill freed room first;
 * 4. gone subjects are removed; a role empty past the grace period is deleted, a non-empty one never;
 * 5. a seed never has more derived roles than its limit: past it, new subjects are refused;
 * 6. idempotent; 7. each role is written at most once per plan.
 */
export function plan(input: PlanInput): Plan {
  const quota = input.quota ?? DEFAULT_TRUST_POLICY_QUOTA;
  const out = new PlanBuilder(quota);
  const allowed = new Set(input.allowedNamespaces);
  const bySeed = new Map<string, ServiceAccountState[]>(input.seeds.map((s) => [s.name, []]));
  const seen = new Set<string>();

  for (const sa of [...input.serviceAccounts].sort(compareServiceAccounts)) {
    const key = `${sa.cluster}/${sa.namespace}/${sa.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const seed = input.seeds.find((s) => s.arn === sa.seedRole || s.name === sa.seedRole);
    if (seed === undefined) {
      out.refuse(sa, 'SeedRoleNotAllowed', seedNotAllowedMessage(sa, input.seeds));
    } else if (!allowed.has(sa.namespace)) {
      out.refuse(sa, 'NamespaceNotAllowed', namespaceNotAllowedMessage(sa, seed, allowed));
    } else if (!seed.clusters.some((c) => c.name === sa.cluster)) {
      out.refuse(
        sa,
        'ClusterNotAllowed',
        `seed ${seed.name} does not serve cluster "${sa.cluster}" (it serves ${seed.clusters.map((c) => c.name).join(', ')}); add the cluster to the seed's clusters`,
      );
    } else {
      bySeed.get(seed.name)?.push(sa);
    }
  }

  for (const seed of input.seeds) {
    new SeedPlanner(seed, input, quota, out).run(bySeed.get(seed.name) ?? []);
  }
  return out.build();
}

/**
 * Stable text (no counts): the Event is recorded once, not on every pass. The
 * parameter name is the seed's letters and digits, as the stack names it.
 */
function namespaceNotAllowedMessage(
  sa: ServiceAccountState,
  seed: SeedSpec,
  allowed: ReadonlySet<string>,
): string {
  const parameter = `${seed.name.replace(/[^A-Za-z0-9]/g, '')}AllowedNamespaces`;
  return `namespace "${sa.namespace}" may not receive roles of seed ${seed.name} (allowed: ${[...allowed].join(', ') || 'none'}): each seed serves only the namespaces of its team; point the ServiceAccount's go.klusters.dev/seed-role-name at the seed of this namespace's team, or, if its backups need this seed, add "${sa.namespace}" to the seed's namespaces (config seeds[].namespaces, CloudFormation parameter ${parameter})`;
}

function seedNotAllowedMessage(sa: ServiceAccountState, seeds: readonly SeedSpec[]): string {
  return `annotation go.klusters.dev/seed-role-name names "${sa.seedRole}", which is not a configured seed role (${seeds.map((s) => s.arn).join(', ') || 'none'}); point it at a configured seed or add the seed to the configuration`;
}

class PlanBuilder {
  readonly creates: RoleCreate[] = [];
  readonly updates: RoleUpdate[] = [];
  readonly deletes: RoleDelete[] = [];
  readonly assignments: Assignment[] = [];
  readonly refusals: Refusal[] = [];
  readonly roles: RoleSummary[] = [];
  readonly notes: string[] = [];

  constructor(readonly quota: number) {}

  refuse(sa: ServiceAccountState, reason: Refusal['reason'], message: string): void {
    this.refusals.push({
      cluster: sa.cluster,
      namespace: sa.namespace,
      name: sa.name,
      reason,
      message,
    });
  }

  build(): Plan {
    return {
      quota: this.quota,
      creates: this.creates,
      updates: this.updates,
      deletes: this.deletes,
      assignments: this.assignments,
      refusals: this.refusals,
      roles: this.roles,
      notes: this.notes,
    };
  }
}

/** A subject under one provider: what a trust policy lists. */
interface Entry {
  readonly key: string;
  readonly provider: SeedCluster;
  readonly subject: string;
  /** Characters the subject takes in a `sub` list. */
  readonly length: number;
}

function makeEntry(provider: SeedCluster, subject: string): Entry {
  return {
    key: `${provider.providerArn}\u0000${subject}`,
    provider,
    subject,
    length: TrustPolicySizer.quotedLength(subject),
  };
}

/** A derived role being planned: what it will trust, and the exact size of that. */
class RoleBox {
  /** Subjects per provider ARN. */
  readonly grants = new Map<string, Set<string>>();
  size: number;
  /** The model differs from the role's current document. */
  changed: boolean;

  constructor(
    public index: number,
    public name: string,
    private readonly sizer: TrustPolicySizer,
    readonly existing?: ExistingRole,
    readonly parsed?: ParsedTrustPolicy,
  ) {
    this.size = sizer.documentBase;
    this.changed = existing === undefined;
  }

  get subjectCount(): number {
    let n = 0;
    for (const set of this.grants.values()) n += set.size;
    return n;
  }

  has(entry: Entry): boolean {
    return this.grants.get(entry.provider.providerArn)?.has(entry.subject) ?? false;
  }

  /** Whether the entry joins a statement the role has (or the role is empty): no statement to open. */
  welcomes(entry: Entry): boolean {
    return this.grants.size === 0 || this.grants.has(entry.provider.providerArn);
  }

  /** What adding the entry would cost, in characters. */
  cost(entry: Entry): number {
    const set = this.grants.get(entry.provider.providerArn);
    const statement =
      set === undefined ? this.sizer.statementCost(entry.provider, this.grants.size) : 0;
    return statement + this.sizer.subjectCost(entry.length, set?.size ?? 0);
  }

  add(entry: Entry): void {
    this.size += this.cost(entry);
    const set = this.grants.get(entry.provider.providerArn) ?? new Set<string>();
    set.add(entry.subject);
    this.grants.set(entry.provider.providerArn, set);
  }

  remove(entry: Entry): void {
    const set = this.grants.get(entry.provider.providerArn);
    if (set === undefined || !set.delete(entry.subject)) return;
    if (set.size === 0) this.grants.delete(entry.provider.providerArn);
    this.changed = true;
  }

  /** Recomputes the size from scratch after removals (which are rare; additions are incremental). */
  resize(providers: ReadonlyMap<string, SeedCluster>): void {
    let size = this.sizer.documentBase;
    let statements = 0;
    for (const [arn, set] of this.grants) {
      const provider = providers.get(arn);
      if (provider === undefined) continue;
      size += this.sizer.statementCost(provider, statements++);
      let n = 0;
      for (const subject of set)
        size += this.sizer.subjectCost(TrustPolicySizer.quotedLength(subject), n++);
    }
    this.size = size;
  }
}

class SeedPlanner {
  private readonly sizer: TrustPolicySizer;
  private readonly providers: ReadonlyMap<string, SeedCluster>;
  private readonly boxes: RoleBox[] = [];
  private readonly compact: ReadonlySet<string>;

  constructor(
    private readonly seed: SeedSpec,
    private readonly input: PlanInput,
    private readonly quota: number,
    private readonly out: PlanBuilder,
  ) {
    this.sizer = new TrustPolicySizer(seed.conditionOperator);
    this.providers = new Map(seed.clusters.map((c) => [c.providerArn, c]));
    this.compact = new Set(
      seed.conditionOperator === 'StringLike' ? (seed.compactNamespaces ?? []) : [],
    );
  }

  run(serviceAccounts: readonly ServiceAccountState[]): void {
    // What should be trusted, and by which ServiceAccounts.
    const desired = new Map<string, Entry>();
    const entryOf = new Map<ServiceAccountState, Entry>();
    for (const sa of serviceAccounts) {
      const provider = this.seed.clusters.find((c) => c.name === sa.cluster);
      if (provider === undefined) continue;
      const subject = this.compact.has(sa.namespace)
        ? namespaceWildcardSubject(sa.namespace)
        : serviceAccountSubject(sa.namespace, sa.name);
      const fresh = makeEntry(provider, subject);
      const entry = desired.get(fresh.key) ?? fresh;
      desired.set(entry.key, entry);
      entryOf.set(sa, entry);
    }
    // The role each entry's ServiceAccount is annotated with: its pods hold that ARN.
    const annotated = new Map<string, string>();
    for (const [sa, entry] of entryOf) {
      if (sa.roleArn !== undefined && !annotated.has(entry.key))
        annotated.set(entry.key, sa.roleArn);
    }

    const placed = this.readExistingRoles(desired, annotated);
    this.keepAnnotatedPlacements(desired, placed, annotated);
    this.evictOverflow(placed, annotated);
    const refused = this.placeNewEntries(desired, placed);

    for (const [sa, entry] of entryOf) {
      const box = placed.get(entry.key);
      if (box === undefined) {
        const why = refused.get(entry.key);
        if (why !== undefined) this.out.refuse(sa, why.reason, why.message);
        continue;
      }
      const arn = this.arnOf(box.name);
      this.out.assignments.push({
        cluster: sa.cluster,
        namespace: sa.namespace,
        name: sa.name,
        seed: this.seed.name,
        roleName: box.name,
        roleArn: arn,
        annotate: sa.roleArn !== arn,
      });
    }
    this.emitWrites();
  }

  private arnOf(name: string): string {
    const [, partition = 'aws', , , account = ''] = this.seed.arn.split(':');
    return roleArn(partition, account, this.seed.path, name);
  }

  /** Builds a box per existing derived role, keeping only wanted entries, each in one role. */
  private readExistingRoles(
    desired: ReadonlyMap<string, Entry>,
    annotated: ReadonlyMap<string, string>,
  ): Map<string, RoleBox> {
    const own = this.input.roles
      .filter(
        (r) => r.path === this.seed.path && derivedRoleIndex(this.seed.name, r.name) !== undefined,
      )
      .map((r) => ({ role: r, index: derivedRoleIndex(this.seed.name, r.name) ?? 0 }))
      .sort((a, b) => a.index - b.index);
    const occurrences = new Map<string, RoleBox[]>();
    for (const { role, index } of own) {
      let parsed: ParsedTrustPolicy | undefined;
      try {
        parsed = parseTrustPolicy(role.trustPolicy);
      } catch (e) {
        this.out.notes.push(
          `${role.name}: unreadable trust policy (${(e as Error).message}); rewriting it`,
        );
      }
      const box = new RoleBox(index, role.name, this.sizer, role, parsed);
      this.boxes.push(box);
      if (parsed === undefined) {
        box.changed = true;
        continue;
      }
      if (parsed.unrecognized.length > 0) {
        box.changed = true;
        this.out.notes.push(
          `${role.name}: repairing a hand-edited trust policy (${parsed.unrecognized.join('; ')})`,
        );
      }
      if ([...parsed.operators].some((op) => op !== this.seed.conditionOperator))
        box.changed = true;
      for (const [providerArn, subjects] of parsed.grants) {
        const provider = this.providers.get(providerArn);
        if (provider === undefined) {
          box.changed = true;
          this.out.notes.push(
            `${role.name}: dropping ${subjects.length} subject(s) of provider ${providerArn}, which the seed does not use`,
          );
          continue;
        }
        for (const subject of subjects) {
          const entry = desired.get(`${providerArn}\u0000${subject}`);
          if (entry === undefined) {
            box.changed = true;
            continue;
          }
          box.add(entry);
          const list = occurrences.get(entry.key) ?? [];
          list.push(box);
          occurrences.set(entry.key, list);
        }
      }
    }

    const placed = new Map<string, RoleBox>();
    for (const [key, boxes] of occurrences) {
      const entry = desired.get(key);
      if (entry === undefined) continue;
      const arn = annotated.get(key);
      const keep = boxes.find((b) => arn !== undefined && this.arnOf(b.name) === arn) ?? boxes[0];
      for (const b of boxes) if (b !== keep) b.remove(entry);
      if (boxes.length > 1) {
        this.out.notes.push(
          `${entry.subject} was in ${boxes.map((b) => b.name).join(' and ')}; keeping it in ${keep.name}`,
        );
      }
      placed.set(key, keep);
    }
    for (const box of this.boxes) if (box.changed) box.resize(this.providers);
    return placed;
  }

  /** A ServiceAccount annotated with one of our roles goes back into that role if it can. */
  private keepAnnotatedPlacements(
    desired: ReadonlyMap<string, Entry>,
    placed: Map<string, RoleBox>,
    annotated: ReadonlyMap<string, string>,
  ): void {
    const byArn = new Map(this.boxes.map((b) => [this.arnOf(b.name), b]));
    for (const [key, arn] of [...annotated].sort(([a], [b]) => compare(a, b))) {
      const entry = desired.get(key);
      const box = byArn.get(arn);
      if (entry === undefined || box === undefined || placed.has(key)) continue;
      if (box.size + box.cost(entry) <= this.quota) {
        box.add(entry);
        box.changed = true;
        placed.set(key, box);
      }
    }
  }

  /** A role over the quota (lowered quota, hand edit) sheds entries until it fits. */
  private evictOverflow(
    placed: Map<string, RoleBox>,
    annotated: ReadonlyMap<string, string>,
  ): void {
    for (const box of this.boxes) {
      if (box.size <= this.quota) continue;
      const arn = this.arnOf(box.name);
      const entries = [...placed].filter(([, b]) => b === box).map(([key]) => key);
      // Entries whose pods do not hold this role's ARN go first, then the rest, in reverse order.
      entries.sort((a, b) => {
        const pa = annotated.get(a) === arn ? 1 : 0;
        const pb = annotated.get(b) === arn ? 1 : 0;
        return pa - pb || compare(b, a);
      });
      const evicted: string[] = [];
      for (const key of entries) {
        if (box.size <= this.quota) break;
        const entry = this.entryFromKey(key);
        box.remove(entry);
        box.resize(this.providers);
        placed.delete(key);
        evicted.push(entry.subject);
      }
      this.out.notes.push(
        `${box.name} exceeded the ${this.quota}-character quota; moved ${evicted.length} subject(s) elsewhere: ${evicted.join(', ')}`,
      );
    }
  }

  private entryFromKey(key: string): Entry {
    const [providerArn, subject] = key.split('\u0000');
    const provider = this.providers.get(providerArn);
    if (provider === undefined || subject === undefined) throw new Error(`unknown entry ${key}`);
    return makeEntry(provider, subject);
  }

  /**
   * The indices a new derived role may take: below the seed's limit, below
   * the limit its name length allows (IAM: 64 characters), and not the name
   * of a role the seed does not own (IAM role names are unique in the account
   * whatever the path, ignoring case).
   */
  private freeIndices(): { free: number[]; limit: number; occupied: Map<number, string> } {
    const fits = maxRoleCreationLimitForName(this.seed.name);
    const limit = Math.min(this.seed.roleCreationLimit, fits);
    const taken = new Set(this.boxes.map((b) => b.index));
    const occupied = new Map<number, string>();
    const others = [...(this.input.foreignRoleNames ?? []), ...this.input.roles.map((r) => r.name)];
    for (const name of others) {
      const index = derivedRoleIndexIgnoringCase(this.seed.name, name);
      if (index !== undefined && !taken.has(index) && !this.ownsName(name))
        occupied.set(index, name);
    }
    const free: number[] = [];
    for (let i = 0; i < limit && free.length + this.boxes.length < limit; i++) {
      if (!taken.has(i) && !occupied.has(i)) free.push(i);
    }
    return { free, limit, occupied };
  }

  /** A role of this seed's own, at its path with its exact name (those are boxes already). */
  private ownsName(name: string): boolean {
    return this.boxes.some((b) => b.name === name);
  }

  /**
   * Places the subjects not yet in a role. Largest first (first-fit
   * decreasing), each into the lowest-index role that already has a statement
   * for its cluster (or is empty) and has room, else into a new role at the
   * lowest free index: so each cluster is packed as if alone, and no role pays
   * for a second provider statement while a role could still be created. At
   * the limit, a subject may open a statement in any role with room. Last, a
   * role created by this plan whose subjects all fit in another role with room
   * (each cluster's last, part-filled role) is folded into it; only subjects
   * placed by this plan move, never a granted one.
   */
  private placeNewEntries(
    desired: ReadonlyMap<string, Entry>,
    placed: Map<string, RoleBox>,
  ): Map<string, { reason: Refusal['reason']; message: string }> {
    const refused = new Map<string, { reason: Refusal['reason']; message: string }>();
    const pending = [...desired.values()].filter((e) => !placed.has(e.key));
    const { free, limit, occupied } = this.freeIndices();
    for (const [index, name] of occupied) {
      this.out.notes.push(
        `${derivedRoleName(this.seed.name, index)} is taken by the role ${name}, which ${this.seed.name} does not own (IAM role names are unique in the account, ignoring path and case); skipping index ${index}`,
      );
    }
    // Largest first packs tightest (first-fit decreasing). When the limit will
    // refuse some subjects anyway, smallest first grants the most of them.
    const room =
      this.boxes.reduce((sum, b) => sum + (this.quota - b.size), 0) +
      free.length * (this.quota - this.sizer.documentBase);
    const needed = pending.reduce((sum, e) => sum + e.length + 1, 0);
    const direction = needed > room ? 1 : -1;
    pending.sort((a, b) => direction * (a.length - b.length) || compare(a.key, b.key));
    const created: RoleBox[] = [];
    // Once no role can be created, the most room any role has left only shrinks:
    // a subject that needs more than that is refused without scanning every role.
    let mostRoom: number | undefined;
    const fits = (b: RoleBox, entry: Entry) => b.size + b.cost(entry) <= this.quota;

    for (const entry of pending) {
      const alone =
        this.sizer.documentBase +
        this.sizer.statementCost(entry.provider, 0) +
        this.sizer.subjectCost(entry.length, 0);
      if (alone > this.quota) {
        refused.set(entry.key, {
          reason: 'SubjectTooLarge',
          message: `subject ${entry.subject} needs ${alone} characters even alone in a role, more than the trust-policy quota of ${this.quota}; shorten the namespace or ServiceAccount name, or raise the quota (Service Quotas L-C07B4B0D)`,
        });
        continue;
      }
      let target: RoleBox | undefined;
      if (mostRoom === undefined || entry.length + 1 <= mostRoom) {
        target = this.boxes.find((b) => b.welcomes(entry) && fits(b, entry));
      }
      const index = target === undefined ? free.shift() : undefined;
      if (index !== undefined) {
        target = new RoleBox(index, derivedRoleName(this.seed.name, index), this.sizer);
        this.boxes.push(target);
        created.push(target);
      }
      if (target === undefined && (mostRoom === undefined || entry.length + 1 <= mostRoom)) {
        target = this.boxes.find((b) => fits(b, entry));
      }
      if (target === undefined) {
        mostRoom = this.boxes.reduce((most, b) => Math.max(most, this.quota - b.size), 0);
        refused.set(entry.key, {
          reason: 'DerivedRoleLimitReached',
          message: this.limitMessage(limit, occupied),
        });
        continue;
      }
      target.add(entry);
      target.changed = true;
      placed.set(entry.key, target);
      mostRoom = undefined;
    }
    this.foldCreatedRoles(created, placed);
    return refused;
  }

  /** Why no role could be created, and what to do: the limit, the name length or foreign names. */
  private limitMessage(limit: number, occupied: ReadonlyMap<number, string>): string {
    const parameter = `${this.seed.name.replace(/[^A-Za-z0-9]/g, '')}RoleCreationLimit`;
    const manager = new Set(this.input.managerRoleNames ?? []);
    // Only names below the limit keep a role from being created; freeing the others would not help.
    const names = [...occupied].filter(([index]) => index < limit).map(([, name]) => name);
    const ofManager = names.filter((n) => manager.has(n));
    const others = names.filter((n) => !manager.has(n));
    const reasons = [
      ...(others.length === 0
        ? []
        : [
            `${others.join(', ')}, not its own, ${others.length === 1 ? 'takes a derived name' : 'take derived names'}: IAM role names are unique in the account ignoring path and case; rename or delete ${others.length === 1 ? 'it' : 'them'} to free the names`,
          ]),
      ...(ofManager.length === 0
        ? []
        : [
            `${ofManager.join(', ')} of aws-credential-manager ${ofManager.length === 1 ? 'holds a derived name' : 'hold derived names'}: \`npm run migrate -- --seed ${this.seed.name} --apply\` deletes those no live ServiceAccount uses`,
          ]),
    ];
    const foreign = reasons.length === 0 ? '' : ` (${reasons.join('; ')})`;
    const what =
      limit < this.seed.roleCreationLimit
        ? `may have only ${limit} derived roles${foreign} and they are full: ${this.seed.name}-${limit} would pass IAM's 64-character role-name limit; shorten the seed name`
        : `has reached its limit of ${limit} derived roles${foreign} and they are full; raise the limit (CloudFormation parameter ${parameter})`;
    return `seed ${this.seed.name} ${what} or the trust-policy size quota (Service Quotas L-C07B4B0D). The Job stays suspended until a role has room`;
  }

  /**
   * Folds each role this plan created into another role with room for all of
   * its subjects, smallest first, then renumbers the created roles that
   * remain to the lowest free indices, so folding leaves no gap.
   */
  private foldCreatedRoles(created: RoleBox[], placed: Map<string, RoleBox>): void {
    if (created.length === 0) return;
    const indices = created.map((b) => b.index).sort((a, b) => a - b);
    const bySize = [...created].sort((a, b) => a.size - b.size || a.index - b.index);
    const folded = new Set<RoleBox>();
    for (const box of bySize) {
      const entries = [...placed]
        .filter(([, b]) => b === box)
        .map(([key]) => this.entryFromKey(key));
      const target = this.boxes.find(
        (b) => b !== box && !folded.has(b) && this.fitsAll(b, entries),
      );
      if (target === undefined) continue;
      for (const entry of entries) {
        target.add(entry);
        placed.set(entry.key, target);
      }
      target.changed = true;
      folded.add(box);
    }
    if (folded.size === 0) return;
    const kept = created.filter((b) => !folded.has(b)).sort((a, b) => a.index - b.index);
    kept.forEach((box, i) => {
      box.index = indices[i];
      box.name = derivedRoleName(this.seed.name, indices[i]);
    });
    this.boxes.splice(0, this.boxes.length, ...this.boxes.filter((b) => !folded.has(b)));
  }

  /** Whether every entry fits the role together, counting each statement the role must open once. */
  private fitsAll(box: RoleBox, entries: readonly Entry[]): boolean {
    let size = box.size;
    const statements = new Map<string, number>();
    for (const [arn, set] of box.grants) statements.set(arn, set.size);
    for (const entry of entries) {
      const arn = entry.provider.providerArn;
      const existing = statements.get(arn);
      if (existing === undefined) size += this.sizer.statementCost(entry.provider, statements.size);
      size += this.sizer.subjectCost(entry.length, existing ?? 0);
      statements.set(arn, (existing ?? 0) + 1);
      if (size > this.quota) return false;
    }
    return true;
  }

  private emitWrites(): void {
    const now = Date.parse(this.input.now);
    for (const box of [...this.boxes].sort((a, b) => a.index - b.index)) {
      const grants = [...box.grants].flatMap(([arn, subjects]) => {
        const provider = this.providers.get(arn);
        return provider === undefined ? [] : [{ provider, subjects: [...subjects] }];
      });
      const summary = (state: RoleSummary['state'], document: string): RoleSummary => ({
        seed: this.seed.name,
        roleName: box.name,
        state,
        subjects: box.subjectCount,
        size: policySize(document),
        quota: this.quota,
      });

      if (box.existing === undefined) {
        const trustPolicy = renderTrustPolicy(grants, this.seed.conditionOperator);
        this.out.creates.push({
          seed: this.seed.name,
          roleName: box.name,
          path: this.seed.path,
          trustPolicy,
          tags: { [SEED_TAG]: this.seed.name, [MANAGED_BY_TAG]: MANAGED_BY_VALUE },
        });
        this.out.roles.push(summary('create', trustPolicy));
        continue;
      }

      const emptySinceTag = box.existing.tags[EMPTY_SINCE_TAG];
      const emptySince = emptySinceTag === undefined ? NaN : Date.parse(emptySinceTag);
      if (box.subjectCount === 0) {
        const firstProvider = this.seed.clusters[0];
        const trustPolicy = renderEmptyTrustPolicy(firstProvider);
        if (
          !Number.isNaN(emptySince) &&
          now - emptySince >= this.input.emptyRoleGracePeriodSeconds * 1000
        ) {
          this.out.deletes.push({ seed: this.seed.name, roleName: box.name });
          this.out.roles.push(summary('delete', trustPolicy));
          continue;
        }
        const markerInPlace =
          box.parsed?.emptyMarker === true && box.parsed.unrecognized.length === 0;
        const rewrite = box.changed || !markerInPlace;
        if (!rewrite && !Number.isNaN(emptySince)) {
          this.out.roles.push(summary('unchanged', trustPolicy));
          continue;
        }
        this.out.updates.push({
          seed: this.seed.name,
          roleName: box.name,
          trustPolicy: rewrite ? trustPolicy : undefined,
          setTags: {
            [EMPTY_SINCE_TAG]: Number.isNaN(emptySince)
              ? this.input.now
              : (emptySinceTag ?? this.input.now),
          },
          removeTags: [],
        });
        this.out.roles.push(summary('update', trustPolicy));
        continue;
      }

      const trustPolicy = renderTrustPolicy(grants, this.seed.conditionOperator);
      const staleMarker = emptySinceTag !== undefined;
      if (!box.changed && !staleMarker) {
        this.out.roles.push(summary('unchanged', trustPolicy));
        continue;
      }
      this.out.updates.push({
        seed: this.seed.name,
        roleName: box.name,
        trustPolicy: box.changed ? trustPolicy : undefined,
        setTags: {},
        removeTags: staleMarker ? [EMPTY_SINCE_TAG] : [],
      });
      this.out.roles.push(summary('update', trustPolicy));
    }
  }
}

function compareServiceAccounts(a: ServiceAccountState, b: ServiceAccountState): number {
  return (
    compare(a.cluster, b.cluster) || compare(a.namespace, b.namespace) || compare(a.name, b.name)
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
