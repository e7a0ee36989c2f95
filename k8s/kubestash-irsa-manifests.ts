import type { App, Chart } from 'cdk8s';
import type { ProjectConfig } from '../lib/config/project-config';
import { ConfigError } from '../lib/config/config-error';
import { configSourceOf } from '../lib/config/load-config';
import { joinKeyPrefix } from '../lib/config/key-prefix';
import { dumpRoleName, dumpSubPrefix } from '../lib/config/database-dump-config';
import { roleArn } from '../lambda/domain/iam-names';
import { BackupsChart } from './charts/backups-chart';
import { DatabaseDumpChart } from './charts/database-dump-chart';
import { DemoWorkloadChart } from './charts/demo-workload-chart';
import { JobGateChart } from './charts/job-gate-chart';
import { JobGateRbacChart } from './charts/job-gate-rbac-chart';
import { KubestashStorageChart } from './charts/kubestash-storage-chart';
import { NamespacesChart } from './charts/namespaces-chart';
import { ReconcilerRbacChart } from './charts/reconciler-rbac-chart';
import { namespacesUsed } from './namespace-prerequisites';
import { resolveManifestContext } from './manifest-context';
import type { ManifestContext } from './manifest-context';
import { operatorHelmValues } from './operator-helm-values';
import { jobGateTokenOutput } from './stack-outputs';
import type { StackOutputs } from './stack-outputs';

/** Labels on every object, so `kubectl get -l app.kubernetes.io/part-of=kubestash-irsa` finds them all. */
export const PART_OF_LABELS = { 'app.kubernetes.io/part-of': 'kubestash-irsa' };

export interface ManifestsOptions {
  readonly config: ProjectConfig;
  /** Where `encryptionSecret.fromEnvironment` is read. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Told about choices that weaken the defaults. @default console.warn */
  readonly warn?: (message: string) => void;
  /**
   * The deployed stack's outputs (`cdk deploy --outputs-file`). Without them
   * the job gate chart is left out, and `skipped` says so: it cannot be
   * applied before the stack exists anyway.
   */
  readonly outputs?: StackOutputs;
}

export interface Manifests {
  readonly context: ManifestContext;
  /** In the order `kubectl apply -f dist/` applies them. */
  readonly charts: readonly Chart[];
  /** Helm values that annotate the KubeStash operator's ServiceAccount. */
  readonly operatorHelmValues: string;
  /** Charts left out, and why. */
  readonly skipped: readonly string[];
  /** Every namespace the charts put objects in, which must exist before they are applied. */
  readonly namespaces: readonly string[];
}

/**
 * Every chart the config calls for, each depending on the one before so cdk8s
 * numbers the files in apply order (namespaces first, storage before the
 * backups that use it). A chart with nothing in it is not created: kubectl
 * refuses an empty file, and that would stop `kubectl apply -f dist/`.
 */
export function buildManifests(app: App, options: ManifestsOptions): Manifests {
  const { config } = options;
  const context = resolveManifestContext(config);
  const k = config.kubernetes;
  const charts: Chart[] = [];
  const add = <T extends Chart>(chart: T): T => {
    const previous = charts[charts.length - 1];
    if (previous !== undefined) chart.addDependency(previous);
    charts.push(chart);
    return chart;
  };
  const labels = PART_OF_LABELS;
  const dumps = config.databaseDumps.filter(
    (d) => (d.cluster ?? context.cluster.name) === context.cluster.name,
  );

  const owned = [
    ...dumps.map((d) => d.namespace),
    ...(k.demoWorkload.enabled ? [k.demoWorkload.namespace] : []),
  ];
  if (owned.length > 0) add(new NamespacesChart(app, 'namespaces', { labels, namespaces: owned }));

  add(
    new ReconcilerRbacChart(app, 'reconciler-rbac', {
      labels,
      group: k.reconcilerGroup,
      namespaces: config.allowedNamespaces,
    }),
  );
  const storage = add(
    new KubestashStorageChart(app, 'kubestash-storage', {
      labels,
      context,
      resticPassword: resticPassword(config, options),
    }),
  );
  if (k.backups.length > 0 || k.restores.length > 0) {
    add(new BackupsChart(app, 'backups', { labels, context, storage }));
  }
  for (const dump of dumps) {
    add(
      new DatabaseDumpChart(app, `database-dump-${dump.name}`, {
        labels,
        dump,
        roleArn: roleArn(
          context.partition,
          config.account,
          '/',
          dumpRoleName(config.stackName, dump),
        ),
        bucket: config.bucket.name,
        keyPrefix: joinKeyPrefix(config.bucket.prefix, dumpSubPrefix(dump)),
        region: config.region,
      }),
    );
  }
  if (k.demoWorkload.enabled) {
    add(
      new DemoWorkloadChart(app, 'demo-workload', {
        labels,
        name: k.demoWorkload.name,
        namespace: k.demoWorkload.namespace,
      }),
    );
  }

  const skipped: string[] = [];
  if (config.jobGate.enabled) {
    add(
      new JobGateRbacChart(app, 'job-gate-rbac', {
        labels,
        group: k.gateGroup,
        namespaces: config.allowedNamespaces,
      }),
    );
    if (options.outputs === undefined) {
      skipped.push(
        'job-gate: its URL exists only once the stack is deployed; run `npx cdk deploy --outputs-file outputs.json`, then synthesize again',
      );
    } else {
      add(
        new JobGateChart(app, 'job-gate', {
          labels,
          gateUrl: options.outputs.require('JobGateUrl', 'the job gate webhook URL'),
          cluster: context.cluster.name,
          tokenSecretArn: options.outputs.require(
            jobGateTokenOutput(context.cluster.name),
            `the secret holding the job gate token of cluster ${context.cluster.name}`,
          ),
          namespaces: config.allowedNamespaces,
          failurePolicy: config.jobGate.failurePolicy,
          timeoutSeconds: config.jobGate.timeoutSeconds,
        }),
      );
    }
  }

  return {
    context,
    charts,
    skipped,
    namespaces: namespacesUsed(charts),
    operatorHelmValues: operatorHelmValues({
      seedRoleArn: context.seedRoleArn,
      namespace: context.seed.operator.namespace,
      serviceAccount: context.seed.operator.serviceAccount,
    }),
  };
}

function resticPassword(config: ProjectConfig, options: ManifestsOptions): string | undefined {
  const variable = config.kubernetes.encryptionSecret.fromEnvironment;
  if (variable === undefined) return undefined;
  const value = (options.env ?? process.env)[variable];
  if (value === undefined || value === '') {
    throw new ConfigError(
      [
        `config.kubernetes.encryptionSecret.fromEnvironment: got "${variable}", but that environment variable is empty; export it, or remove fromEnvironment and create the Secret with kubectl create secret generic ${config.kubernetes.encryptionSecret.name} --from-file=RESTIC_PASSWORD`,
      ],
      configSourceOf(config),
    );
  }
  (options.warn ?? console.warn)(
    `warning: the restic password from $${variable} is written into the manifests (Secret ${config.kubernetes.encryptionSecret.name}); keep dist/ out of version control, or remove encryptionSecret.fromEnvironment and create the Secret with kubectl`,
  );
  return value;
}
