import { requiredEnv } from '../required-env';
import type { AccessCheckTarget } from './access-check-container';

/** What the gate needs to know, from the environment the stack sets. */
export interface GateSettings {
  readonly allowedNamespaces: readonly string[];
  /** Managed buckets and the prefix to probe in each (ending in `/`). */
  readonly buckets: readonly AccessCheckTarget[];
  /** The seeds serving each cluster, for the hint event. */
  readonly clusterSeeds: Readonly<Record<string, readonly string[]>>;
  /**
   * The namespaces whose ServiceAccounts may use each seed (config
   * `seeds[].namespaces`): a Job whose ServiceAccount names a seed that does
   * not serve its namespace is not held, since the reconciler refuses it.
   * A seed missing here is served in every allowed namespace (a stack
   * deployed before per-seed namespaces).
   */
  readonly seedNamespaces: Readonly<Record<string, readonly string[]>>;
  /** The Secrets Manager secret holding each cluster's webhook token (ARN or name). */
  readonly clusterTokenSecrets: Readonly<Record<string, string>>;
  readonly accessCheckImage: string;
  readonly accessCheckAttempts: number;
  readonly accessCheckDelaySeconds: number;
  /** Answer without holding any Job; log and hint only (docs/migration.md). */
  readonly observeOnly: boolean;
  /** Clusters a pod-identity seed serves (docs/pod-identity.md): their session Jobs wait for an association. */
  readonly podIdentityClusters: readonly string[];
}

/**
 * Reads the settings; a malformed value is a deployment error and fails the
 * cold start loudly rather than gating Jobs with a half-read configuration.
 * Formats: ALLOWED_NAMESPACES "a b", BUCKETS "bucket=prefix/ ...",
 * CLUSTER_SEEDS "cluster=seedA,seedB;cluster2=seedC", SEED_NAMESPACES
 * "seedA=ns1 ns2;seedB=ns3" (optional),
 * CLUSTER_TOKEN_SECRETS "cluster=secretArn;cluster2=secretArn",
 * POD_IDENTITY_CLUSTERS "a b" (optional; none when unset).
 */
export function readGateSettings(env: Readonly<Record<string, string | undefined>>): GateSettings {
  const get = (name: string): string => requiredEnv(name, env);
  const words = (value: string) => value.split(/[\s,]+/).filter((w) => w !== '');
  const buckets = words(get('BUCKETS')).map((entry) => {
    const at = entry.indexOf('=');
    if (at <= 0) throw new Error(`BUCKETS: "${entry}" is not bucket=prefix/`);
    return { bucket: entry.slice(0, at), prefix: entry.slice(at + 1) };
  });
  const clusterSeeds: Record<string, string[]> = {};
  for (const entry of get('CLUSTER_SEEDS')
    .split(';')
    .filter((e) => e !== '')) {
    const [cluster, seeds] = entry.split('=');
    if (cluster === undefined || seeds === undefined || cluster === '') {
      throw new Error(`CLUSTER_SEEDS: "${entry}" is not cluster=seed,seed`);
    }
    clusterSeeds[cluster] = words(seeds);
  }
  const seedNamespaces: Record<string, string[]> = {};
  for (const entry of (env.SEED_NAMESPACES ?? '').split(';').filter((e) => e !== '')) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new Error(`SEED_NAMESPACES: "${entry}" is not seed=namespace namespace`);
    seedNamespaces[entry.slice(0, at)] = words(entry.slice(at + 1));
  }
  const clusterTokenSecrets: Record<string, string> = {};
  for (const entry of get('CLUSTER_TOKEN_SECRETS')
    .split(';')
    .filter((e) => e !== '')) {
    const at = entry.indexOf('=');
    if (at <= 0 || at === entry.length - 1) {
      throw new Error(`CLUSTER_TOKEN_SECRETS: "${entry}" is not cluster=secretArn`);
    }
    clusterTokenSecrets[entry.slice(0, at)] = entry.slice(at + 1);
  }
  const unguarded = Object.keys(clusterSeeds).filter((c) => !(c in clusterTokenSecrets));
  if (unguarded.length > 0) {
    throw new Error(
      `CLUSTER_TOKEN_SECRETS names no token secret for ${unguarded.join(', ')}; the stack sets both: redeploy it`,
    );
  }
  const positive = (name: string, max: number): number => {
    const text = get(name);
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new Error(`${name}: "${text}" is not a whole number from 1 to ${max}`);
    }
    return n;
  };
  return {
    allowedNamespaces: words(get('ALLOWED_NAMESPACES')),
    buckets,
    clusterSeeds,
    seedNamespaces,
    clusterTokenSecrets,
    accessCheckImage: get('ACCESS_CHECK_IMAGE'),
    accessCheckAttempts: positive('ACCESS_CHECK_ATTEMPTS', 100),
    accessCheckDelaySeconds: positive('ACCESS_CHECK_DELAY_SECONDS', 300),
    observeOnly: flag('GATE_OBSERVE_ONLY', env),
    podIdentityClusters: words(env.POD_IDENTITY_CLUSTERS ?? ''),
  };
}

/** `true` or `false`; unset is `false`, so a stack deployed before the setting existed keeps gating. */
function flag(name: string, env: Readonly<Record<string, string | undefined>>): boolean {
  const text = env[name];
  if (text === undefined || text === 'false') return false;
  if (text === 'true') return true;
  throw new Error(`${name}: "${text}" is not true or false`);
}
