/**
 * How IAM measures a trust policy against `AssumeRolePolicySizeQuota`: the
 * number of characters that are not whitespace.
 */
export function policySize(document: string): number {
  let count = 0;
  for (let i = 0; i < document.length; i++) {
    const c = document.charCodeAt(i);
    // JSON whitespace; subjects and ARNs never contain other whitespace.
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) count++;
  }
  return count;
}

/** IAM's default quota when GetAccountSummary does not say (raisable to 4096, and 8192 in newer reports). */
export const DEFAULT_TRUST_POLICY_QUOTA = 2048;

/**
 * How full a trust policy is, in percent of the quota (both in characters as
 * {@link policySize} counts them), rounded down to one decimal so a role one
 * character short of the quota never shows 100.
 */
export function policyFill(size: number, quota: number): number {
  if (!(quota > 0)) throw new Error(`policyFill: the quota must be positive, got ${quota}`);
  return Math.floor((size * 1000) / quota) / 10;
}
