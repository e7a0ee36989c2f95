import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { parsePackageArgs } from '../../bin/package';
import { PackageError, quickCreateUrl, s3ObjectUrl } from '../../bin/package-target';
import { MOTO_CLIENT_CONFIG, startMotoServer } from '../support/moto-server';
import type { MotoServer } from '../support/moto-server';
import { PROJECT_DIR } from '../support/example-app';

/**
 * `npm run package` as a user runs it (a child process), against moto's S3
 * and STS through the SDK's own AWS_ENDPOINT_URL. moto does not model bucket
 * policies or a CloudFormation console: the link is checked for its form.
 */
const run = promisify(execFile);
const BUCKET = 'kubestash-artifacts';
const PREFIX = 'releases/v1/';

let moto: MotoServer;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMotoServer();
  s3 = new S3Client({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  s3.destroy();
  await moto.stop();
});

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function npmRunPackage(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    'AWS_PROFILE',
    'AWS_SESSION_TOKEN',
    'AWS_DEFAULT_REGION',
    'KUBESTASH_IRSA_CONFIG_FILE',
  ]) {
    delete base[name];
  }
  try {
    const { stdout, stderr } = await run(
      path.join(PROJECT_DIR, 'node_modules', '.bin', 'tsx'),
      [path.join(PROJECT_DIR, 'bin', 'package.ts'), ...args],
      {
        cwd: PROJECT_DIR,
        maxBuffer: 16 * 1024 * 1024,
        env: {
          ...base,
          AWS_ENDPOINT_URL: moto.endpoint,
          AWS_ACCESS_KEY_ID: 'testing',
          AWS_SECRET_ACCESS_KEY: 'testing',
          AWS_REGION: 'us-east-1',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...env,
        },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function objectText(key: string): Promise<string> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await answer.Body?.transformToString()) ?? '';
}

/** Every `Code`/`Content` location of the template that names an S3 object. */
function s3References(node: unknown, found: { bucket: unknown; key: unknown }[] = []) {
  if (Array.isArray(node)) node.forEach((n) => s3References(n, found));
  else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if ('S3Bucket' in record || 'S3Key' in record)
      found.push({ bucket: record.S3Bucket, key: record.S3Key });
    Object.values(record).forEach((n) => s3References(n, found));
  }
  return found;
}

