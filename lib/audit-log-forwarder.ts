import type * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as destinations from 'aws-cdk-lib/aws-logs-destinations';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { projectFunction } from './lambda-bundle';

export interface AuditLogForwarderProps {
  /** The bus the reconciler listens on. */
  readonly eventBus: events.IEventBus;
  /** The EKS clusters whose audit logs to follow; each must have audit logging on. */
  readonly clusterNames: readonly string[];
  /**
   * The name each of `clusterNames` has in the template, where it differs from
   * the name construct IDs derive from (a packaged template's ClusterName parameter).
   * @default each name itself
   */
  readonly clusterNameValues?: Readonly<Record<string, string>>;
  /** The seeds a deletion is announced to (a deletion does not say which seed). */
  readonly seedNames: readonly string[];
}

/**
 * Follows the clusters' API-server audit logs (CloudWatch Logs group
 * `/aws/eks/<cluster>/cluster`, streams `kube-apiserver-audit-*`) and puts
 * ServiceAccount creations and deletions on the bus. Best effort, by design:
 * audit logs arrive within minutes and may be lost; the scheduled resync is
 * what guarantees convergence.
 */
export class AuditLogForwarder extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: AuditLogForwarderProps) {
    super(scope, id);
    if (props.clusterNames.length === 0) {
      throw new Error(
        'AuditLogForwarder: give at least one cluster whose audit log group to follow',
      );
    }
    this.function = projectFunction(this, 'Function', {
      handlerFile: 'audit-log-forwarder',
      description: 'kubestash-irsa: EKS audit log ServiceAccount changes to the reconciler bus',
      environment: {
        EVENT_BUS_NAME: props.eventBus.eventBusName,
        SEEDS: props.seedNames.join(','),
      },
    });
    props.eventBus.grantPutEventsTo(this.function);

    for (const cluster of props.clusterNames) {
      const logGroup = logs.LogGroup.fromLogGroupName(
        this,
        `Logs${cluster}`,
        `/aws/eks/${props.clusterNameValues?.[cluster] ?? cluster}/cluster`,
      );
      new logs.SubscriptionFilter(this, `Subscription${cluster}`, {
        logGroup,
        destination: new destinations.LambdaDestination(this.function),
        // Only ServiceAccount writes reach the function; the rest of the audit log stays in Logs.
        filterPattern: logs.FilterPattern.all(
          logs.FilterPattern.stringValue('$.objectRef.resource', '=', 'serviceaccounts'),
          logs.FilterPattern.stringValue('$.stage', '=', 'ResponseComplete'),
          logs.FilterPattern.any(
            logs.FilterPattern.stringValue('$.verb', '=', 'create'),
            logs.FilterPattern.stringValue('$.verb', '=', 'delete'),
          ),
        ),
        filterName: 'kubestash-irsa-serviceaccounts',
      });
    }
  }
}
