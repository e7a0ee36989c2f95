import type { RoleTag } from '../ports/iam-port';
import { TAG_PREFIX } from '../ports/tag-keys';
import { derivedRoleIndex } from './iam-names';
import type { ManagerRoleFound } from './migration-report';
import { serviceAccountSubject } from './subject';
import { parseTrustPolicy, TrustPolicyParseError } from './trust-policy';
import type { ParsedTrustPolicy } from './trust-policy';

/**
 * Recognises the derived roles AppsCode's aws-credential-manager made, so this
 * project never writes to them and `migrate` can report and retire them.
 *
 * What the manager's roles look like (sources: the KubeStash IRSA guide, seed
 * 000 §5.4 "creating role KubestashRole-0 …" and its `aws iam get-role`
 * output; the KubeStash v2026.4.27 release notes, seed 002 "Derived role trust
 * policy example"; both copied in docs/migration.md):
 * - named `<seed>-<i>` (`KubestashRole-0`, `kubestash-selfhost-7`), created by
 *   `iam:CreateRole` without `Path`, so at `/`;
 * - a trust policy cloned from the seed: one `Allow` statement for the
 *   cluster's OIDC provider, `sts:AssumeRoleWithWebIdentity`, a `StringLike`
 *   block with the `:sub` list of session ServiceAccounts and `:aud` =
 *   `sts.amazonaws.com`;
 * - no tags of this project (the guide's ManagerPolicy grants no
 *   `iam:TagRole`, and this project's reconciler tags every role it creates
 *   in the same CreateRole call, see lambda/reconciler/reconcile-seed.ts).
 *
 * The path is not part of the test: role names are unique in an account
 * whatever the path, and an untagged role can never be one of ours.
 */

/** A role as ListRoles (name, trust) and ListRoleTags (tags) show it. */
export interface RoleToRecognise {
  readonly name: string;
  /** As IAM returns it: URL-encoded JSON (plain JSON accepted). */
  readonly trustPolicy: string;
  readonly tags: readonly RoleTag[];
}

export type ManagerRoleVerdict =
  | {
      readonly manager: true;
      /** The `<i>` of `<seed>-<i>`. */
      readonly index: number;
      /** The OIDC provider ARN the role trusts. */
      readonly providerArn: string;
      /** The `:sub` values, in document order, duplicates removed (may be empty). */
      readonly subjects: readonly string[];
    }
  | {
      readonly manager: false;
      /** Why not, in words, for the migrate report. */
      readonly reason: string;
    };

/** Whether a tag key is one this project writes (`kubestash-irsa.io/…`). */
export function isProjectTagKey(key: string): boolean {
  return key.startsWith(`${TAG_PREFIX}/`);
}

/** The only finding {@link parseTrustPolicy} makes about a statement whose `:sub` list is empty. */
const NO_SUBJECTS = /^statement \d+: no subjects$/;

/**
 * Decides whether `role` is a derived role aws-credential-manager made from
 * the seed `seedName`. Pure; never throws (an unreadable document is "not
 * the manager's shape").
 */
export function recogniseManagerRole(seedName: string, role: RoleToRecognise): ManagerRoleVerdict {
  const index = derivedRoleIndex(seedName, role.name);
  if (index === undefined) return { manager: false, reason: `not named ${seedName}-<i>` };
  const ours = role.tags.filter((t) => isProjectTagKey(t.key)).map((t) => t.key);
  if (ours.length > 0) {
    return { manager: false, reason: `carries this project's tags (${ours.join(', ')})` };
  }
  let parsed: ParsedTrustPolicy;
  try {
    parsed = parseTrustPolicy(role.trustPolicy);
  } catch (e) {
    if (e instanceof TrustPolicyParseError) {
      return { manager: false, reason: `trust policy unreadable (${e.message})` };
    }
    throw e;
  }
  // A role the manager emptied may keep a statement with an empty `:sub` list.
  const other = parsed.unrecognized.filter((u) => !NO_SUBJECTS.test(u));
  if (parsed.emptyMarker || other.length > 0 || parsed.grants.size !== 1) {
    const why = parsed.emptyMarker
      ? "it is this project's trusts-nobody marker"
      : other.length > 0
        ? other.join('; ')
        : `it trusts ${parsed.grants.size} OIDC providers, the seed one`;
    return { manager: false, reason: `trust policy is not the seed's shape: ${why}` };
  }
  const [[providerArn, subjects]] = [...parsed.grants];
  return { manager: true, index, providerArn, subjects };
}

/** A ServiceAccount as the reconciler lists it, as far as the manager's grants go. */
export interface AnnotatedServiceAccount {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  /** `eks.amazonaws.com/role-arn`, if set. */
  readonly roleArn?: string;
}

/**
 * The manager's role a ServiceAccount keeps, or undefined: its role-arn
 * annotation names the role (its ARN, as IAM lists it), and the role trusts
 * the ServiceAccount's own subject under the OIDC provider of its cluster. Such
 * a grant works (its pods hold that role), so the reconciler leaves it alone
 * until the ServiceAccount is gone (docs/migration.md). A subject matched only
 * by a pattern is not counted: the ServiceAccount then gets a role of this
 * project, which is safe, rather than a grant nobody can check. Pure.
 */
export function keptManagerRole(
  sa: AnnotatedServiceAccount,
  providerOfCluster: (cluster: string) => string | undefined,
  roles: readonly ManagerRoleFound[],
): ManagerRoleFound | undefined {
  if (sa.roleArn === undefined) return undefined;
  const role = roles.find((r) => r.arn === sa.roleArn);
  if (role === undefined || role.providerArn !== providerOfCluster(sa.cluster)) return undefined;
  return role.subjects.includes(serviceAccountSubject(sa.namespace, sa.name)) ? role : undefined;
}
