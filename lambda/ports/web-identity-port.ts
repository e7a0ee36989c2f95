/** What IAM said to a ServiceAccount token offered for a role. */
export type WebIdentityOutcome =
  | { readonly accepted: true }
  /** Denied for now: the trust policy may not have propagated yet. */
  | { readonly accepted: false; readonly reason: string };

/**
 * Proves, the way a pod's SDK would, that IAM lets a ServiceAccount's token
 * assume a role. The credentials that come back are dropped at once: the
 * proof is the answer, not the keys.
 */
export interface WebIdentityPort {
  assumeRoleWithWebIdentity(roleArn: string, token: string): Promise<WebIdentityOutcome>;
}
