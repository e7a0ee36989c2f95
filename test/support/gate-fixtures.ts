import type { GateSettings } from '../../lambda/gate/gate-settings';

/** Gate settings as the stack sets them for the example config. */
export const SETTINGS: GateSettings = {
  allowedNamespaces: ['demo', 'prod'],
  buckets: [
    {
      bucket: 'kubestash-backups-111122223333',
      prefix: 'ace/production/backups/.kubestash-irsa-access-check/',
    },
  ],
  clusterSeeds: { 'prod-cluster': ['KubestashRole'] },
  accessCheckImage: 'amazon/aws-cli:2.27.50',
  accessCheckAttempts: 12,
  accessCheckDelaySeconds: 5,
  observeOnly: false,
};
