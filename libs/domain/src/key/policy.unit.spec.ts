import {
  CryptoperiodPolicyError,
  DESTRUCTION_WAIT_DEFAULT_DAYS,
  InvalidInputError,
  WaitingPeriodError,
  resolveCryptoperiod,
  validateWaitingPeriod,
} from '../index.js';

describe('cryptoperiod policy', () => {
  it.each([
    ['dek', 90],
    ['kek', 365],
    ['root', 730],
  ] as const)('a %s protects for %i days by default and processes 3 years longer', (purpose, oupDays) => {
    expect(resolveCryptoperiod(purpose, null)).toEqual({ oupDays, rupDays: oupDays + 1095, deviation: null });
  });

  it.each(['dek', 'kek'] as const)('a %s may protect for up to 730 days (Table 1), not one more', (purpose) => {
    expect(resolveCryptoperiod(purpose, 730)).toEqual({ oupDays: 730, rupDays: 1825, deviation: null });
    expect(() => resolveCryptoperiod(purpose, 731)).toThrow(CryptoperiodPolicyError);
  });

  it('a root within Table 1 is no deviation', () => {
    expect(resolveCryptoperiod('root', 730).deviation).toBeNull();
  });

  it.each([731, 1095, 1826])('a root protecting for %i days is a documented deviation', (days) => {
    const policy = resolveCryptoperiod('root', days);
    expect(policy).toMatchObject({ oupDays: days, rupDays: days + 1095 });
    expect(policy.deviation).toContain(`${days} days exceeds the SP 800-57 Part 1 Table 1 maximum of 730 days`);
  });

  it('a root may not protect for more than 5 years', () => {
    const when = () => resolveCryptoperiod('root', 1827);
    expect(when).toThrow(CryptoperiodPolicyError);
    expect(when).toThrow(/at most 1826 days/);
  });

  it('the overrun is reported with the numbers', () => {
    try {
      resolveCryptoperiod('kek', 800);
      throw new Error('expected a refusal');
    } catch (e) {
      expect(e).toBeInstanceOf(CryptoperiodPolicyError);
      expect((e as CryptoperiodPolicyError).details).toEqual({ purpose: 'kek', requestedDays: 800, maximumDays: 730 });
    }
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a cryptoperiod of %p days', (days) => {
    expect(() => resolveCryptoperiod('dek', days)).toThrow(InvalidInputError);
  });

  it('accepts one day', () => {
    expect(resolveCryptoperiod('dek', 1)).toEqual({ oupDays: 1, rupDays: 1096, deviation: null });
  });
});

describe('destruction waiting period', () => {
  it('defaults to 7 days, which the default minimum accepts', () => {
    expect(DESTRUCTION_WAIT_DEFAULT_DAYS).toBe(7);
    expect(validateWaitingPeriod(DESTRUCTION_WAIT_DEFAULT_DAYS, 7)).toBe(7);
  });

  it.each([7, 15, 30])('accepts %i days', (days) => {
    expect(validateWaitingPeriod(days, 7)).toBe(days);
  });

  it.each([6, 31, 0, -1, 7.5, Number.NaN])('refuses %p days under the default minimum', (days) => {
    expect(() => validateWaitingPeriod(days, 7)).toThrow(WaitingPeriodError);
  });

  it('an operator-lowered minimum allows shorter waits, down to that minimum', () => {
    expect(validateWaitingPeriod(1, 1)).toBe(1);
    expect(validateWaitingPeriod(0, 0)).toBe(0);
    expect(() => validateWaitingPeriod(0, 1)).toThrow('Waiting period must be between 1 and 30 days, got 0');
  });

  it('the maximum stays 30 days whatever the minimum', () => {
    expect(() => validateWaitingPeriod(31, 0)).toThrow(WaitingPeriodError);
  });

  it.each([8, -1, 2.5])('refuses a configured minimum of %p', (minimum) => {
    expect(() => validateWaitingPeriod(10, minimum)).toThrow(InvalidInputError);
  });
});
