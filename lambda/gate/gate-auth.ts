import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Who may drive the job gate: only a caller whose URL path carries its
 * cluster's token, `/clusters/<cluster>/<token>`. Kubernetes lets a webhook
 * URL have a path but no query, so the token lives in the path.
 * Source: https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#url
 */

/** Tokens shorter than this are refused even if the store holds them: they could be guessed. */
export const MIN_TOKEN_LENGTH = 32;

/** Each cluster is checked against exactly this many slots (current and previous token). */
const SLOTS = 2;

const CLUSTER_AND_TOKEN = /^\/clusters\/([A-Za-z0-9][A-Za-z0-9_-]{0,99})\/([^/]{1,512})\/?$/;

/** The accepted tokens of each cluster, as SHA-256 digests in exactly {@link SLOTS} slots. */
export type TokenDigests = ReadonlyMap<string, readonly Buffer[]>;

// Compared against when a cluster is unknown or has fewer tokens than slots:
// random per cold start, so no presented token can match them.
const DUMMY: readonly Buffer[] = Array.from({ length: SLOTS }, () => digest(randomBytes(32)));

function digest(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Digests of each cluster's tokens, padded to {@link SLOTS}. Tokens shorter
 * than {@link MIN_TOKEN_LENGTH} are dropped and reported, not accepted.
 */
export function tokenDigests(tokens: ReadonlyMap<string, readonly string[]>): {
  readonly digests: TokenDigests;
  readonly rejected: readonly string[];
} {
  const digests = new Map<string, Buffer[]>();
  const rejected: string[] = [];
  for (const [cluster, values] of tokens) {
    const usable = values.filter((t) => t.length >= MIN_TOKEN_LENGTH).slice(0, SLOTS);
    if (usable.length < values.slice(0, SLOTS).length) rejected.push(cluster);
    digests.set(cluster, [...usable.map((t) => digest(t)), ...DUMMY.slice(usable.length, SLOTS)]);
  }
  return { digests, rejected };
}

/**
 * The cluster a request path authenticates, or undefined. Every path does the
 * same work: a well-formed path with an unknown cluster, a missing token or a
 * garbage path is still hashed and compared against {@link SLOTS} digests in
 * constant time (`crypto.timingSafeEqual`), so timing says nothing about
 * which clusters exist or how much of a token was right.
 */
export function authenticatedCluster(path: string, digests: TokenDigests): string | undefined {
  const match = CLUSTER_AND_TOKEN.exec(path);
  const cluster = match?.[1];
  const presented = digest(match?.[2] ?? path);
  const expected = (cluster === undefined ? undefined : digests.get(cluster)) ?? DUMMY;
  let accepted = false;
  for (const slot of expected) {
    // Non-short-circuiting: every slot is compared whatever the earlier ones said.
    accepted = timingSafeEqual(presented, slot) || accepted;
  }
  return accepted && match !== null ? cluster : undefined;
}
