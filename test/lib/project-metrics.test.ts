import { Duration } from 'aws-cdk-lib';
import { gateMetric, reconcilerSeedMetric } from '../../lib/project-metrics';
import { GateMetric, ReconcilerMetric } from '../../lambda/ports/metric-names';

describe('project metrics', () => {
  test("a reconciler metric carries the handler's namespace and dimensions, Reason only when given", () => {
    const plain = reconcilerSeedMetric('KubestashRole', ReconcilerMetric.IamWrites, {
      statistic: 'Sum',
    });
    expect(plain.namespace).toBe('KubestashIrsa');
    expect(plain.dimensions).toEqual({ service: 'reconciler', Seed: 'KubestashRole' });
    expect(plain.period.toSeconds()).toBe(300);
    const byReason = reconcilerSeedMetric(
      'KubestashRole',
      ReconcilerMetric.RefusedServiceAccounts,
      {
        statistic: 'Maximum',
        reason: 'SubjectTooLarge',
        period: Duration.minutes(15),
        label: 'x',
      },
    );
    expect(byReason.dimensions).toEqual({
      service: 'reconciler',
      Seed: 'KubestashRole',
      Reason: 'SubjectTooLarge',
    });
    expect(byReason.period.toSeconds()).toBe(900);
    expect(byReason.label).toBe('x');
  });

  test("a gate metric carries the gate's service dimension only", () => {
    const m = gateMetric(GateMetric.JobsGated, { statistic: 'Sum' });
    expect(m.metricName).toBe('JobsGated');
    expect(m.dimensions).toEqual({ service: 'job-gate' });
  });
});
