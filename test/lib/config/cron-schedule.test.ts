import fc from 'fast-check';
import { cronProblem } from '../../../lib/config/cron-schedule';

describe('cronProblem', () => {
  test.each([
    '*/5 * * * *',
    '13 */2 * * *',
    '@daily',
    '@hourly',
    '0 0 1 JAN *',
    '0 3 * * 1-5',
    '0 3 * * mon-fri',
    '0,30 8-18/2 * * *',
    '59 23 31 12 7',
    '0 0 ? * SUN',
  ])('accepts %s', (schedule) => {
    expect(cronProblem(schedule)).toBeUndefined();
  });

  test.each([
    ['0 24 * * *', 'hour "24": "24" is outside 0-23'],
    ['0 0 0 * *', 'day of month "0": "0" is outside 1-31'],
    ['0 0 * 13 *', 'month "13": "13" is outside 1-12 (or JAN-DEC)'],
    ['*/0 * * * *', 'minute "*/0": step "0" is not a positive number'],
    ['1/2/3 * * * *', 'minute "1/2/3": use at most one "/"'],
    ['1-2-3 * * * *', 'minute "1-2-3": "1-2-3" is not a value or a range'],
    ['@often', '"@often" has 1 fields'],
  ])('refuses %s: %s', (schedule, message) => {
    expect(cronProblem(schedule)).toContain(message);
  });

  test('any in-range minute and hour are accepted, any out-of-range minute refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 23 }), (m, h) => {
        expect(cronProblem(`${m} ${h} * * *`)).toBeUndefined();
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 60, max: 10_000 }), (m) => {
        expect(cronProblem(`${m} * * * *`)).toContain(`minute "${m}"`);
      }),
    );
  });
});
