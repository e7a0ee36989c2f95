import type { GateTokenPort } from '../ports/gate-token-port';
import { tokenDigests } from './gate-auth';
import type { TokenDigests } from './gate-auth';

const RETRY_MS = 5_000;

/** What a refresh found wrong, for the handler to log. */
export interface TokenCacheProblem {
  readonly message: string;
  readonly clusters?: readonly string[];
}

export interface GateTokenCacheOptions {
  /** Where the tokens are kept. */
  readonly store: GateTokenPort;
  /** The secret of each cluster (cluster name → secret ARN or name). */
  readonly secrets: Readonly<Record<string, string>>;
  /** How long a read stays good: after a rotation the new token is accepted within this. */
  readonly ttlMs: number;
  readonly now: () => number;
  readonly onProblem: (problem: TokenCacheProblem) => void;
}

/**
 * The gate's tokens, re-read once per TTL whatever the requests say: a refresh
 * is never triggered by a wrong token, so a forged request neither costs a
 * Secrets Manager call nor takes longer than a right one. A failed refresh
 * keeps the last good tokens; with none ever read every request is refused
 * (fail closed: the webhook's failurePolicy then decides, and the reconciler's
 * resync still grants roles).
 */
export class GateTokenCache {
  private digests: TokenDigests = new Map();
  private readAt: number | undefined;
  private failedAt: number | undefined;

  constructor(private readonly options: GateTokenCacheOptions) {}

  async current(): Promise<TokenDigests> {
    const now = this.options.now();
    if (this.readAt !== undefined && now - this.readAt < this.options.ttlMs) return this.digests;
    // While the store fails, try again at most every RETRY_MS rather than on every request.
    if (this.failedAt !== undefined && now - this.failedAt < RETRY_MS) return this.digests;
    try {
      const { digests, rejected } = tokenDigests(await this.load());
      this.digests = digests;
      this.readAt = now;
      this.failedAt = undefined;
      if (rejected.length > 0) {
        this.options.onProblem({
          message:
            'a gate token is shorter than 32 characters and is not accepted; rotate it with a generated value (docs/security.md)',
          clusters: rejected,
        });
      }
    } catch (error) {
      this.failedAt = now;
      this.options.onProblem({
        message: `cannot read the gate tokens (${(error as Error).message}); ${this.readAt === undefined ? 'refusing every request until they can be read' : 'keeping the tokens read before'}`,
      });
    }
    return this.digests;
  }

  /** Every cluster's tokens, all or nothing: one unreadable secret keeps the last good set. */
  private async load(): Promise<ReadonlyMap<string, readonly string[]>> {
    const { store, secrets } = this.options;
    return new Map(
      await Promise.all(
        Object.entries(secrets).map(
          async ([cluster, secret]) => [cluster, await store.tokensOf(secret)] as const,
        ),
      ),
    );
  }
}
