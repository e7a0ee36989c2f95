import type { KubernetesPort } from '../ports/kubernetes-port';
import { KubernetesNotFoundError } from '../ports/kubernetes-port';
import type { WebIdentityPort } from '../ports/web-identity-port';

/** The audience IRSA tokens carry; the proof asks for the same. */
const STS_AUDIENCE = 'sts.amazonaws.com';
/** The shortest TokenRequest the API server grants. */
const PROOF_TOKEN_SECONDS = 600;
/** Proofs wait on IAM, not on CPU: a few at once keep a pass short without hammering STS. */
const PROOF_CONCURRENCY = 4;

export interface ProofOptions {
  /** AssumeRoleWithWebIdentity calls per role version and pass. */
  readonly attempts: number;
  readonly delayMs: number;
  /**
   * Time all proofs of one pass may take together, so a pass with many roles
   * waiting on IAM still ends well inside the Lambda timeout; roles not
   * proven in time are left unannotated for the next pass.
   * @default 45_000
   */
  readonly budgetMs?: number;
}

/** A role whose trust policy (as written this pass, or before) must be proven before its ServiceAccounts are pointed at it. */
export interface RoleToProve {
  readonly roleArn: string;
  /** ServiceAccounts the role now trusts and that are about to be annotated; the first that exists lends its token. */
  readonly serviceAccounts: readonly {
    readonly cluster: string;
    readonly namespace: string;
    readonly name: string;
  }[];
}

export type RoleProof =
  | { readonly kind: 'proven' }
  /** IAM refused every attempt: the trust policy has not propagated yet. */
  | { readonly kind: 'denied'; readonly reason: string }
  /** Out of proof time this pass, or no ServiceAccount left to lend a token: tried again next pass. */
  | { readonly kind: 'deferred' };

export interface ProveDeps {
  readonly kubernetes: (cluster: string) => KubernetesPort;
  readonly webIdentity: WebIdentityPort;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * Proves each role version the way a pod's SDK would use it: a TokenRequest
 * token (audience `sts.amazonaws.com`) of one ServiceAccount the role now
 * trusts, then `AssumeRoleWithWebIdentity`, retried while IAM propagates the
 * trust policy (IAM: "changes are eventually consistent", typically seconds,
 * sometimes up to a minute; https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
 * One proof per role version: every subject of one document propagates with
 * it, so one accepted token stands for all the ServiceAccounts placed in it.
 * Returns the outcome per role ARN.
 */
export async function proveRoles(
  deps: ProveDeps,
  roles: readonly RoleToProve[],
  proof: ProofOptions,
): Promise<Map<string, RoleProof>> {
  const deadline = deps.now().getTime() + (proof.budgetMs ?? 45_000);
  const out = new Map<string, RoleProof>();
  for (let i = 0; i < roles.length; i += PROOF_CONCURRENCY) {
    await Promise.all(
      roles.slice(i, i + PROOF_CONCURRENCY).map(async (role) => {
        out.set(role.roleArn, await proveRole(deps, role, proof, deadline));
      }),
    );
  }
  return out;
}

async function proveRole(
  deps: ProveDeps,
  role: RoleToProve,
  proof: ProofOptions,
  deadline: number,
): Promise<RoleProof> {
  if (deps.now().getTime() >= deadline) return { kind: 'deferred' };
  const token = await tokenOfAny(deps, role);
  if (token === undefined) return { kind: 'deferred' };
  let last = '';
  for (let attempt = 1; attempt <= proof.attempts; attempt++) {
    const outcome = await deps.webIdentity.assumeRoleWithWebIdentity(role.roleArn, token);
    if (outcome.accepted) return { kind: 'proven' };
    last = outcome.reason;
    if (attempt === proof.attempts) break;
    if (deps.now().getTime() + proof.delayMs >= deadline) return { kind: 'deferred' };
    await deps.sleep(proof.delayMs);
  }
  return { kind: 'denied', reason: last.split(':')[0] ?? last };
}

/** A token of the first listed ServiceAccount that still exists (one may be deleted since it was read). */
async function tokenOfAny(deps: ProveDeps, role: RoleToProve): Promise<string | undefined> {
  for (const sa of role.serviceAccounts) {
    try {
      return await deps
        .kubernetes(sa.cluster)
        .createServiceAccountToken(sa.namespace, sa.name, STS_AUDIENCE, PROOF_TOKEN_SECONDS);
    } catch (error) {
      if (!(error instanceof KubernetesNotFoundError)) throw error;
    }
  }
  return undefined;
}
