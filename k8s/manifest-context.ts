import { ConfigError } from '../lib/config/config-error';
import { configSourceOf } from '../lib/config/load-config';
import { partitionOfRegion } from '../lib/config/aws-partition';
import { joinKeyPrefix } from '../lib/config/key-prefix';
import { namespacesOfSeed, seedsOfCluster } from '../lib/config/project-config';
import type { ClusterConfig, ProjectConfig, SeedConfig } from '../lib/config/project-config';
import { roleArn } from '../lambda/domain/iam-names';

/**
 * What the manifests need to know that the config implies: the cluster they
 * are for, the seed the KubeStash operator carries and its ARN, and where in
 * the bucket this cluster's repositories live. All of it is known before
 * `cdk deploy`, because the stack names these resources from the same config.
 */
export interface ManifestContext {
  readonly config: ProjectConfig;
  readonly cluster: ClusterConfig;
  readonly seed: SeedConfig;
  readonly seedRoleArn: string;
  readonly partition: string;
  /** Namespace of the BackupStorage (and, by default, the retention policy and encryption secret). */
  readonly storageNamespace: string;
  /** The BackupStorage prefix: the bucket prefix and this cluster's folder under it. */
  readonly storagePrefix: string;
  readonly s3Endpoint: string;
}

export function resolveManifestContext(config: ProjectConfig): ManifestContext {
  const cluster = pickCluster(config);
  const seed = pickSeed(config, cluster);
  const partition = partitionOf(config.region);
  const subPrefix = config.kubernetes.storage.subPrefix ?? cluster.name.toLowerCase();
  const storageNamespace = config.kubernetes.storage.namespace ?? config.allowedNamespaces[0];
  const problems = [
    ...usagePolicyProblems(config, storageNamespace),
    ...seedNamespaceProblems(config, seed),
  ];
  if (problems.length > 0) throw new ConfigError(problems, configSourceOf(config));
  return {
    config,
    cluster,
    seed,
    partition,
    seedRoleArn: roleArn(partition, config.account, '/', seed.name),
    storageNamespace,
    storagePrefix: joinKeyPrefix(config.bucket.prefix, subPrefix),
    s3Endpoint: `https://s3.${config.region}.${config.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`,
  };
}

/**
 * KubeStash lets a BackupConfiguration use a BackupStorage or RetentionPolicy
 * only from the namespaces its `usagePolicy` allows. With `usableFrom: "Same"`
 * that is the object's own namespace, so a backup elsewhere would be refused
 * by KubeStash in the cluster; it is refused here instead. ("AllowedNamespaces"
 * needs no check: project-config already keeps every backup in allowedNamespaces.)
 */
function usagePolicyProblems(config: ProjectConfig, storageNamespace: string): string[] {
  const k = config.kubernetes;
  const objects = [
    {
      field: 'storage',
      kind: 'BackupStorage',
      usableFrom: k.storage.usableFrom,
      namespace: storageNamespace,
    },
    {
      field: 'retention',
      kind: 'RetentionPolicy',
      usableFrom: k.retention.usableFrom,
      namespace: k.retention.namespace ?? storageNamespace,
    },
  ];
  return objects.flatMap((o) => {
    if (o.usableFrom !== 'Same') return [];
    const elsewhere = k.backups.filter((b) => b.namespace !== o.namespace);
    if (elsewhere.length === 0) return [];
    return [
      `config.kubernetes.${o.field}.usableFrom: got "Same": the ${o.kind} is in namespace ${o.namespace}, so KubeStash refuses the backups in other namespaces (${elsewhere.map((b) => `${b.namespace}/${b.name}`).join(', ')}); use "AllowedNamespaces", or move the ${o.kind} (config.kubernetes.${o.field}.namespace) or the backups`,
    ];
  });
}

/**
 * KubeStash copies the operator ServiceAccount's role into every session
 * ServiceAccount's `go.klusters.dev/seed-role-name`
 * (kubestash/apimachinery `pkg/cloud/annotations.go`), so every backup these
 * manifests declare names the operator's seed. A backup in a namespace that
 * seed does not serve would be refused a role (NamespaceNotAllowed) on every run.
 */
function seedNamespaceProblems(config: ProjectConfig, seed: SeedConfig): string[] {
  const served = namespacesOfSeed(config, seed);
  const index = config.seeds.indexOf(seed);
  return config.kubernetes.backups.flatMap((b, i) =>
    served.includes(b.namespace)
      ? []
      : [
          `config.kubernetes.backups.${i}.namespace: got "${b.namespace}": its sessions name the KubeStash operator's seed ${seed.name}, which serves only ${served.join(', ')}; add "${b.namespace}" to config.seeds.${index}.namespaces or move the backup`,
        ],
  );
}

function pickCluster(config: ProjectConfig): ClusterConfig {
  const wanted = config.kubernetes.cluster;
  if (wanted === undefined) {
    if (config.clusters.length === 1) return config.clusters[0];
    throw new ConfigError(
      [
        `config.kubernetes.cluster: got nothing, and ${config.clusters.length} clusters are configured; set it to the cluster these manifests are for (${config.clusters.map((c) => c.name).join(', ')}), in cdk.json (or the file KUBESTASH_IRSA_CONFIG_FILE names); synthesize once per cluster`,
      ],
      configSourceOf(config),
    );
  }
  const found = config.clusters.find((c) => c.name === wanted);
  // project-config has already refused unknown names; this keeps the types honest.
  if (found === undefined)
    throw new ConfigError(
      [`config.kubernetes.cluster: got "${wanted}": no such cluster`],
      configSourceOf(config),
    );
  return found;
}

function pickSeed(config: ProjectConfig, cluster: ClusterConfig): SeedConfig {
  const serving = seedsOfCluster(config, cluster.name);
  const wanted = config.kubernetes.seed;
  if (wanted !== undefined) {
    const found = serving.find((s) => s.name === wanted);
    if (found === undefined) {
      throw new ConfigError(
        [
          `config.kubernetes.seed: got "${wanted}": it does not serve cluster ${cluster.name}; add the cluster to its clusters or choose one of ${serving.map((s) => s.name).join(', ') || 'no seed (none serves this cluster)'}`,
        ],
        configSourceOf(config),
      );
    }
    return found;
  }
  if (serving.length === 1) return serving[0];
  throw new ConfigError(
    [
      serving.length === 0
        ? `config.kubernetes.cluster: got "${cluster.name}": no seed serves cluster ${cluster.name}; add it to a seed's clusters`
        : `config.kubernetes.seed: got nothing, and ${serving.length} seeds serve cluster ${cluster.name}; the KubeStash operator has one ServiceAccount, so choose one of ${serving.map((s) => s.name).join(', ')}`,
    ],
    configSourceOf(config),
  );
}

/** The AWS partition of a region, for ARNs written before deploy. */
export const partitionOf = partitionOfRegion;
