import { describe, expect, it } from 'vitest';
import { klDivergence, preferenceDiagnostics } from './pair-diagnostics.js';

describe('preferenceDiagnostics (TRL names)', () => {
  it('matches a hand computation with two rejected candidates', () => {
    // user 0: chosen -1 (ref -2), rejected -3 (ref -2.5) and -4 (ref -3); user 1: chosen -2 (ref -1.5), rejected -1 (ref -2) and -5 (ref -5)
    const policy = [-1, -3, -4, -2, -1, -5];
    const reference = [-2, -2.5, -3, -1.5, -2, -5];
    const beta = 0.5;
    // chosen rewards: 0.5 * 1 = 0.5 and 0.5 * -0.5 = -0.25
    // rejected rewards: 0.5 * -0.5 = -0.25, 0.5 * -1 = -0.5, 0.5 * 1 = 0.5, 0
    // margins: 0.75, 1, -0.75, -0.25; accurate: 2 of 4
    expect(preferenceDiagnostics(policy, reference, 3, beta)).toEqual({
      'rewards/chosen': (0.5 - 0.25) / 2,
      'rewards/rejected': (-0.25 - 0.5 + 0.5 + 0) / 4,
      'rewards/accuracies': 0.5,
      'rewards/margins': (0.75 + 1 - 0.75 - 0.25) / 4,
      'logps/chosen': (-1 - 2) / 2,
      'logps/rejected': (-3 - 4 - 1 - 5) / 4,
    });
  });

  it('is zero (margins, rewards, accuracies) when the policy is the reference', () => {
    const logp = [-1.25, -2.5, -0.75, -3, -2, -2];
    const d = preferenceDiagnostics(logp, logp, 2, 0.1);
    expect(d['rewards/margins']).toBe(0);
    expect(d['rewards/chosen']).toBe(0);
    expect(d['rewards/rejected']).toBe(0);
    expect(d['rewards/accuracies']).toBe(0);
    expect(d['logps/chosen']).toBeCloseTo((-1.25 - 0.75 - 2) / 3, 12);
  });

  it('rejects arrays that are not whole rows', () => {
    expect(() => preferenceDiagnostics([1, 2, 3], [1, 2, 3], 2, 0.1)).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => preferenceDiagnostics([1, 2], [1, 2], 1, 0.1)).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
  });
});

describe('klDivergence', () => {
  it('matches a hand computation and renormalises each row', () => {
    const expected = 0.5 * Math.log(0.5 / 0.9) + 0.5 * Math.log(0.5 / 0.1);
    expect(klDivergence([Math.log(0.5), Math.log(0.5)], [Math.log(0.9), Math.log(0.1)], 2)).toBeCloseTo(expected, 12);
    // unnormalised rows (a generative model's mass on ids outside the catalogue) give the same value
    expect(klDivergence([Math.log(0.25), Math.log(0.25)], [Math.log(0.45), Math.log(0.05)], 2)).toBeCloseTo(expected, 12);
    // mean over users
    expect(klDivergence([0, 0, Math.log(0.5), Math.log(0.5)], [0, 0, Math.log(0.9), Math.log(0.1)], 2)).toBeCloseTo(expected / 2, 12);
  });

  it('is 0 for identical distributions', () => {
    const logp = [-0.1, -2.4, -5, -1, -1, -1];
    expect(klDivergence(logp, logp, 3)).toBe(0);
  });
});
