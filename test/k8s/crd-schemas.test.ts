import fc from 'fast-check';
import {
  CrdValidator,
  forceClosedObjects,
  intOrStringAsAnyOf,
  loadCrdSchemas,
} from '../support/crd-schema';
import { metadataProblems } from '../support/core-objects';
import {
  CRD_DIR,
  exampleConfig,
  ofKind,
  synthConfig,
  synthExample,
} from '../support/k8s-manifests';
import type { KubeObject } from '../support/k8s-manifests';
import { CONFIG_VARIANTS, synthVariant } from '../support/k8s-variants';

const KUBESTASH_KINDS = [
  'BackupStorage',
  'RetentionPolicy',
  'BackupConfiguration',
  'RestoreSession',
];

// Compiled once for the file: the BackupConfiguration schema alone is ~750 KB of YAML.
const strict = CrdValidator.fromDirectory(CRD_DIR);
const upstream = CrdValidator.fromDirectory(CRD_DIR, { forceClosed: false });

function isKubestash(obj: KubeObject): boolean {
  return /(^|\.)kubestash\.com\//.test(String(obj.apiVersion));
}

function describeObject(obj: KubeObject): string {
  return `${obj.kind} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/** Every problem of every KubeStash object, keyed by the object, so a failure names it. */
function kubestashProblems(objects: readonly KubeObject[]): Record<string, string[]> {
  const problems: Record<string, string[]> = {};
  for (const obj of objects.filter(isKubestash)) {
    const found = [...strict.validate(obj), ...metadataProblems(obj)];
    if (found.length > 0) problems[describeObject(obj)] = found;
  }
  return problems;
}

describe('forceClosedObjects', () => {
  test('closes every object schema that lists properties, at any depth', () => {
    const schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            list: {
              type: 'array',
              items: { type: 'object', properties: { a: { type: 'string' } } },
            },
            either: { anyOf: [{ type: 'object', properties: { b: { type: 'integer' } } }] },
          },
        },
      },
    };
    expect(forceClosedObjects(schema)).toEqual({
      type: 'object',
      additionalProperties: false,
      properties: {
        spec: {
          type: 'object',
          additionalProperties: false,
          properties: {
            list: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: false,
                properties: { a: { type: 'string' } },
              },
            },
            either: {
              anyOf: [
                {
                  type: 'object',
                  additionalProperties: false,
                  properties: { b: { type: 'integer' } },
                },
              ],
            },
          },
        },
      },
    });
  });

  test('leaves maps, free-form objects and objects without properties open', () => {
    const map = { type: 'object', additionalProperties: { type: 'string' } };
    const explicit = { type: 'object', properties: { a: {} }, additionalProperties: true };
    const free = {
      type: 'object',
      properties: { a: {} },
      'x-kubernetes-preserve-unknown-fields': true,
    };
    const bare = { type: 'object' };
    for (const schema of [map, explicit, free, bare]) {
      expect(forceClosedObjects(schema)).toEqual(schema);
    }
  });

  test('closes the schemas inside a map’s values', () => {
    const schema = {
      type: 'object',
      additionalProperties: { type: 'object', properties: { a: { type: 'string' } } },
    };
    expect(forceClosedObjects(schema)).toEqual({
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: { a: { type: 'string' } },
      },
    });
  });

  test('does not touch data that merely looks like a schema (default, enum) nor its input', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'object', default: { properties: { x: 1 } } } },
      enum: [{ properties: { y: 2 } }],
    };
    const before = structuredClone(schema);
    const closed = forceClosedObjects(schema) as typeof schema;
    expect(schema).toEqual(before);
    expect(closed.properties.a.default).toEqual({ properties: { x: 1 } });
    expect(closed.enum).toEqual([{ properties: { y: 2 } }]);
  });
});

describe('intOrStringAsAnyOf', () => {
  test('gives x-kubernetes-int-or-string an anyOf of integer and string, unless it has one', () => {
    expect(intOrStringAsAnyOf({ 'x-kubernetes-int-or-string': true })).toEqual({
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
    });
    const controllerGen = {
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-int-or-string': true,
    };
    expect(intOrStringAsAnyOf(controllerGen)).toEqual(controllerGen);
  });
});

describe('the CRDs kept in k8s/crds', () => {
  test('define the four KubeStash kinds the app writes, at v1alpha1', () => {
    expect(
      loadCrdSchemas(CRD_DIR)
        .map((c) => `${c.apiVersion} ${c.kind}`)
        .sort(),
    ).toEqual([
      'core.kubestash.com/v1alpha1 BackupConfiguration',
      'core.kubestash.com/v1alpha1 RestoreSession',
      'storage.kubestash.com/v1alpha1 BackupStorage',
      'storage.kubestash.com/v1alpha1 RetentionPolicy',
    ]);
  });
});

describe.each(CONFIG_VARIANTS)('manifests of $name', (variant) => {
  const { objects } = synthVariant(variant);

  test('every KubeStash object has a CRD and validates against it, closed', () => {
    const kubestash = objects.filter(isKubestash);
    expect(kubestash.length).toBeGreaterThan(0);
    expect(kubestash.filter((o) => !strict.knows(o)).map(describeObject)).toEqual([]);
    expect(kubestashProblems(objects)).toEqual({});
  });
});

test('the variants together write every KubeStash kind, with and without optional fields', () => {
  const all = CONFIG_VARIANTS.flatMap((v) => synthVariant(v).objects);
  for (const kind of KUBESTASH_KINDS) expect(ofKind(all, kind).length).toBeGreaterThanOrEqual(2);
  const retention = ofKind(all, 'RetentionPolicy').map((r) => r.spec.successfulSnapshots);
  expect(retention).toContainEqual({
    last: 10,
    hourly: 24,
    daily: 7,
    weekly: 4,
    monthly: 12,
    yearly: 2,
  });
  expect(ofKind(all, 'BackupStorage').map((s) => s.spec.deletionPolicy)).toContain('WipeOut');
  expect(ofKind(all, 'BackupConfiguration').map((b) => b.spec.sessions[0].addon.name)).toEqual(
    expect.arrayContaining(['workload-addon', 'postgres-addon', 'mysql-addon']),
  );
});

describe('forcing additionalProperties: false catches what the upstream schemas let through', () => {
  const { objects } = synthExample();
  const pick = (kind: string): KubeObject => structuredClone(ofKind(objects, kind)[0]);

  const typos: [string, string, (o: KubeObject) => void, string][] = [
    [
      'BackupStorage',
      'spec.storage.s3.bukcet',
      (o) => {
        o.spec.storage.s3.bukcet = o.spec.storage.s3.bucket;
        delete o.spec.storage.s3.bucket;
      },
      '/spec/storage/s3: must NOT have additional properties "bukcet"',
    ],
    [
      'RetentionPolicy',
      'spec.successfulSnapshots.dayly',
      (o) => (o.spec.successfulSnapshots.dayly = 7),
      '/spec/successfulSnapshots: must NOT have additional properties "dayly"',
    ],
    [
      'BackupConfiguration',
      'spec.sessions[0].scheduler.jobTemplate.backofLimit',
      (o) => {
        const job = o.spec.sessions[0].scheduler.jobTemplate;
        job.backofLimit = job.backoffLimit;
        delete job.backoffLimit;
      },
      '/spec/sessions/0/scheduler/jobTemplate: must NOT have additional properties "backofLimit"',
    ],
    [
      'RestoreSession',
      'spec.dataSource.snapshotName',
      (o) => (o.spec.dataSource.snapshotName = 'latest'),
      '/spec/dataSource: must NOT have additional properties "snapshotName"',
    ],
  ];

  test.each(typos)('%s with %s', (kind, _field, spoil, expected) => {
    const obj = pick(kind);
    expect(strict.validate(obj)).toEqual([]);
    spoil(obj);
    // Without the forcing the typo passes: this is the hole the forcing closes.
    expect(upstream.validate(obj)).toEqual([]);
    expect(strict.validate(obj)).toContain(expected);
  });

  test('addon params stay free-form (x-kubernetes-preserve-unknown-fields)', () => {
    const obj = pick('BackupConfiguration');
    obj.spec.sessions[0].addon.tasks[0].params = { anything: 'goes', nested: { too: 'yes' } };
    expect(strict.validate(obj)).toEqual([]);
  });

  test('wrong types, enums and int32 ranges fail with or without the forcing', () => {
    const obj = pick('RetentionPolicy');
    obj.spec.failedSnapshots.last = 'two';
    obj.spec.successfulSnapshots.last = 2 ** 31;
    obj.spec.usagePolicy.allowedNamespaces.from = 'Everywhere';
    for (const validator of [strict, upstream]) {
      expect(validator.validate(obj)).toEqual(
        expect.arrayContaining([
          '/spec/failedSnapshots/last: must be integer',
          '/spec/successfulSnapshots/last: must match format "int32"',
          '/spec/usagePolicy/allowedNamespaces/from: must be equal to one of the allowed values',
        ]),
      );
    }
  });

  test('an object of a kind no CRD defines is reported, not passed', () => {
    expect(strict.validate({ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'Backup' })).toEqual([
      '(root): no CRD defines Backup in core.kubestash.com/v1alpha1',
    ]);
  });
});

describe('property: any valid retention and backup names give objects that validate', () => {
  const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  const count = fc.integer({ min: 1, max: 2 ** 31 - 1 });
  const period = fc
    .array(
      fc.tuple(fc.integer({ min: 1, max: 9999 }), fc.constantFrom('y', 'mo', 'w', 'd', 'h', 'm')),
      { minLength: 1, maxLength: 4 },
    )
    .map((parts) => parts.map(([n, unit]) => `${n}${unit}`).join(''));

  test('buildManifests output validates against the CRDs (closed) and metadata rules', () => {
    fc.assert(
      fc.property(
        fc.record({
          retentionName: dnsLabel,
          backupName: dnsLabel,
          sessionName: dnsLabel,
          counts: fc.record(
            {
              last: count,
              hourly: count,
              daily: count,
              weekly: count,
              monthly: count,
              yearly: count,
            },
            { requiredKeys: ['last'] },
          ),
          failed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          period,
        }),
        (gen) => {
          const config = exampleConfig((c) => {
            c.kubernetes.retention = {
              name: gen.retentionName,
              successfulSnapshots: gen.counts,
              failedSnapshots: { last: gen.failed },
              maxRetentionPeriod: gen.period,
            };
            c.kubernetes.backups[0].name = gen.backupName;
            c.kubernetes.backups[0].sessionName = gen.sessionName;
            c.kubernetes.restores[0].from = gen.backupName;
          });
          const { objects } = synthConfig(config);
          expect(kubestashProblems(objects)).toEqual({});
          const retention = ofKind(objects, 'RetentionPolicy')[0];
          expect(retention.spec.successfulSnapshots).toEqual(gen.counts);
          expect(retention.spec.maxRetentionPeriod).toBe(gen.period);
        },
      ),
      { numRuns: 50 },
    );
  });
});
