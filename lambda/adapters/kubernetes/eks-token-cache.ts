import type { BearerTokenSource } from './bearer-token-source';
import { eksToken } from './eks-token';
import type { AwsCredentialsProvider } from './eks-token';

export interface EksTokenCacheOptions {
  readonly clusterName: string;
  readonly region: string;
  /** The Lambda's role in production, e.g. an SDK client's `config.credentials`. */
  readonly credentials: AwsCredentialsProvider;
  readonly now?: () => Date;
  /** EKS accepts a token for 15 minutes; handing it out for 10 leaves room for slow calls and clock skew. */
  readonly maxAgeMs?: number;
}

const DEFAULT_MAX_AGE_MS = 10 * 60 * 1000;
/** A token signed with credentials that expire sooner than this is not handed out again. */
const CREDENTIAL_EXPIRY_MARGIN_MS = 60 * 1000;

interface CachedToken {
  readonly token: string;
  readonly refreshAtMs: number;
}

/**
 * Hands out the same EKS token until it is `maxAgeMs` old or the credentials
 * that signed it are about to expire, then signs a new one. Concurrent callers
 * share one signing.
 */
export class EksTokenCache implements BearerTokenSource {
  private readonly now: () => Date;
  private readonly maxAgeMs: number;
  private cached?: CachedToken;
  private pending?: Promise<CachedToken>;

  constructor(private readonly options: EksTokenCacheOptions) {
    this.now = options.now ?? (() => new Date());
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  }

  async token(): Promise<string> {
    if (this.cached !== undefined && this.now().getTime() < this.cached.refreshAtMs) {
      return this.cached.token;
    }
    this.pending ??= this.sign().finally(() => {
      this.pending = undefined;
    });
    const fresh = await this.pending;
    this.cached = fresh;
    return fresh.token;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async sign(): Promise<CachedToken> {
    const credentials = await this.options.credentials();
    const signingDate = this.now();
    const token = await eksToken({
      clusterName: this.options.clusterName,
      region: this.options.region,
      credentials,
      signingDate,
    });
    const byAge = signingDate.getTime() + this.maxAgeMs;
    const byCredentials =
      credentials.expiration === undefined
        ? byAge
        : credentials.expiration.getTime() - CREDENTIAL_EXPIRY_MARGIN_MS;
    return { token, refreshAtMs: Math.min(byAge, byCredentials) };
  }
}
