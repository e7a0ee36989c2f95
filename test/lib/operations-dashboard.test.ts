import { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { OperationsDashboard } from '../../lib/operations-dashboard';
import { REFUSAL_REASONS } from '../../lambda/domain/plan-types';
import { ReconcilerMetric } from '../../lambda/ports/metric-names';
import { addSeeds, synthExampleStack } from '../support/example-app';

interface Widget {
  readonly type: string;
  readonly properties: {
    readonly title?: string;
    readonly markdown?: string;
    readonly alarms?: readonly unknown[];
    readonly metrics?: readonly (readonly unknown[])[];
    readonly annotations?: { readonly horizontal?: readonly { readonly value: number }[] };
  };
}

/**
 * The dashboard body as CloudWatch will read it. The template holds it as an
 * Fn::Join of text and references; references stand inside JSON strings, so
 * replacing each with a marker leaves JSON that parses.
 */
function dashboardBody(template: Template): { widgets: Widget[] } {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0].Properties.DashboardBody as
    string | { 'Fn::Join': [string, (string | object)[]] };
  const text =
    typeof body === 'string'
      ? body
      : body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : '<ref>')).join('');
  return JSON.parse(text) as { widgets: Widget[] };
}

/** Each metric row as [namespace, name, dimension name, value, ...]; `.` repeats the row above. */
function metricRows(widget: Widget): string[][] {
  const rows: string[][] = [];
  for (const raw of widget.properties.metrics ?? []) {
    const cells = raw.filter((c) => typeof c === 'string') as string[];
    const previous = rows[rows.length - 1] ?? [];
    rows.push(cells.map((c, i) => (c === '.' ? previous[i] : c)));
  }
  return rows;
}

function widgetTitled(widgets: Widget[], title: string): Widget {
  const found = widgets.find((w) => w.properties.title === title);
  if (found === undefined)
    throw new Error(`no widget "${title}" in ${widgets.map((w) => w.properties.title).join(', ')}`);
  return found;
}

describe('OperationsDashboard in the example stack', () => {
  const { template, stack, nag } = synthExampleStack();
  const { widgets } = dashboardBody(template);

  test('one dashboard named after the stack, and an output naming it', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: `${stack.stackName}-operations`,
    });
    template.hasOutput('DashboardName', {});
  });

  test("the alarm-status widget shows every one of the reconciler's alarms", () => {
    const status = widgets.filter((w) => w.type === 'alarm');
    expect(status).toHaveLength(1);
    expect(status[0].properties.alarms).toHaveLength(stack.reconciler.alarms.length);
  });

  test('per seed: roles against the limit with the alarm line, and the fullest trust policy', () => {
    const fill = widgetTitled(widgets, 'KubestashRole: derived roles and trust-policy fill');
    const rows = metricRows(fill);
    const names = rows.map((r) => r[1]);
    expect(names).toEqual([
      ReconcilerMetric.DerivedRoleUtilization,
      ReconcilerMetric.TrustPolicyFill,
      ReconcilerMetric.DerivedRoles,
    ]);
    for (const row of rows) {
      expect(row.slice(0, 1)).toEqual(['KubestashIrsa']);
      expect(row).toEqual(
        expect.arrayContaining(['service', 'reconciler', 'Seed', 'KubestashRole']),
      );
    }
    expect(fill.properties.annotations?.horizontal?.map((a) => a.value)).toEqual([80]);
  });

  test('per seed: refusals graphed for every reason the handler reports, and the quota one', () => {
    const sa = widgetTitled(widgets, 'KubestashRole: ServiceAccounts granted and refused');
    const reasons = metricRows(sa)
      .filter((r) => r[1] === ReconcilerMetric.RefusedServiceAccounts)
      .map((r) => r[r.indexOf('Reason') + 1]);
    expect(reasons).toEqual([...REFUSAL_REASONS, 'RoleQuotaExceeded', 'DerivedRoleNotCreated']);
  });

  test('per seed: Jobs held, released and stuck; IAM writes and pass duration', () => {
    const jobs = metricRows(widgetTitled(widgets, 'KubestashRole: gated Jobs')).map((r) => r[1]);
    expect(jobs).toEqual(['JobsHeld', 'JobsReleased', 'JobsStuck']);
    const writes = metricRows(widgetTitled(widgets, 'KubestashRole: IAM writes and pass duration'));
    expect(writes.map((r) => r[1])).toEqual([
      'IamWrites',
      'DerivedRoleNamesTaken',
      'ReconcileDuration',
      'ReconcileDuration',
    ]);
  });

  test('the dead-letter queue depth, and the gate answers and latency', () => {
    const queue = metricRows(widgetTitled(widgets, 'Reconcile events: queue and dead letters'));
    expect(queue[0]).toEqual(
      expect.arrayContaining(['AWS/SQS', 'ApproximateNumberOfMessagesVisible']),
    );
    const answers = metricRows(widgetTitled(widgets, 'Job gate: answers'));
    expect(answers.map((r) => r[1])).toEqual([
      'JobsGated',
      'JobsObserved',
      'JobsPassed',
      'MalformedReviews',
      'HintsFailed',
      'ServiceAccountUnread',
      'RequestsRefused',
    ]);
    for (const row of answers) expect(row).toEqual(expect.arrayContaining(['service', 'job-gate']));
    const latency = metricRows(widgetTitled(widgets, 'Job gate: latency and failures'));
    expect(latency.slice(0, 3).every((r) => r[0] === 'AWS/Lambda' && r[1] === 'Duration')).toBe(
      true,
    );
  });

  test('cdk-nag has nothing to say about it', () => {
    expect(nag.violations).toEqual([]);
  });
});

