import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../bin/plan';

const EXAMPLES = path.resolve(__dirname, '..', '..', 'examples', 'plan');

function run(args: string[], files: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = main(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    readFile: (p) => {
      if (p in files) return files[p];
      return fs.readFileSync(p, 'utf8');
    },
  });
  return { code, out, err };
}

describe('npm run plan', () => {
  test.each(fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')))(
    '%s plans cleanly',
    (file) => {
      const { code, out, err } = run([path.join(EXAMPLES, file)]);
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(out).toMatch(
        /^Trust-policy quota: 2048 characters\n\nROLE +ACTION +SUBJECTS +SIZE +FILL\n/,
      );
    },
  );

  test('the table shows fill and what would change', () => {
    const { out } = run([path.join(EXAMPLES, 'near-full.json')]);
    expect(out).toMatch(/KubestashRole-0 +update +22 +2045\/2048 +100%/);
    expect(out).toContain(
      'Would create 0, update 2, delete 0 role(s); annotate 5 and refuse 1 ServiceAccount(s); 43 granted in all.',
    );
    expect(out).toContain('prod-cluster/kube-system/stray: NamespaceNotAllowed');
  });

  test('--json prints the whole plan with the rendered documents', () => {
    const { code, out } = run([path.join(EXAMPLES, 'seed-000-demo.json'), '--json']);
    expect(code).toBe(0);
    const plan = JSON.parse(out);
    expect(plan.creates[0].roleName).toBe('KubestashRole-0');
    expect(JSON.parse(plan.creates[0].trustPolicy).Statement[0].Action).toBe(
      'sts:AssumeRoleWithWebIdentity',
    );
  });

  test('bad state files name the JSON path, the value and the fix', () => {
    const bad = {
      seeds: [{ name: 'S', arn: 'not-an-arn', path: 'kubestash', clusters: [] }],
      allowedNamespaces: ['demo'],
      serviceAccounts: [{ cluster: 'c', namespace: 'demo', name: 'x', seedRole: 'S', extra: 1 }],
    };
    const { code, err } = run(['bad.json'], { 'bad.json': JSON.stringify(bad) });
    expect(code).toBe(2);
    expect(err).toContain('bad.json is not a valid state file:');
    expect(err).toContain(
      '$.seeds[0].arn: the seed role ARN, arn:aws:iam::<account>:role/<name> (got "not-an-arn")',
    );
    expect(err).toContain(
      '$.seeds[0].path: an IAM path that begins and ends with "/" (got "kubestash")',
    );
    expect(err).toContain('$.seeds[0].clusters: list at least one cluster (got [])');
    expect(err).toContain(
      '$.serviceAccounts[0].extra: unknown key "extra"; remove it (known keys here: cluster, namespace, name, seedRole, roleArn) (got 1)',
    );
  });

  // Issue 11 point 8: the validator's raw text ("Invalid input: expected string, received
  // undefined", "Unrecognized key: \"nmae\"") named no fix.
  test('a missing field, a wrong type and a misspelled key each name the path, the value and the fix', () => {
    const bad = {
      seeds: [
        {
          nmae: 'KubestashRole',
          arn: 'arn:aws:iam::111122223333:role/KubestashRole',
          path: '/kubestash-irsa/',
          clusters: [{ name: 'prod', providerArn: 7, issuer: 'oidc.example/id/X' }],
        },
      ],
      allowedNamespaces: ['demo'],
    };
    const { code, err } = run(['bad.json'], { 'bad.json': JSON.stringify(bad) });
    expect(code).toBe(2);
    expect(err).toContain('bad.json is not a valid state file:');
    expect(err).toContain('$.seeds[0].name: required: add "name" with a string (missing)');
    expect(err).toContain('$.seeds[0].nmae: unknown key "nmae"; did you mean "name"? Rename it');
    expect(err).toMatch(
      /\$\.seeds\[0\]\.clusters\[0\]\.providerArn: expected a string, not a number.*\(got 7\)/,
    );
    expect(err).not.toMatch(/Invalid input|Unrecognized key/);
  });

  // Issue 11 point 5: a role listed twice was planned as two updates of one role,
  // the second trusting nobody while its ServiceAccounts stayed assigned to it.
  test('entries listed twice are refused with the JSON path of both', () => {
    const state = JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'near-full.json'), 'utf8'));
    const role = state.roles[0];
    const seed = state.seeds[0];
    const sa = state.serviceAccounts[0];
    const cases: [string, (s: typeof state) => void, string][] = [
      [
        'role',
        (s) => s.roles.push({ ...role, trustPolicy: '{}' }),
        `$.roles[${state.roles.length}]: the same role name (ignoring case, as IAM does) as $.roles[0]`,
      ],
      [
        'role in another case',
        (s) => s.roles.push({ ...role, name: role.name.toUpperCase() }),
        `$.roles[${state.roles.length}]: the same role name (ignoring case, as IAM does) as $.roles[0]`,
      ],
      [
        'seed',
        (s) => s.seeds.push({ ...seed, roleCreationLimit: 1 }),
        '$.seeds[1]: the same seed name (ignoring case, as IAM does) as $.seeds[0]',
      ],
      [
        'cluster of a seed',
        (s) => s.seeds[0].clusters.push({ ...seed.clusters[0], name: 'other' }),
        `$.seeds[0].clusters[${seed.clusters.length}]: the same OIDC provider as $.seeds[0].clusters[0]`,
      ],
      [
        'ServiceAccount',
        (s) => s.serviceAccounts.push({ ...sa, roleArn: undefined }),
        `$.serviceAccounts[${state.serviceAccounts.length}]: the same ServiceAccount (cluster, namespace and name) as $.serviceAccounts[0]`,
      ],
    ];
    for (const [, modify, problem] of cases) {
      const copy = structuredClone(state);
      modify(copy);
      const { code, err } = run(['dup.json'], { 'dup.json': JSON.stringify(copy) });
      expect({ code, err }).toEqual({ code: 2, err: expect.stringContaining(problem) });
      expect(err).toContain('list each once');
    }
  });

  test('unreadable files, bad JSON and bad usage are clear errors', () => {
    expect(run(['/nonexistent/state.json'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/cannot read \/nonexistent\/state.json/),
    });
    expect(run(['x.json'], { 'x.json': '{ nope' })).toMatchObject({
      code: 2,
      err: expect.stringMatching(/x.json is not valid JSON/),
    });
    expect(run([])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^usage: npm run plan -- <state.json> \[--json\]/),
    });
  });
});
