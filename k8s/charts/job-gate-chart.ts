import { Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { KUBESTASH_MANAGED_BY, MANAGED_BY_LABEL } from '../../lambda/ports/annotations';
import {
  GATE_TOKEN_PLACEHOLDER,
  JOB_GATE_CONFIGURATION,
  JOB_GATE_WEBHOOK,
} from '../../lambda/ports/gate-webhook';

export { GATE_TOKEN_PLACEHOLDER, JOB_GATE_CONFIGURATION, JOB_GATE_WEBHOOK };

/** On the webhook configuration: the secret the apply step reads the token from. */
export const GATE_TOKEN_SECRET_ANNOTATION = 'kubestash-irsa.io/gate-token-secret';

export interface JobGateChartProps extends ChartProps {
  /** The stack's JobGateUrl output (a Lambda Function URL). */
  readonly gateUrl: string;
  /** The cluster these manifests are for: the gate reads it from the URL path to hint the right seeds. */
  readonly cluster: string;
  /** The stack's JobGateTokenSecret<cluster> output: where the token for the URL is kept. */
  readonly tokenSecretArn: string;
  /** Only Jobs here are held: the reconciler can release nothing elsewhere. */
  readonly namespaces: readonly string[];
  /**
   * What the API server does when the gate does not answer: `Ignore` creates
   * the Job ungated (the backup may then start before its role exists, as
   * without the gate), `Fail` refuses it (KubeStash retries the session).
   * @default 'Ignore'
   */
  readonly failurePolicy?: 'Ignore' | 'Fail';
  /** @default 5 */
  readonly timeoutSeconds?: number;
}

/**
 * The MutatingWebhookConfiguration that sends each new KubeStash Job in the
 * allowed namespaces to the job gate. The gate has no side effects on
 * dry-run, and nothing but Jobs labelled by KubeStash ever reaches it.
 */
export class JobGateChart extends Chart {
  readonly webhookUrl: string;

  constructor(scope: Construct, id: string, props: JobGateChartProps) {
    super(scope, id, props);
    if (!/^https:\/\/[^\s/]+\/?$/.test(props.gateUrl)) {
      throw new Error(
        `JobGateChart: gateUrl "${props.gateUrl}" is not the https:// Function URL the stack outputs as JobGateUrl`,
      );
    }
    const timeout = props.timeoutSeconds ?? 5;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 30) {
      throw new Error(
        `JobGateChart: timeoutSeconds ${timeout} must be a whole number from 1 to 30`,
      );
    }
    if (!/^arn:aws[a-z-]*:secretsmanager:/.test(props.tokenSecretArn)) {
      throw new Error(
        `JobGateChart: tokenSecretArn "${props.tokenSecretArn}" is not the Secrets Manager ARN the stack outputs as JobGateTokenSecret<cluster>`,
      );
    }
    this.webhookUrl = `${props.gateUrl.replace(/\/$/, '')}/clusters/${props.cluster}/${GATE_TOKEN_PLACEHOLDER}`;
    new k8s.KubeMutatingWebhookConfiguration(this, 'Webhook', {
      metadata: {
        name: JOB_GATE_CONFIGURATION,
        annotations: { [GATE_TOKEN_SECRET_ANNOTATION]: props.tokenSecretArn },
      },
      webhooks: [
        {
          name: JOB_GATE_WEBHOOK,
          admissionReviewVersions: ['v1'],
          // No caBundle: a Function URL presents a certificate the system roots trust.
          clientConfig: { url: this.webhookUrl },
          rules: [
            {
              operations: ['CREATE'],
              apiGroups: ['batch'],
              apiVersions: ['v1'],
              resources: ['jobs'],
              scope: 'Namespaced',
            },
          ],
          matchPolicy: 'Equivalent',
          objectSelector: { matchLabels: { [MANAGED_BY_LABEL]: KUBESTASH_MANAGED_BY } },
          namespaceSelector: {
            matchExpressions: [
              { key: 'kubernetes.io/metadata.name', operator: 'In', values: [...props.namespaces] },
            ],
          },
          sideEffects: 'NoneOnDryRun',
          timeoutSeconds: timeout,
          failurePolicy: props.failurePolicy ?? 'Ignore',
          // The gate's patch is complete on the first call; a second call would pass unchanged.
          reinvocationPolicy: 'Never',
        },
      ],
    });
  }
}
