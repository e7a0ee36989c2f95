import { CONNECT_TIMEOUT_CODE } from './kubernetes-transport';

export interface RetryPolicy {
  /** Attempts per call, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /**
   * The longest `Retry-After` the client waits out. A server asking for longer
   * is answered with a KubernetesUnavailableError at once, leaving the retry to
   * the next reconciler run instead of spending the Lambda's time sleeping.
   */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 3000,
  maxRetryAfterMs: 10000,
};

/** HTTP statuses worth another attempt: throttling (API Priority and Fairness) and server-side failures. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/** Node.js error codes of transient network failures. TLS verification failures are not among them. */
export const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * Codes of a connection that never came up. They are retried fewer times than
 * other failures, and a client that gives up on them treats its cluster as
 * unreachable for a while, so one cluster out of reach does not use up the
 * Lambda's time that the other clusters of a seed need.
 */
export const CONNECT_FAILURE_CODES: ReadonlySet<string> = new Set([
  CONNECT_TIMEOUT_CODE,
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Exponential backoff with full jitter before attempt `attempt + 1`
 * (`attempt` counts from 1), so retrying Lambdas do not hit the API server in step.
 */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` in milliseconds, from delay-seconds or an HTTP-date; undefined
 * when absent or unreadable.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
