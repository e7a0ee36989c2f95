import { parse } from 'yaml';
import { operatorHelmValues } from '../../k8s/operator-helm-values';

describe('operatorHelmValues', () => {
  const text = operatorHelmValues({
    seedRoleArn: 'arn:aws:iam::111122223333:role/Seed',
    namespace: 'stash',
    serviceAccount: 'stash-operator',
  });

  test('is YAML for the KubeStash chart with the annotation, and comments that say how to use it', () => {
    expect(parse(text)).toEqual({
      'kubestash-operator': {
        serviceAccount: {
          annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/Seed' },
        },
      },
    });
    expect(text).toContain(
      'helm upgrade kubestash oci://ghcr.io/appscode-charts/kubestash -n stash',
    );
    expect(text).toContain('kubectl annotate -n stash serviceaccount stash-operator --overwrite');
    expect(text).toContain('kubectl rollout restart deployment -n stash');
  });
});
