import { CfnCondition, CfnOutput, CfnParameter, Duration, Fn, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { BackupBucket } from './backup-bucket';
import { BucketAccessPolicy } from './bucket-access-policy';
import { ClusterOidcProvider } from './cluster-oidc-provider';
import { ConfigError } from './config/config-error';
import { dumpRoleName, dumpServiceAccountName, dumpSubPrefix } from './config/database-dump-config';
import {
  alphanumeric,
  clustersOfSeed,
  namespacesOfSeed,
  podIdentitySeeds,
  roleCreationLimitCeiling,
  seedsOfCluster,
} from './config/project-config';
import type { ProjectConfig, SeedConfig } from './config/project-config';
import { jobGateTokenOutput } from '../k8s/stack-outputs';
import { apisCalledFromVpc } from './config/network-config';
import type { CalledApi } from './config/network-config';
import { DatabaseDumpRole } from './database-dump-role';
import { DerivedRoleBoundary } from './derived-role-boundary';
import { DerivedRoleCleanup } from './derived-role-cleanup';
import { FunctionNetwork } from './function-network';
import { JobGate } from './job-gate';
import { OperationsDashboard } from './operations-dashboard';
import { Reconciler } from './reconciler';
import { ReconcilerRole } from './reconciler-role';
import { SeedRole } from './seed-role';

export interface KubestashIrsaStackProps extends StackProps {
  /** The validated project configuration (see lib/config). */
  readonly config: ProjectConfig;
  /**
   * Make every site value of the one-cluster, one-seed case a labelled,
   * grouped console parameter (cluster name, OIDC issuer, new or existing
   * bucket, prefix) besides the namespaces, operator ServiceAccount and role
   * limit that are parameters anyway, each defaulting to the config's value:
   * the template `npm run package` publishes for the CloudFormation console.
   * Construct IDs and output names still derive from the config's names.
   * @default false
   * @throws ConfigError when the config has more than one cluster or seed,
   *   imports its OIDC provider (oidcProviderArn), has no bucket prefix, or
   *   wants a new KMS key
   */
  readonly siteParameters?: boolean;
}

/** The site values a console user types in a packaged template (tokens of its parameters). */
interface SiteParameters {
  readonly clusterName: string;
  readonly oidcIssuerUrl: string;
  readonly bucketName: string;
  readonly bucketPrefix: string;
  /** True when BucketMode is "new": the stack creates the bucket. */
  readonly createBucket: CfnCondition;
}

interface LabelledParameter {
  readonly parameter: CfnParameter;
  readonly label: string;
}

/**
 * Everything a platform engineer otherwise creates by hand for credential-less
 * KubeStash backups (seed 000 sections 1-3, seed 003): the bucket, its access
 * policies, the clusters' OIDC providers, the seed roles with their boundary,
 * and the reconciler's least-privilege role.
 */
export class KubestashIrsaStack extends Stack {
  readonly backupBucket: BackupBucket;
  readonly oidcProviders: readonly ClusterOidcProvider[];
  readonly seedRoles: readonly SeedRole[];
  readonly reconcilerRole: ReconcilerRole;
  readonly cleanup: DerivedRoleCleanup;
  readonly reconciler: Reconciler;
  /** Undefined when `jobGate.enabled` is false. */
  readonly jobGate?: JobGate;
  /** One per `databaseDumps` entry of the config. */
  readonly databaseDumps: readonly DatabaseDumpRole[];
  /** The `eks-pod-identity-agent` add-ons, one per cluster with `podIdentity.installAgent`. */
  readonly podIdentityAgents: readonly eks.CfnAddon[];
  /** Where the reconciler and gate run; undefined when the config has no `network`. */
  readonly network?: FunctionNetwork;
  /** The CloudWatch dashboard `<stack name>-operations`. */
  readonly dashboard: OperationsDashboard;

  /** Console parameter groups, in the order the console shows them. */
  private readonly parameterGroups = new Map<string, LabelledParameter[]>();

  constructor(scope: Construct, id: string, props: KubestashIrsaStackProps) {
    super(scope, id, {
      description:
        'Credential-less KubeStash backups on EKS: bucket, seed roles and reconciler role (kubestash-irsa)',
      ...props,
    });
    const { config } = props;
    const site = props.siteParameters === true ? this.createSiteParameters(config) : undefined;
    // Construct IDs derive from the config's cluster names; the template says the parameter's value.
    const clusterNameValues: Record<string, string> | undefined =
      site === undefined ? undefined : { [config.clusters[0].name]: site.clusterName };
    const nameOf = (cluster: string) => clusterNameValues?.[cluster] ?? cluster;

    this.backupBucket = new BackupBucket(this, 'Backups', {
      bucketName: site?.bucketName ?? config.bucket.name,
      existing: site === undefined ? config.bucket.existing : false,
      createCondition: site?.createBucket,
      prefix: site?.bucketPrefix ?? config.bucket.prefix,
      encryption: config.bucket.encryption,
      encryptionKey:
        config.bucket.kmsKeyArn === undefined
          ? undefined
          : kms.Key.fromKeyArn(this, 'BucketKey', config.bucket.kmsKeyArn),
      accessLogging: config.bucket.accessLogging,
      accessCheckExpiration: Duration.days(config.bucket.accessCheckExpirationDays),
    });

    this.oidcProviders = config.clusters.map(
      (cluster) =>
        new ClusterOidcProvider(this, `Oidc${alphanumeric(cluster.name)}`, {
          clusterName: cluster.name,
          issuerUrl: site?.oidcIssuerUrl ?? cluster.oidcIssuerUrl,
          providerArn: cluster.oidcProviderArn,
        }),
    );

    const seedNamespaces = config.seeds.map((seed) => this.seedNamespaces(config, seed));
    this.seedRoles = config.seeds.map((seed, i) =>
      this.createSeed(config, seed, seedNamespaces[i]),
    );
    // Every seed's namespaces: where the gate holds Jobs and the reconciler reads ServiceAccounts.
    const allNamespaces = Fn.join(' ', seedNamespaces);
    this.podIdentityAgents = config.clusters
      .filter((c) => c.podIdentity.installAgent)
      .map(
        (c) =>
          // The node agent that serves Pod Identity credentials; EKS Auto Mode has it built in.
          // https://docs.aws.amazon.com/eks/latest/userguide/pod-id-agent-setup.html
          new eks.CfnAddon(this, `PodIdentityAgent${alphanumeric(c.name)}`, {
            clusterName: c.name,
            addonName: 'eks-pod-identity-agent',
          }),
      );

    // `cdk destroy` removes the derived roles too; the bucket and its backups stay.
    this.cleanup = new DerivedRoleCleanup(this, 'DerivedRoleCleanup', { seeds: this.seedRoles });

    this.reconcilerRole = new ReconcilerRole(this, 'Reconciler', {
      seeds: this.seedRoles,
      clusterNames: config.clusters.map((c) => nameOf(c.name)),
    });

    this.network = this.createNetwork(config);

    const providerOf = (name: string) => {
      const found = this.oidcProviders.find((p) => p.clusterName === name);
      if (found === undefined) throw new Error(`no OIDC provider for cluster ${name}`);
      return found;
    };
    this.reconciler = new Reconciler(this, 'ReconcilerService', {
      role: this.reconcilerRole,
      seeds: config.seeds.map((seed, i) => ({
        seed: this.seedRoles[i],
        conditionOperator: seed.subjectMatch,
        ...(seed.mode === 'pod-identity'
          ? {
              podIdentity: {
                settleSeconds: seed.associationSettleSeconds,
                associationQuotas: Object.fromEntries(
                  clustersOfSeed(config, seed).map((c) => [c.name, c.podIdentity.associationQuota]),
                ),
              },
            }
          : {}),
        clusters: clustersOfSeed(config, seed).map((c) => ({
          name: nameOf(c.name),
          providerArn: providerOf(c.name).provider.openIdConnectProviderArn,
          issuer: providerOf(c.name).issuer,
        })),
      })),
      clusterNames: config.clusters.map((c) => c.name),
      clusterNameValues,
      auditLogClusters: config.clusters.filter((c) => c.auditLogs).map((c) => c.name),
      kubernetesGroup: config.kubernetes.reconcilerGroup,
      watchedNamespaces: allNamespaces,
      gate: config.jobGate.enabled
        ? {
            stuckAfter: Duration.minutes(config.jobGate.stuckAfterMinutes),
            proofAttempts: config.jobGate.proveAccess ? config.jobGate.proofAttempts : 0,
            proofDelay: Duration.seconds(config.jobGate.proofDelaySeconds),
          }
        : undefined,
      network: this.network,
    });
    // On stack deletion the reconciler goes first, so it cannot re-create roles the cleanup removes.
    this.reconciler.function.node.addDependency(this.cleanup.resource);

    if (config.jobGate.enabled) {
      const gate = config.jobGate;
      this.jobGate = new JobGate(this, 'JobGate', {
        eventBus: this.reconciler.queue.eventBus,
        allowedNamespaces: allNamespaces,
        seedNamespaces: Object.fromEntries(config.seeds.map((s, i) => [s.name, seedNamespaces[i]])),
        buckets: [
          {
            bucket: this.backupBucket.bucket.bucketName,
            prefix: this.backupBucket.accessCheckPrefix,
          },
        ],
        clusterSeeds: Object.fromEntries(
          config.clusters
            .map((c) => [c.name, seedsOfCluster(config, c.name).map((s) => s.name)])
            .filter(([, seeds]) => seeds.length > 0),
        ),
        clusterNameValues,
        podIdentityClusters: podIdentitySeeds(config).flatMap((seed) =>
          clustersOfSeed(config, seed).map((c) => c.name),
        ),
        accessCheckImage: gate.accessCheckImage,
        accessCheckAttempts: gate.accessCheckAttempts,
        accessCheckDelay: Duration.seconds(gate.accessCheckDelaySeconds),
        observeOnly: gate.observeOnly,
        reservedConcurrency: gate.reservedConcurrency,
        kubernetesGroup: config.kubernetes.gateGroup,
        network: this.network,
      });
      this.output(
        'JobGateUrl',
        this.jobGate.url.url,
        'Job gate URL: cdk8s synth reads it from cdk deploy --outputs-file for the MutatingWebhookConfiguration',
      );
      for (const [cluster, secret] of Object.entries(this.jobGate.tokenSecrets)) {
        this.output(
          jobGateTokenOutput(cluster),
          secret.secretArn,
          `Secret holding the token the job gate webhook URL of ${cluster} ends in (kubectl apply step in docs/security.md)`,
        );
      }
    }

    this.dashboard = new OperationsDashboard(this, 'Operations', {
      reconciler: this.reconciler,
      seedNames: config.seeds.map((s) => s.name),
      clusterNames: config.clusters.map((c) => nameOf(c.name)),
      jobGate: this.jobGate,
    });
    this.output(
      'DashboardName',
      this.dashboard.dashboard.dashboardName,
      'CloudWatch dashboard of the reconciler and the job gate',
    );

    this.databaseDumps = config.databaseDumps.map((dump) => {
      const clusterName = dump.cluster ?? config.clusters[0].name;
      const role = new DatabaseDumpRole(this, `Dump${alphanumeric(dump.name)}`, {
        roleName: dumpRoleName(config.stackName, dump),
        provider: providerOf(clusterName),
        namespace: dump.namespace,
        serviceAccount: dumpServiceAccountName(dump),
        backupBucket: this.backupBucket,
        subPrefix: dumpSubPrefix(dump),
        secretArn: dump.secretArn,
        secretKmsKeyArn: dump.secretKmsKeyArn,
        permissionsBoundary:
          config.permissionsBoundaryArn === undefined
            ? undefined
            : iam.ManagedPolicy.fromManagedPolicyArn(
                this,
                `Dump${alphanumeric(dump.name)}Boundary`,
                config.permissionsBoundaryArn,
              ),
      });
      this.output(
        `DumpRoleArn${alphanumeric(dump.name)}`,
        role.role.roleArn,
        `Role of the database dump ${dump.name} (${dump.namespace}/${dumpServiceAccountName(dump)})`,
      );
      return role;
    });

    this.output(
      'BucketName',
      this.backupBucket.bucket.bucketName,
      'The S3 bucket of the BackupStorage',
    );
    this.output(
      'ReconcilerRoleArn',
      this.reconcilerRole.role.roleArn,
      'The role the reconciler runs as',
    );
    this.output(
      'EventBusName',
      this.reconciler.queue.eventBus.eventBusName,
      'Publish reconcile events here',
    );
    for (const provider of this.oidcProviders) {
      this.output(
        `OidcProviderArn${alphanumeric(provider.clusterName)}`,
        provider.provider.openIdConnectProviderArn,
        `IAM OIDC provider of cluster ${provider.clusterName}`,
      );
    }
    const groups = [...this.parameterGroups];
    this.templateOptions.metadata = {
      'AWS::CloudFormation::Interface': {
        ParameterGroups: groups.map(([label, entries]) => ({
          Label: { default: label },
          Parameters: entries.map((e) => e.parameter.logicalId),
        })),
        ParameterLabels: Object.fromEntries(
          groups
            .flatMap(([, entries]) => entries)
            .map((e) => [e.parameter.logicalId, { default: e.label }]),
        ),
      },
    };
  }

  /**
   * The console parameters of a packaged template, first in the console
   * (docs/packaging.md). Patterns repeat the config's rules (lib/config) so
   * the console refuses what `cdk synth` would; the bucket prefix may not be
   * empty here, because the template cannot tell an empty parameter from a
   * folder name when it builds ARNs.
   */
  private createSiteParameters(config: ProjectConfig): SiteParameters {
    const [cluster, ...otherClusters] = config.clusters;
    const fix =
      'npm run package builds the template of one cluster and one seed; deploy other layouts with `cdk deploy` (README, "Deploy")';
    if (otherClusters.length > 0 || config.seeds.length > 1) {
      throw new ConfigError([
        `clusters, seeds: got ${config.clusters.length} cluster(s) and ${config.seeds.length} seed(s); ${fix}`,
      ]);
    }
    if (cluster.oidcIssuerUrl === undefined) {
      throw new ConfigError([
        `clusters[0].oidcProviderArn: the packaged template creates the cluster's IAM OIDC provider from the OidcIssuerUrl parameter; give oidcIssuerUrl instead, or deploy with \`cdk deploy\` to import ${cluster.oidcProviderArn ?? 'the provider'}`,
      ]);
    }
    if (config.bucket.prefix === '') {
      throw new ConfigError([
        'bucket.prefix: got "" (the bucket root); the packaged template needs a prefix such as ace/production/backups: set bucket.prefix',
      ]);
    }
    if (config.bucket.encryption === 'kms' && config.bucket.kmsKeyArn === undefined) {
      throw new ConfigError([
        'bucket.kmsKeyArn: missing with encryption "kms"; the packaged template may or may not create the bucket, so it cannot create its key: set kmsKeyArn to an existing key, or use encryption "s3-managed"',
      ]);
    }
    const clusterGroup = 'EKS cluster';
    const clusterName = this.parameter(clusterGroup, 'ClusterName', 'Cluster name', {
      type: 'String',
      default: cluster.name,
      allowedPattern: '^[0-9A-Za-z][A-Za-z0-9_-]*$',
      maxLength: 100,
      description: 'The EKS cluster name, as `aws eks list-clusters` prints it.',
      constraintDescription: 'letters, digits, "-" and "_", starting with a letter or digit',
    });
    const issuer = this.parameter(clusterGroup, 'OidcIssuerUrl', 'OIDC issuer URL', {
      type: 'String',
      default: cluster.oidcIssuerUrl,
      allowedPattern: '^https://[^\\s/:]+(/[^\\s?#]*[^\\s?#/])?$',
      description:
        'The cluster OIDC issuer, as `aws eks describe-cluster --query cluster.identity.oidc.issuer` prints it; the stack creates its IAM OIDC provider.',
      constraintDescription: 'https://, no port, no query, no trailing "/"',
    });
    const bucketGroup = 'Backup bucket';
    const bucketName = this.parameter(bucketGroup, 'BackupBucketName', 'Bucket name', {
      type: 'String',
      default: config.bucket.name,
      allowedPattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
      description: 'The S3 bucket KubeStash writes its restic repositories to.',
      constraintDescription: '3-63 lowercase letters, digits, "." and "-"',
    });
    const bucketMode = this.parameter(bucketGroup, 'BackupBucketMode', 'New or existing bucket', {
      type: 'String',
      default: config.bucket.existing ? 'existing' : 'new',
      allowedValues: ['new', 'existing'],
      description:
        '"new" creates the bucket (versioned, encrypted, TLS-only, kept when the stack is deleted); "existing" uses a bucket you already have in this account.',
    });
    const bucketPrefix = this.parameter(bucketGroup, 'BackupPrefix', 'Backup prefix', {
      type: 'String',
      default: config.bucket.prefix,
      allowedPattern: "^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$",
      maxLength: 512,
      description: 'The folder KubeStash writes under (the BackupStorage prefix).',
      constraintDescription:
        'a key prefix without leading or trailing "/", e.g. ace/production/backups',
    });
    return {
      clusterName: clusterName.valueAsString,
      oidcIssuerUrl: issuer.valueAsString,
      bucketName: bucketName.valueAsString,
      bucketPrefix: bucketPrefix.valueAsString,
      createBucket: new CfnCondition(this, 'CreateBucket', {
        expression: Fn.conditionEquals(bucketMode.valueAsString, 'new'),
      }),
    };
  }

  /**
   * The private subnets the reconciler and gate run in, when the config has a
   * `network`: one per stack, because one reconciler serves every cluster of
   * a seed in one serialized pass (docs/private-clusters.md, "One function per stack").
   */
  private createNetwork(config: ProjectConfig): FunctionNetwork | undefined {
    const { network } = config;
    if (network === undefined) return undefined;
    const services: Record<CalledApi, ec2.InterfaceVpcEndpointAwsService> = {
      eks: ec2.InterfaceVpcEndpointAwsService.EKS,
      iam: ec2.InterfaceVpcEndpointAwsService.IAM,
      sts: ec2.InterfaceVpcEndpointAwsService.STS,
      events: ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
      secretsmanager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    };
    const functionNetwork = new FunctionNetwork(this, 'Network', {
      vpcId: network.vpcId,
      subnets: network.subnets,
      clusters: config.clusters.flatMap((c) =>
        c.securityGroupId === undefined
          ? []
          : [{ name: c.name, securityGroupId: c.securityGroupId }],
      ),
      clusterIngress: network.clusterIngress,
      interfaceEndpoints: network.interfaceEndpoints
        ? apisCalledFromVpc(config).map((api) => services[api])
        : [],
    });
    for (const { cluster, command } of functionNetwork.ingressCommands) {
      this.output(
        `ClusterIngressCommand${alphanumeric(cluster)}`,
        command,
        `Run once so cluster ${cluster}'s security group admits the kubestash-irsa Lambdas on 443`,
      );
    }
    this.output(
      'FunctionSecurityGroupId',
      functionNetwork.securityGroup.securityGroupId,
      'Security group of the kubestash-irsa Lambdas (egress 443 only)',
    );
    return functionNetwork;
  }

  /**
   * The console parameter listing the namespaces whose ServiceAccounts may use
   * a seed; the seed's tag carries it to the reconciler. Returns the list
   * space-separated (a token).
   */
  private seedNamespaces(config: ProjectConfig, seed: SeedConfig): string {
    const parameter = this.parameter(
      `Seed role ${seed.name}`,
      `${alphanumeric(seed.name)}AllowedNamespaces`,
      'Namespaces that may use this seed',
      {
        type: 'CommaDelimitedList',
        default: namespacesOfSeed(config, seed).join(','),
        description: `Comma-separated Kubernetes namespaces whose KubeStash ServiceAccounts may be granted a role derived from ${seed.name}; a ServiceAccount elsewhere that names it is refused with an Event.`,
      },
    );
    return Fn.join(' ', parameter.valueAsList);
  }

  private createSeed(config: ProjectConfig, seed: SeedConfig, allowedNamespaces: string): SeedRole {
    const id = alphanumeric(seed.name);
    const group = `Seed role ${seed.name}`;
    const operatorNamespace = this.parameter(
      group,
      `${id}OperatorNamespace`,
      'KubeStash operator namespace',
      {
        type: 'String',
        default: seed.operator.namespace,
        allowedPattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
        maxLength: 63,
        description: `Namespace of the KubeStash operator ServiceAccount that assumes ${seed.name}.`,
        constraintDescription: 'a Kubernetes namespace: lowercase letters, digits and "-"',
      },
    );
    const operatorServiceAccount = this.parameter(
      group,
      `${id}OperatorServiceAccount`,
      'KubeStash operator ServiceAccount',
      {
        type: 'String',
        default: seed.operator.serviceAccount,
        allowedPattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
        maxLength: 253,
        description: `Name of the KubeStash operator ServiceAccount that assumes ${seed.name}.`,
        constraintDescription: 'a ServiceAccount name: lowercase letters, digits, "-" and "."',
      },
    );
    const limitCeiling = roleCreationLimitCeiling(config, seed);
    const roleCreationLimit = this.parameter(
      group,
      `${id}RoleCreationLimit`,
      'Derived-role limit',
      {
        type: 'Number',
        default: seed.roleCreationLimit,
        minValue: 1,
        // A console user may raise it only as far as every derived name stays a valid, free IAM name.
        maxValue: limitCeiling,
        description: `How many derived roles (${seed.name}-0, -1, ...) the reconciler may create; at most ${limitCeiling}, so that ${seed.name}-<limit-1> fits IAM's 64 characters and names no other role.`,
      },
    );

    const providers = clustersOfSeed(config, seed).map((cluster) => {
      const provider = this.oidcProviders.find((p) => p.clusterName === cluster.name);
      if (provider === undefined) throw new Error(`no OIDC provider for cluster ${cluster.name}`);
      return provider;
    });

    const access = new BucketAccessPolicy(this, `${id}Access`, {
      backupBucket: this.backupBucket,
      preset: seed.accessPolicy,
      restrictToPrefix: config.bucket.restrictToPrefix,
      secretArns: seed.secretArns,
      description: `${seed.accessPolicy} access to the backup bucket for ${seed.name} and its derived roles`,
    });
    const boundary: iam.IManagedPolicy =
      config.permissionsBoundaryArn === undefined
        ? new DerivedRoleBoundary(this, `${id}Boundary`, {
            seedName: seed.name,
            statements: access.statements,
            preset: seed.accessPolicy,
          }).policy
        : iam.ManagedPolicy.fromManagedPolicyArn(
            this,
            `${id}Boundary`,
            config.permissionsBoundaryArn,
          );

    const seedRole = new SeedRole(this, `${id}Seed`, {
      roleName: seed.name,
      providers,
      operatorNamespace: operatorNamespace.valueAsString,
      operatorServiceAccount: operatorServiceAccount.valueAsString,
      conditionOperator: seed.subjectMatch,
      accessPolicy: access.policy,
      permissionsBoundary: boundary,
      maxSessionDuration: Duration.seconds(seed.maxSessionDurationSeconds),
      derivedRolePath: seed.derivedRolePath,
      roleCreationLimit: roleCreationLimit.valueAsString,
      allowedNamespaces,
      ...(seed.mode === 'pod-identity'
        ? {
            podIdentity: {
              clusterNames: providers.map((p) => p.clusterName),
              // The operator's pods assume the seed too (through the association below).
              namespaces: Fn.split(
                ' ',
                Fn.join(' ', [allowedNamespaces, operatorNamespace.valueAsString]),
              ),
            },
          }
        : {}),
    });
    if (seed.mode === 'pod-identity') {
      for (const cluster of providers) {
        // The operator's own association: made once by CloudFormation, never by the reconciler.
        new eks.CfnPodIdentityAssociation(
          this,
          `${id}OperatorAssociation${alphanumeric(cluster.clusterName)}`,
          {
            clusterName: cluster.clusterName,
            namespace: operatorNamespace.valueAsString,
            serviceAccount: operatorServiceAccount.valueAsString,
            roleArn: seedRole.role.roleArn,
          },
        );
      }
    }

    this.output(
      `SeedRoleArn${id}`,
      seedRole.role.roleArn,
      seed.mode === 'pod-identity'
        ? `Seed role ${seed.name}: EKS Pod Identity associations (the operator's and each backup Job's) name it`
        : `Seed role ${seed.name}: annotate the KubeStash operator ServiceAccount with it`,
    );
    this.output(
      `DerivedRolePath${id}`,
      seed.derivedRolePath,
      `IAM path of the derived roles of ${seed.name}`,
    );
    this.output(
      `AccessPolicyArn${id}`,
      access.policy.managedPolicyArn,
      `Bucket access policy of ${seed.name}`,
    );
    this.output(
      `PermissionsBoundaryArn${id}`,
      boundary.managedPolicyArn,
      `Permissions boundary of ${seed.name}'s derived roles`,
    );
    return seedRole;
  }

  private parameter(
    group: string,
    id: string,
    label: string,
    props: ConstructorParameters<typeof CfnParameter>[2],
  ): CfnParameter {
    const parameter = new CfnParameter(this, id, props);
    const entries = this.parameterGroups.get(group) ?? [];
    entries.push({ parameter, label });
    this.parameterGroups.set(group, entries);
    return parameter;
  }

  private output(id: string, value: string, description: string): void {
    new CfnOutput(this, id, { value, description, exportName: `${this.stackName}-${id}` });
  }
}
