import fc from 'fast-check';
import {
  derivedRoleIndex,
  derivedRoleName,
  maxSeedNameLength,
  roleArn,
} from '../../../lambda/domain/iam-names';
import { policySize } from '../../../lambda/domain/policy-size';
import {
  namespaceWildcardSubject,
  parseSubject,
  serviceAccountSubject,
} from '../../../lambda/domain/subject';

describe('iam-names', () => {
  test('derived role names round-trip, and only canonical forms count', () => {
    fc.assert(
      fc.property(
        fc.nat(100000),
        (i) => derivedRoleIndex('KubestashRole', derivedRoleName('KubestashRole', i)) === i,
      ),
    );
    expect(derivedRoleIndex('KubestashRole', 'KubestashRole-01')).toBeUndefined();
    expect(derivedRoleIndex('KubestashRole', 'KubestashRole-backup')).toBeUndefined();
    expect(derivedRoleIndex('KubestashRole', 'KubestashRole2-0')).toBeUndefined();
    expect(derivedRoleIndex('KubestashRole', 'KubestashRole-')).toBeUndefined();
    expect(() => derivedRoleName('S', -1)).toThrow(RangeError);
  });

  test('the longest seed name leaves room for the widest suffix in 64 characters', () => {
    expect(maxSeedNameLength(100)).toBe(61);
    expect(maxSeedNameLength(10)).toBe(62);
    expect(maxSeedNameLength(1000)).toBe(60);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (limit) => {
        const seed = 'S'.repeat(maxSeedNameLength(limit));
        expect(derivedRoleName(seed, limit - 1).length).toBeLessThanOrEqual(64);
      }),
    );
  });

  test('role ARNs carry the path', () => {
    expect(roleArn('aws', '111122223333', '/kubestash-irsa/', 'KubestashRole-0')).toBe(
      'arn:aws:iam::111122223333:role/kubestash-irsa/KubestashRole-0',
    );
  });
});

describe('subjects', () => {
  test('build and parse', () => {
    expect(serviceAccountSubject('demo', 'app-restore-restore')).toBe(
      'system:serviceaccount:demo:app-restore-restore',
    );
    expect(parseSubject('system:serviceaccount:demo:app')).toEqual({
      namespace: 'demo',
      name: 'app',
    });
    expect(parseSubject('system:serviceaccount:demo:')).toBeUndefined();
    expect(parseSubject('system:node:x')).toBeUndefined();
    expect(namespaceWildcardSubject('demo')).toBe('system:serviceaccount:demo:*');
  });
});

describe('policySize', () => {
  test('counts what is not whitespace, as IAM does', () => {
    expect(policySize('{ "a" :\n\t"b c" }')).toBe(10);
    fc.assert(
      fc.property(
        fc.json(),
        (json) =>
          policySize(JSON.stringify(JSON.parse(json), null, 2)) ===
          policySize(JSON.stringify(JSON.parse(json))),
      ),
      {
        numRuns: 200,
      },
    );
  });
});
