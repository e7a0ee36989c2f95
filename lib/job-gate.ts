import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { alphanumeric } from './config/project-config';
import type { FunctionNetwork } from './function-network';
import { projectFunction } from './lambda-bundle';

export interface JobGateBucket {
  readonly bucket: string;
  /** Where the access check probes, ending in `/` (the backup prefix's access-check folder). */
  readonly prefix: string;
}

export interface JobGateProps {
  /** Where the gate sends its `Job Gated` hint. */
  readonly eventBus: events.IEventBus;
  /** Every seed's namespaces, space- or comma-separated; may be a token (the stack's parameters). */
  readonly allowedNamespaces: string;
  /**
   * Per seed name, the namespaces whose ServiceAccounts may use it, space-separated
   * (may be a token): a Job naming a seed that does not serve its namespace is not
   * held, as the reconciler refuses it.
   * @default every seed serves every namespace of `allowedNamespaces`
   */
  readonly seedNamespaces?: Readonly<Record<string, string>>;
  readonly buckets: readonly JobGateBucket[];
  /** The seeds serving each cluster; the gate reads ServiceAccounts in each of these clusters. */
  readonly clusterSeeds: Readonly<Record<string, readonly string[]>>;
  /**
   * The name each cluster of `clusterSeeds` has in the template, where it
   * differs from the name construct IDs derive from (a packaged template's
   * ClusterName parameter).
   * @default each name itself
   */
  readonly clusterNameValues?: Readonly<Record<string, string>>;
  /**
   * Clusters a pod-identity seed serves: their session Jobs are held until
   * their ServiceAccount's association exists (docs/pod-identity.md).
   * @default none
   */
  readonly podIdentityClusters?: readonly string[];
  /**
   * The Kubernetes group the gate's EKS access entries map its role to; the
   * cdk8s app binds it to `get serviceaccounts` in the allowed namespaces.
   * @default 'kubestash-irsa:job-gate'
   */
  readonly kubernetesGroup?: string;
  /**
   * How long the gate waits for a ServiceAccount before it lets the Job pass ungated.
   * @default Duration.seconds(2)
   */
  readonly serviceAccountReadBudget?: Duration;
  /** @default 'amazon/aws-cli:2.27.50' */
  readonly accessCheckImage?: string;
  /** @default 12 */
  readonly accessCheckAttempts?: number;
  /** @default Duration.seconds(5) */
  readonly accessCheckDelay?: Duration;
  /**
   * Caps concurrent executions: the URL is reachable from the internet (an
   * unauthenticated request is refused before any work), so this bounds what
   * anyone can make it cost.
   * @default 10
   */
  readonly reservedConcurrency?: number;
  /**
   * Answer every Job unchanged and only log and hint what it would have held:
   * while aws-credential-manager's webhook still holds the Jobs (docs/migration.md).
   * @default false
   */
  readonly observeOnly?: boolean;
  /**
   * Run in these private subnets, beside the reconciler, so the gate reaches
   * a private API server (docs/private-clusters.md). The API server still
   * calls the gate through its Function URL, which a VPC placement does not change.
   * @default outside any VPC
   */
  readonly network?: FunctionNetwork;
}

/**
 * The job gate: a mutating admission webhook served by a Lambda Function URL.
 * The EKS API server calls it for every KubeStash Job it creates; the gate
 * answers with a patch that holds the Job until the reconciler releases it.
 *
 * The gate computes a patch from the request and the Job's ServiceAccount, which it
 * reads with its own identity (an EKS access entry per cluster mapped to a
 * group allowed only `get serviceaccounts`); it writes nothing, its one side
 * effect is a hint on the bus, and reserved concurrency bounds its cost.
 *
 * The URL takes no IAM auth (the API server cannot sign requests); instead
 * each cluster's webhook URL ends in a token, `/clusters/<cluster>/<token>`,
 * kept in a Secrets Manager secret per cluster (generated, 48 letters and
 * digits). A request without its cluster's current or previous token gets a
 * bare 404 and publishes nothing; docs/security.md weighs this against a
 * private endpoint and gives the rotation steps.
 */
export class JobGate extends Construct {
  readonly function: NodejsFunction;
  readonly url: lambda.FunctionUrl;
  /** Each cluster's webhook token; rotate with `aws secretsmanager put-secret-value`. */
  readonly tokenSecrets: Readonly<Record<string, secretsmanager.Secret>>;

  constructor(scope: Construct, id: string, props: JobGateProps) {
    super(scope, id);
    if (props.buckets.length === 0)
      throw new Error('JobGate: give the bucket(s) to check access to');
    const clusters = Object.entries(props.clusterSeeds);
    if (clusters.length === 0 || clusters.some(([, seeds]) => seeds.length === 0)) {
      throw new Error('JobGate: every cluster needs at least one seed to hint');
    }
    const attempts = props.accessCheckAttempts ?? 12;
    const delay = (props.accessCheckDelay ?? Duration.seconds(5)).toMilliseconds() / 1000;
    if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) {
      throw new Error(
        `JobGate: accessCheckAttempts ${attempts} is not a whole number from 1 to 100`,
      );
    }
    if (!Number.isInteger(delay) || delay < 1 || delay > 300) {
      throw new Error(`JobGate: accessCheckDelay ${delay}s is not whole seconds from 1 to 300`);
    }

