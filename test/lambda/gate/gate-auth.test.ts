import fc from 'fast-check';
import {
  MIN_TOKEN_LENGTH,
  authenticatedCluster,
  tokenDigests,
} from '../../../lambda/gate/gate-auth';

const CURRENT = 'C'.repeat(40);
const PREVIOUS = 'P'.repeat(40);
const { digests } = tokenDigests(
  new Map([
    ['prod', [CURRENT, PREVIOUS]],
    ['dr', ['D'.repeat(48)]],
  ]),
);

describe('authenticatedCluster', () => {
  test('the current and the previous token authenticate their own cluster only', () => {
    expect(authenticatedCluster(`/clusters/prod/${CURRENT}`, digests)).toBe('prod');
    expect(authenticatedCluster(`/clusters/prod/${PREVIOUS}/`, digests)).toBe('prod');
    expect(authenticatedCluster(`/clusters/dr/${'D'.repeat(48)}`, digests)).toBe('dr');
    expect(authenticatedCluster(`/clusters/dr/${CURRENT}`, digests)).toBeUndefined();
    expect(authenticatedCluster(`/clusters/unknown/${CURRENT}`, digests)).toBeUndefined();
    expect(authenticatedCluster('/clusters/prod', digests)).toBeUndefined();
  });

  test('property: no path but the exact /clusters/<cluster>/<its token>[/] authenticates', () => {
    const known = [
      `/clusters/prod/${CURRENT}`,
      `/clusters/prod/${PREVIOUS}`,
      `/clusters/dr/${'D'.repeat(48)}`,
    ];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.constantFrom(...known).chain((p) =>
            fc.tuple(fc.nat(p.length - 1), fc.string({ minLength: 1, maxLength: 3 })).map(
              // A known path with characters changed or added somewhere.
              ([at, text]) => p.slice(0, at) + text + p.slice(at + 1),
            ),
          ),
        ),
        (path) => {
          const cluster = authenticatedCluster(path, digests);
          const exact = known.includes(path.replace(/\/$/, ''));
          expect(cluster !== undefined).toBe(exact);
        },
      ),
    );
  });

  test('a token shorter than the minimum is reported and never accepted', () => {
    const short = 'S'.repeat(MIN_TOKEN_LENGTH - 1);
    const weak = tokenDigests(new Map([['prod', [short, CURRENT]]]));
    expect(weak.rejected).toEqual(['prod']);
    expect(authenticatedCluster(`/clusters/prod/${short}`, weak.digests)).toBeUndefined();
    expect(authenticatedCluster(`/clusters/prod/${CURRENT}`, weak.digests)).toBe('prod');
  });

  test('an empty store accepts nothing, not even an empty or dummy-looking token', () => {
    const none = tokenDigests(new Map()).digests;
    fc.assert(
      fc.property(fc.string(), fc.string(), (cluster, token) => {
        expect(authenticatedCluster(`/clusters/${cluster}/${token}`, none)).toBeUndefined();
      }),
    );
  });
});