describe('OperationsDashboard variants', () => {
  test('without a job gate: no gate widgets, and the seed row has no Job graph', () => {
    const { template } = synthExampleStack((c) => {
      c.jobGate = { ...c.jobGate, enabled: false };
    });
    const titles = dashboardBody(template).widgets.map((w) => w.properties.title);
    expect(titles.filter((t) => t?.startsWith('Job gate'))).toEqual([]);
    expect(titles).not.toContain('KubestashRole: gated Jobs');
    expect(titles).toContain('KubestashRole: IAM writes and pass duration');
  });

  test('two seeds get a row each, and their alarms appear in the status widget', () => {
    const { template, stack } = synthExampleStack((c) => {
      addSeeds(c, {
        name: 'VeleroRole',
        accessPolicy: 'velero',
        derivedRolePath: '/velero-irsa/',
      });
    });
    const { widgets } = dashboardBody(template);
    expect(widgets.filter((w) => w.properties.title?.startsWith('VeleroRole: '))).toHaveLength(4);
    expect(widgets.find((w) => w.type === 'alarm')?.properties.alarms).toHaveLength(
      stack.reconciler.alarms.length,
    );
    // Dead letters and errors, two per seed, one per cluster (ClusterUnreachable).
    expect(stack.reconciler.alarms.length).toBe(2 + 2 * 2 + 1);
  });

  test('each cluster is a line on the unreachable-clusters graph, as the reconciler emits it', () => {
    const { template } = synthExampleStack();
    const rows = metricRows(
      widgetTitled(
        dashboardBody(template).widgets,
        'Clusters whose API server a pass could not reach',
      ),
    );
    expect(rows.length).toBe(1);
    expect(rows[0]).toEqual(
      expect.arrayContaining([
        'KubestashIrsa',
        'ClusterUnreachable',
        'service',
        'reconciler',
        'Cluster',
      ]),
    );
  });

  test('a name CloudWatch would refuse, or no seed, is an error naming the fix', () => {
    const { stack } = synthExampleStack();
    expect(
      () =>
        new OperationsDashboard(stack, 'Bad', {
          reconciler: stack.reconciler,
          seedNames: ['KubestashRole'],
          dashboardName: 'has spaces',
        }),
    ).toThrow(/dashboardName "has spaces" is not a CloudWatch dashboard name; use up to 255/);
    expect(
      () =>
        new OperationsDashboard(Stack.of(stack), 'None', {
          reconciler: stack.reconciler,
          seedNames: [],
        }),
    ).toThrow('OperationsDashboard: give at least one seed name (seedNames is empty)');
  });
});
