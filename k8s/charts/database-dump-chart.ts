import { ApiObject, Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { DatabaseDumpConfig } from '../../lib/config/database-dump-config';
import { dumpServiceAccountName } from '../../lib/config/database-dump-config';
import { ROLE_ARN_ANNOTATION } from '../../lambda/ports/annotations';

/** Where the Secrets Store CSI driver mounts the database credentials. */
const SECRETS_DIR = '/mnt/secrets-store';
const WORK_DIR = '/work';
const NOBODY = 65534;

export interface DatabaseDumpChartProps extends ChartProps {
  readonly dump: DatabaseDumpConfig;
  /** The dump role's ARN, known before deploy because its name is fixed. */
  readonly roleArn: string;
  readonly bucket: string;
  /** Key prefix the dump files land under (bucket prefix and the dump's folder). */
  readonly keyPrefix: string;
  readonly region: string;
}

/**
 * Seed 001 as code: a CronJob that dumps a PostgreSQL database and uploads the
 * file to the bucket, as a ServiceAccount with its own exact-subject IRSA role
 * (`DatabaseDumpRole` in the stack). Credentials come from Secrets Manager
 * through the Secrets Store CSI driver and are read from files, never copied
 * into a Kubernetes Secret. Dumping and uploading are two containers with
 * pinned images, instead of installing the AWS CLI on every run.
 */
export class DatabaseDumpChart extends Chart {
  constructor(scope: Construct, id: string, props: DatabaseDumpChartProps) {
    super(scope, id, { ...props, namespace: props.dump.namespace });
    const { dump } = props;
    const serviceAccount = dumpServiceAccountName(dump);
    const providerClass = `${dump.name}-db-credentials`;

    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: serviceAccount, annotations: { [ROLE_ARN_ANNOTATION]: props.roleArn } },
      automountServiceAccountToken: false,
    });

    // The CSI driver's CRD is not imported: this one object is typed by hand below.
    new ApiObject(this, 'SecretProviderClass', {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: providerClass },
      spec: secretProviderClassSpec(dump.secretArn),
    });

    const hardened = {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    };
    const dumpFile = `${WORK_DIR}/${dump.database}.pgdump`;
    const quantities = (q: { cpu: string; memory: string }) => ({
      cpu: k8s.Quantity.fromString(q.cpu),
      memory: k8s.Quantity.fromString(q.memory),
    });
    const resources = {
      requests: quantities(dump.resources.requests),
      limits: quantities(dump.resources.limits),
    };
    new k8s.KubeCronJob(this, 'CronJob', {
      metadata: { name: `${dump.name}-dump` },
      spec: {
        schedule: dump.schedule,
        // A second dump while the first still runs would only compete for the database.
        concurrencyPolicy: 'Forbid',
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 2,
            template: {
              spec: {
                serviceAccountName: serviceAccount,
                restartPolicy: 'OnFailure',
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: NOBODY,
                  runAsGroup: NOBODY,
                  fsGroup: NOBODY,
                  seccompProfile: { type: 'RuntimeDefault' },
                },
                initContainers: [
                  {
                    name: 'dump',
                    image: dump.dumpImage,
                    command: ['/bin/sh', '-ec'],
                    args: [
                      [
                        `export PGHOST="$(cat ${SECRETS_DIR}/db-host)" PGPORT="$(cat ${SECRETS_DIR}/db-port)"`,
                        `export PGUSER="$(cat ${SECRETS_DIR}/db-user)" PGPASSWORD="$(cat ${SECRETS_DIR}/db-password)"`,
                        `pg_dump --no-password --format=custom --dbname="$DATABASE" --file="${dumpFile}"`,
                      ].join('\n'),
                    ],
                    env: [{ name: 'DATABASE', value: dump.database }],
                    resources,
                    securityContext: hardened,
                    volumeMounts: [
                      { name: 'secrets-store', mountPath: SECRETS_DIR, readOnly: true },
                      { name: 'work', mountPath: WORK_DIR },
                    ],
                  },
                ],
                containers: [
                  {
                    name: 'upload',
                    image: dump.uploadImage,
                    command: ['/bin/sh', '-ec'],
                    args: [
                      `aws s3 cp --only-show-errors "${dumpFile}" "s3://$BUCKET/$KEY_PREFIX/$DATABASE-$(date -u +%Y%m%dT%H%M%SZ).pgdump"`,
                    ],
                    env: [
                      { name: 'BUCKET', value: props.bucket },
                      { name: 'KEY_PREFIX', value: props.keyPrefix },
                      { name: 'DATABASE', value: dump.database },
                      { name: 'AWS_REGION', value: props.region },
                      // The CLI writes its cache under $HOME; the root filesystem is read-only.
                      { name: 'HOME', value: '/tmp' },
                    ],
                    resources,
                    securityContext: hardened,
                    volumeMounts: [
                      { name: 'work', mountPath: WORK_DIR, readOnly: true },
                      { name: 'tmp', mountPath: '/tmp' },
                    ],
                  },
                ],
                volumes: [
                  {
                    name: 'secrets-store',
                    csi: {
                      driver: 'secrets-store.csi.k8s.io',
                      readOnly: true,
                      volumeAttributes: { secretProviderClass: providerClass },
                    },
                  },
                  { name: 'work', emptyDir: {} },
                  { name: 'tmp', emptyDir: {} },
                ],
              },
            },
          },
        },
      },
    });
  }
}

/** The AWS provider's parameters: one secret, its JSON fields mounted as one file each. */
export function secretProviderClassSpec(secretArn: string): Record<string, unknown> {
  const fields: [string, string][] = [
    ['username', 'db-user'],
    ['password', 'db-password'],
    ['host', 'db-host'],
    // Secrets Manager's RDS secrets store the port as a number.
    ['port | to_string(@)', 'db-port'],
  ];
  const objects = [
    `- objectName: "${secretArn}"`,
    '  objectType: secretsmanager',
    '  jmesPath:',
    ...fields.flatMap(([path, alias]) => [`    - path: "${path}"`, `      objectAlias: ${alias}`]),
  ].join('\n');
  return { provider: 'aws', parameters: { objects: `${objects}\n` } };
}
