/**
 * Where the job gate reads the per-cluster tokens its webhook URL must carry.
 * A token store keeps the value in use and the one it replaced, so a rotation
 * never refuses the API server while its webhook still names the old token.
 */
export interface GateTokenPort {
  /**
   * The accepted tokens of one secret: the current value first, then the
   * previous one if the secret has been rotated. Throws when the secret cannot
   * be read at all (missing, no permission, throttled).
   */
  tokensOf(secretId: string): Promise<readonly string[]>;
}
