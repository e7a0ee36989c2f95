import { policySize } from '../../../lambda/domain/policy-size';
import {
  TrustPolicyParseError,
  TrustPolicySizer,
  decodePolicyDocument,
  issuerOfProviderArn,
  parseTrustPolicy,
  renderEmptyTrustPolicy,
  renderTrustPolicy,
} from '../../../lambda/domain/trust-policy';

const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/9F3A7C1B5D8E42A6C91E0F2B4A7D6C8E';
const PROVIDER = {
  providerArn: `arn:aws:iam::748392615204:oidc-provider/${ISSUER}`,
  issuer: ISSUER,
};

// Seed 002, "Derived role trust policy example", as printed there.
const SEED_002_DERIVED = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Federated": "arn:aws:iam::748392615204:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/9F3A7C1B5D8E42A6C91E0F2B4A7D6C8E"
      },
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringLike": {
          "oidc.eks.us-east-1.amazonaws.com/id/9F3A7C1B5D8E42A6C91E0F2B4A7D6C8E:sub": [
            "system:serviceaccount:demo:pg-backup-1772006820",
            "system:serviceaccount:demo:mongo-backup-177300719"
          ],
          "oidc.eks.us-east-1.amazonaws.com/id/9F3A7C1B5D8E42A6C91E0F2B4A7D6C8E:aud": "sts.amazonaws.com"
        }
      }
    }
  ]
}`;

describe('trust policy model', () => {
  test('parses seed 002’s derived role, URL-encoded as IAM returns it, and as plain JSON', () => {
    for (const raw of [encodeURIComponent(SEED_002_DERIVED), SEED_002_DERIVED]) {
      const parsed = parseTrustPolicy(raw);
      expect(parsed.unrecognized).toEqual([]);
      expect(parsed.operators).toEqual(new Set(['StringLike']));
      expect(parsed.grants).toEqual(
        new Map([
          [
            PROVIDER.providerArn,
            [
              'system:serviceaccount:demo:pg-backup-1772006820',
              'system:serviceaccount:demo:mongo-backup-177300719',
            ],
          ],
        ]),
      );
    }
  });

  test('renders the same meaning canonically: same JSON as the seed, minified, subjects sorted', () => {
    const rendered = renderTrustPolicy(
      [
        {
          provider: PROVIDER,
          subjects: [
            'system:serviceaccount:demo:pg-backup-1772006820',
            'system:serviceaccount:demo:mongo-backup-177300719',
          ],
        },
      ],
      'StringLike',
    );
    const seed = JSON.parse(SEED_002_DERIVED);
    const sub = `${ISSUER}:sub`;
    seed.Statement[0].Condition.StringLike[sub].sort();
    expect(JSON.parse(rendered)).toEqual(seed);
    expect(rendered).not.toMatch(/\s/);
    // IAM counts the non-whitespace characters: the pretty seed and the canonical form measure alike.
    expect(policySize(SEED_002_DERIVED)).toBe(rendered.length);
  });

  test('seed 000 §6.3: KubestashRole-0 with three subjects', () => {
    const issuer = 'oidc.eks.us-east-1.amazonaws.com/id/Q0ZSA571J0QD87D390GCC678A40480HE';
    const provider = { providerArn: `arn:aws:iam::453903318604:oidc-provider/${issuer}`, issuer };
    const subjects = [
      'system:serviceaccount:demo:sample-backup-daemon-demo-session-1778072138',
      'system:serviceaccount:demo:sample-backup-daemon-demo-session-1778072402',
      'system:serviceaccount:demo:app-restore-restore',
    ];
    const doc = renderTrustPolicy([{ provider, subjects }], 'StringLike');
    expect(parseTrustPolicy(doc).grants.get(provider.providerArn)).toEqual([...subjects].sort());
    expect(policySize(doc)).toBeLessThan(2048);
  });

  test('one statement per provider, ordered by provider ARN; providers without subjects get none', () => {
    const b = { providerArn: 'arn:aws:iam::1:oidc-provider/b', issuer: 'b' };
    const a = { providerArn: 'arn:aws:iam::1:oidc-provider/a', issuer: 'a' };
    const doc = JSON.parse(
      renderTrustPolicy(
        [
          { provider: b, subjects: ['system:serviceaccount:x:y'] },
          { provider: a, subjects: ['system:serviceaccount:x:z'] },
          {
            provider: { providerArn: 'arn:aws:iam::1:oidc-provider/c', issuer: 'c' },
            subjects: [],
          },
        ],
        'StringEquals',
      ),
    );
    expect(
      doc.Statement.map((s: { Principal: { Federated: string } }) => s.Principal.Federated),
    ).toEqual([a.providerArn, b.providerArn]);
    expect(Object.keys(doc.Statement[0].Condition)).toEqual(['StringEquals']);
  });

  test('the empty role trusts nobody, and is recognised as such', () => {
    const parsed = parseTrustPolicy(renderEmptyTrustPolicy(PROVIDER));
    expect(parsed).toMatchObject({ emptyMarker: true, unrecognized: [] });
    expect(parsed.grants.size).toBe(0);
  });

  test('names what it does not recognise', () => {
    const doc = JSON.parse(SEED_002_DERIVED);
    doc.Statement.push({
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::1:root' },
      Action: 'sts:AssumeRole',
    });
    doc.Statement[0].Condition.StringLike['aws:SourceIp'] = '10.0.0.0/8';
    const parsed = parseTrustPolicy(JSON.stringify(doc));
    expect(parsed.unrecognized).toEqual([
      'statement 1: condition keys aws:SourceIp',
      'statement 2: not a web-identity statement for one OIDC provider',
    ]);
    expect(parsed.grants.get(PROVIDER.providerArn)).toHaveLength(2);
  });

  test('tolerates a single subject as a string, Statement as an object, and drops duplicate subjects', () => {
    const doc = JSON.parse(SEED_002_DERIVED);
    doc.Statement = doc.Statement[0];
    doc.Statement.Condition.StringLike[`${ISSUER}:sub`] = 'system:serviceaccount:demo:a';
    expect(parseTrustPolicy(JSON.stringify(doc)).grants.get(PROVIDER.providerArn)).toEqual([
      'system:serviceaccount:demo:a',
    ]);
    const dup = JSON.parse(SEED_002_DERIVED);
    dup.Statement[0].Condition.StringLike[`${ISSUER}:sub`] = [
      'system:serviceaccount:demo:a',
      'system:serviceaccount:demo:a',
    ];
    expect(parseTrustPolicy(JSON.stringify(dup)).grants.get(PROVIDER.providerArn)).toEqual([
      'system:serviceaccount:demo:a',
    ]);
  });

  // Issue 11 point 6: hand-edited forms that IAM honours must keep their subjects.
  // AWS's own IRSA example puts aud under StringEquals and sub under StringLike
  // (https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html);
  // ForAnyValue: on the single-valued sub key grants the same subjects
  // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html);
  // action and condition key names are case-insensitive
  // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html).
  const SUBJECTS = ['system:serviceaccount:demo:a', 'system:serviceaccount:demo:b'];
  const handEdited: [string, (statement: Record<string, any>) => void, string][] = [
    [
      'the AWS-documentation form (aud under StringEquals, sub under StringLike)',
      (st) =>
        (st.Condition = {
          StringEquals: { [`${ISSUER}:aud`]: 'sts.amazonaws.com' },
          StringLike: { [`${ISSUER}:sub`]: SUBJECTS },
        }),
      'condition is not one StringLike or StringEquals block (StringEquals, StringLike)',
    ],
    [
      'an Action list with sts:TagSession',
      (st) => (st.Action = ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession']),
      'actions besides sts:AssumeRoleWithWebIdentity (sts:TagSession)',
    ],
    [
      'ForAnyValue:StringLike',
      (st) =>
        (st.Condition = {
          'ForAnyValue:StringLike': {
            [`${ISSUER}:sub`]: SUBJECTS,
            [`${ISSUER}:aud`]: 'sts.amazonaws.com',
          },
        }),
      'condition is not one StringLike or StringEquals block (ForAnyValue:StringLike)',
    ],
    [
      'an action and condition keys in another case',
      (st) => {
        st.Action = 'STS:AssumeRoleWithWebIdentity';
        st.Condition = {
          StringLike: {
            [`${ISSUER}:SUB`]: SUBJECTS,
            [`${ISSUER}:aud`]: 'sts.amazonaws.com',
          },
        };
      },
      `condition key ${ISSUER}:SUB`,
    ],
  ];
  test.each(handEdited)('keeps the subjects of %s, and marks it for repair', (_n, edit, why) => {
    const doc = JSON.parse(SEED_002_DERIVED);
    doc.Statement[0].Condition.StringLike[`${ISSUER}:sub`] = SUBJECTS;
    edit(doc.Statement[0]);
    const parsed = parseTrustPolicy(encodeURIComponent(JSON.stringify(doc)));
    expect(parsed.grants.get(PROVIDER.providerArn)).toEqual(SUBJECTS);
    expect(parsed.unrecognized).toContain(`statement 1: ${why}`);
  });

  test('garbage is a parse error, not an empty policy', () => {
    expect(() => parseTrustPolicy('%7Bnot json')).toThrow(TrustPolicyParseError);
    expect(() => parseTrustPolicy('%E0%A4%A')).toThrow(/neither JSON nor URL-encoded/);
    expect(() => parseTrustPolicy('[]')).toThrow(/not a JSON object/);
    expect(decodePolicyDocument('  {"a":1}')).toEqual({ a: 1 });
  });

  test('issuerOfProviderArn', () => {
    expect(issuerOfProviderArn(PROVIDER.providerArn)).toBe(ISSUER);
    expect(issuerOfProviderArn('arn:aws:iam::1:role/x')).toBeUndefined();
  });

  test('the size arithmetic matches the rendering exactly', () => {
    const sizer = new TrustPolicySizer('StringLike');
    const subjects = [
      'system:serviceaccount:demo:a',
      'system:serviceaccount:prod:bb',
      'system:serviceaccount:x:ccc',
    ];
    let size = sizer.documentBase + sizer.statementCost(PROVIDER, 0);
    subjects.forEach((s, i) => (size += sizer.subjectCost(TrustPolicySizer.quotedLength(s), i)));
    expect(size).toBe(renderTrustPolicy([{ provider: PROVIDER, subjects }], 'StringLike').length);
  });
});
