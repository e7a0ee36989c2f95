import fc from 'fast-check';
import { policyFill, policySize } from '../../../lambda/domain/policy-size';

describe('policyFill', () => {
  test('examples: empty, one short of the quota, exactly full, over', () => {
    expect(policyFill(0, 2048)).toBe(0);
    expect(policyFill(2047, 2048)).toBe(99.9);
    expect(policyFill(2048, 2048)).toBe(100);
    expect(policyFill(4096, 2048)).toBe(200);
  });

  test('100 only when the document reaches the quota, and never more than the exact share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.nat(10_000), (quota, size) => {
        const fill = policyFill(size, quota);
        expect(fill).toBeLessThanOrEqual((100 * size) / quota);
        expect(fill).toBeGreaterThan((100 * size) / quota - 0.1 - 1e-9);
        expect(fill >= 100).toBe(size >= quota);
        expect(policyFill(size + 1, quota)).toBeGreaterThanOrEqual(fill);
      }),
    );
  });

  test('counts what policySize counts: a document at the quota is 100% however it is spaced', () => {
    const doc = JSON.stringify({ a: 'x'.repeat(40) }, null, 2);
    expect(policyFill(policySize(doc), policySize(doc))).toBe(100);
  });

  test('a quota that is not positive is an error naming the value', () => {
    expect(() => policyFill(1, 0)).toThrow('policyFill: the quota must be positive, got 0');
  });
});
