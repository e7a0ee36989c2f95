import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

const DIR = path.join(__dirname, '../fixtures/kubestash-objects');

type Json = Record<string, unknown>;

/** One fixture file: the ServiceAccount it describes and, where there is one, the Job that runs as it. */
export interface KubestashObjects {
  readonly file: string;
  readonly serviceAccount: {
    readonly metadata: {
      readonly name: string;
      readonly namespace: string;
      readonly annotations?: Record<string, string>;
    };
  };
  readonly job?: {
    readonly metadata: { readonly name: string; readonly namespace: string } & Json;
    readonly spec: {
      readonly template: { readonly spec: { readonly serviceAccountName: string } & Json } & Json;
    } & Json;
  } & Json;
}

/** Reads `test/fixtures/kubestash-objects/<file>` (see its README for where each shape comes from). */
export function kubestashObjects(file: string): KubestashObjects {
  const docs = parseAllDocuments(fs.readFileSync(path.join(DIR, file), 'utf8')).map(
    (d) => d.toJS() as Json,
  );
  const serviceAccount = docs.find((d) => d.kind === 'ServiceAccount');
  if (serviceAccount === undefined) throw new Error(`${file}: no ServiceAccount`);
  const job = docs.find((d) => d.kind === 'Job');
  return {
    file,
    serviceAccount: serviceAccount as unknown as KubestashObjects['serviceAccount'],
    ...(job === undefined ? {} : { job: job as unknown as NonNullable<KubestashObjects['job']> }),
  };
}

/** The Job of a fixture as the API server sends it to an admission webhook on CREATE. */
export function admissionReviewOf(job: Json, uid = 'review-uid'): Json {
  const metadata = job.metadata as { namespace: string };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: 'batch', version: 'v1', kind: 'Job' },
      resource: { group: 'batch', version: 'v1', resource: 'jobs' },
      operation: 'CREATE',
      namespace: metadata.namespace,
      object: job,
      dryRun: false,
    },
  };
}