describe('npm run package against moto S3', () => {
  test('publishes the template and every asset it references under the prefix, prints a well-formed quick-create link, and re-runs without re-uploading', async () => {
    const first = await npmRunPackage(['--bucket', BUCKET, '--prefix', PREFIX]);
    expect(first).toMatchObject({ code: 0 });
    const lines = first.stdout.trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^config used: CDK app/));
    for (const step of ['[1/4]', '[2/4]', '[3/4]', '[4/4]']) {
      expect(lines.some((l) => l.startsWith(step))).toBe(true);
    }

    // The link: console, region, URL-encoded template URL, stack name, a param_ per parameter.
    const link = new URL(lines[lines.length - 1]);
    expect(link.origin + link.pathname).toBe('https://console.aws.amazon.com/cloudformation/home');
    expect(link.searchParams.get('region')).toBe('us-east-1');
    const [route, query] = link.hash.split('?');
    expect(route).toBe('#/stacks/quickcreate');
    expect(query).not.toMatch(/https:\/\//); // encoded, not raw
    const params = new URLSearchParams(query);
    expect(params.get('stackName')).toBe('KubestashIrsa');
    const templateUrl = new URL(params.get('templateURL') ?? '');
    expect(templateUrl.host).toBe(`${BUCKET}.s3.us-east-1.amazonaws.com`);
    const templateKey = decodeURIComponent(templateUrl.pathname.slice(1));
    expect(templateKey).toMatch(/^releases\/v1\/[0-9a-f]{64}\.json$/);

    // The uploaded template is the console template, and what it references exists.
    const template = JSON.parse(await objectText(templateKey)) as {
      Parameters: Record<string, { Default?: unknown }>;
      Resources: Record<string, unknown>;
    };
    expect(template.Parameters.BootstrapVersion).toBeUndefined();
    for (const [name, p] of Object.entries(template.Parameters)) {
      expect({ name, value: params.get(`param_${name}`) }).toEqual({
        name,
        value: String(p.Default),
      });
    }
    const references = s3References(template.Resources);
    expect(references.length).toBeGreaterThanOrEqual(4);
    for (const ref of references) {
      expect(ref.bucket).toBe(BUCKET);
      expect(ref.key).toEqual(expect.stringMatching(/^releases\/v1\/[0-9a-f]{64}\.zip$/));
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: ref.key as string }));
      expect(head.ContentLength).toBeGreaterThan(22); // more than an empty zip
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const keys = (listed.Contents ?? []).map((o) => o.Key);
    expect(keys.every((k) => k?.startsWith(PREFIX))).toBe(true);
    expect(keys.sort()).toEqual(
      [...new Set([templateKey, ...references.map((r) => r.key as string)])].sort(),
    );
    expect(first.stdout).toContain(`${keys.length} objects: ${keys.length} uploaded, 0 unchanged`);

    // Same config, same bytes: nothing is sent again, and the link is the same.
    const second = await npmRunPackage(['--bucket', BUCKET, '--prefix', PREFIX]);
    expect(second).toMatchObject({ code: 0 });
    expect(second.stdout).toContain(`${keys.length} objects: 0 uploaded, ${keys.length} unchanged`);
    expect(second.stdout).not.toMatch(/^ {2}upload /m);
    expect(second.stdout.trim().split('\n').pop()).toBe(link.href);
  }, 600_000);

  /** Failures stop before synthesis with one line naming the field, the value and the fix. */
  function expectOneLineError(outcome: Outcome, pattern: RegExp) {
    expect(outcome.code).toBe(1);
    const errorLines = outcome.stderr.trim().split('\n');
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/^npm run package: /);
    expect(errorLines[0]).toMatch(pattern);
  }

  test('a bucket that does not exist', async () => {
    expectOneLineError(
      await npmRunPackage(['--bucket', 'no-such-artifacts']),
      /--bucket no-such-artifacts: no such bucket; create it with `aws s3 mb s3:\/\/no-such-artifacts --region us-east-1`/,
    );
  });

  test('a bucket in another region than the stack', async () => {
    const west = new S3Client({
      ...MOTO_CLIENT_CONFIG,
      region: 'eu-west-1',
      endpoint: moto.endpoint,
      forcePathStyle: true,
    });
    await west.send(
      new CreateBucketCommand({
        Bucket: 'artifacts-in-ireland',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    west.destroy();
    expectOneLineError(
      await npmRunPackage(['--bucket', 'artifacts-in-ireland']),
      /--bucket artifacts-in-ireland: the bucket is in eu-west-1, not us-east-1; .*pass --region eu-west-1/,
    );
  });

  test('no credentials anywhere', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'no-aws-'));
    expectOneLineError(
      await npmRunPackage(['--bucket', BUCKET], {
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        HOME: home,
        AWS_CONFIG_FILE: path.join(home, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
      }),
      /AWS credentials: none found; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
  });

  test('a missing --bucket names the flag and the usage', async () => {
    expectOneLineError(
      await npmRunPackage([]),
      /--bucket: missing; .*usage: npm run package -- --bucket/,
    );
  });
});

describe('npm run package pieces', () => {
  test('arguments in both spellings; the prefix gets its trailing "/"', () => {
    expect(
      parsePackageArgs([
        '--bucket=b-1',
        '--prefix',
        'a/b',
        '--region',
        'eu-west-1',
        '-c',
        'config.x=1=2',
      ]),
    ).toEqual({
      bucket: 'b-1',
      prefix: 'a/b/',
      region: 'eu-west-1',
      stackName: undefined,
      context: { 'config.x': '1=2' },
    });
    expect(parsePackageArgs(['--bucket', 'b-1']).prefix).toBe('kubestash-irsa/');
    for (const argv of [
      ['--bucket', 'Bad_Name'],
      ['--bucket', 'b-1', '--prefix', '/x'],
      ['--bucket'],
      ['stray'],
    ]) {
      expect(() => parsePackageArgs(argv)).toThrow(PackageError);
    }
  });

  test('object URLs: virtual-hosted, or path style when the name has a "."', () => {
    expect(s3ObjectUrl('b-1', 'eu-west-1', 'p/k.json')).toBe(
      'https://b-1.s3.eu-west-1.amazonaws.com/p/k.json',
    );
    expect(s3ObjectUrl('a.b', 'eu-west-1', 'k.json')).toBe(
      'https://s3.eu-west-1.amazonaws.com/a.b/k.json',
    );
  });

  test('the quick-create link encodes every value, so commas, slashes and spaces survive', () => {
    const link = new URL(
      quickCreateUrl({
        region: 'eu-west-1',
        templateUrl: 'https://b.s3.eu-west-1.amazonaws.com/p/t.json',
        stackName: 'S',
        parameters: { AllowedNamespaces: 'demo,db', Prefix: 'a/b c&d' },
      }),
    );
    const params = new URLSearchParams(link.hash.split('?')[1]);
    expect(params.get('templateURL')).toBe('https://b.s3.eu-west-1.amazonaws.com/p/t.json');
    expect(params.get('param_AllowedNamespaces')).toBe('demo,db');
    expect(params.get('param_Prefix')).toBe('a/b c&d');
    expect(link.searchParams.get('region')).toBe('eu-west-1');
  });
});