    const readBudgetMs = (props.serviceAccountReadBudget ?? Duration.seconds(2)).toMilliseconds();
    if (readBudgetMs < 100 || readBudgetMs > 4000) {
      throw new Error(
        `JobGate: serviceAccountReadBudget ${readBudgetMs} ms must be from 100 to 4000 ms (the function times out at 5 s)`,
      );
    }

    const tokenSecrets: Record<string, secretsmanager.Secret> = {};
    const nameOf = (cluster: string) => props.clusterNameValues?.[cluster] ?? cluster;
    for (const [cluster] of clusters) {
      const secret = new secretsmanager.Secret(this, `Token${alphanumeric(cluster)}`, {
        description: `kubestash-irsa job gate: the token the webhook URL of cluster ${nameOf(cluster)} ends in`,
        // Letters and digits only: the token is a URL path segment.
        generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
        // The webhook in the cluster names it; a stack deletion removes the gate too.
        removalPolicy: RemovalPolicy.DESTROY,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'rotated by hand (put-secret-value, then re-apply the webhook): the new value must reach the cluster, which a rotation Lambda cannot do; the gate accepts the current and the previous value so the change has no downtime (docs/security.md)',
      });
      tokenSecrets[cluster] = secret;
    }
    this.tokenSecrets = tokenSecrets;

    this.function = projectFunction(this, 'Function', {
      handlerFile: 'job-gate',
      description:
        'kubestash-irsa job gate: holds KubeStash Jobs until their ServiceAccount has a role',
      memorySize: 256,
      // The API server waits at most timeoutSeconds (≤ 30); the gate answers in milliseconds.
      timeout: Duration.seconds(5),
      reservedConcurrentExecutions: props.reservedConcurrency ?? 10,
      ...props.network?.placement(),
      environment: {
        EVENT_BUS_NAME: props.eventBus.eventBusName,
        ALLOWED_NAMESPACES: props.allowedNamespaces,
        ...(props.seedNamespaces === undefined
          ? {}
          : {
              SEED_NAMESPACES: Object.entries(props.seedNamespaces)
                .map(([seed, namespaces]) => `${seed}=${namespaces}`)
                .join(';'),
            }),
        BUCKETS: props.buckets.map((b) => `${b.bucket}=${b.prefix}`).join(' '),
        CLUSTER_SEEDS: clusters
          .map(([cluster, seeds]) => `${nameOf(cluster)}=${seeds.join(',')}`)
          .join(';'),
        ...(props.podIdentityClusters === undefined || props.podIdentityClusters.length === 0
          ? {}
          : { POD_IDENTITY_CLUSTERS: props.podIdentityClusters.join(' ') }),
        CLUSTER_TOKEN_SECRETS: Object.entries(tokenSecrets)
          .map(([cluster, secret]) => `${nameOf(cluster)}=${secret.secretArn}`)
          .join(';'),
        ACCESS_CHECK_IMAGE: props.accessCheckImage ?? 'amazon/aws-cli:2.27.50',
        ACCESS_CHECK_ATTEMPTS: String(attempts),
        ACCESS_CHECK_DELAY_SECONDS: String(delay),
        SERVICE_ACCOUNT_READ_BUDGET_MS: String(readBudgetMs),
        GATE_OBSERVE_ONLY: String(props.observeOnly ?? false),
      },
    });
    if (this.function.role !== undefined) props.network?.grantNetworkInterfaces(this.function.role);
    props.eventBus.grantPutEventsTo(this.function);
    Object.values(tokenSecrets).forEach((secret) => secret.grantRead(this.function));

    // The gate's own identity in each cluster: an access entry mapped to a
    // group that Kubernetes RBAC (the cdk8s app's job-gate-rbac chart) lets
    // only `get serviceaccounts` in the allowed namespaces. The aws-eks L2
    // AccessEntry requires EKS access policies, hence the L1.
    const stack = Stack.of(this);
    const role = this.function.role;
    if (role === undefined) throw new Error('JobGate: the function has no role');
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['eks:DescribeCluster'],
        resources: clusters.map(([cluster]) =>
          stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: nameOf(cluster) }),
        ),
      }),
    );
    for (const [cluster] of clusters) {
      new eks.CfnAccessEntry(this, `Access${alphanumeric(cluster)}`, {
        clusterName: nameOf(cluster),
        principalArn: role.roleArn,
        kubernetesGroups: [props.kubernetesGroup ?? 'kubestash-irsa:job-gate'],
        type: 'STANDARD',
      });
    }
    this.url = this.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
  }
}
