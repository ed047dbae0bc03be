import { describe, expect, it } from 'vitest';
import { learningRateAt, LEARNING_RATE_SCHEDULES, scheduleBudgetSetting, type LearningRateSchedule } from './learning-rate-schedule.js';

describe('learningRateAt', () => {
  it('warms up linearly, then holds a constant rate', () => {
    const spec = { learningRate: 0.004, warmupSteps: 4, schedule: 'constant' as const };
    expect([1, 2, 3, 4, 5, 1000].map((step) => learningRateAt(spec, step, 10))).toEqual([0.001, 0.002, 0.003, 0.004, 0.004, 0.004]);
  });

  it('is the plain rate at every step without warm-up (constant)', () => {
    const spec = { learningRate: 0.003, warmupSteps: 0, schedule: 'constant' as const };
    for (const step of [1, 2, 50, 10_000]) expect(learningRateAt(spec, step, 100)).toBe(0.003);
  });

  it('decays as the inverse square root after the warm-up', () => {
    const spec = { learningRate: 1e-3, warmupSteps: 100, schedule: 'inverse-sqrt' as const };
    expect(learningRateAt(spec, 100, 1000)).toBeCloseTo(1e-3, 15);
    expect(learningRateAt(spec, 400, 1000)).toBeCloseTo(5e-4, 15);
    expect(learningRateAt(spec, 10_000, 1000)).toBeCloseTo(1e-4, 15);
  });

  it('follows a half cosine from the end of the warm-up to 0 at the budget, and stays at 0 after it', () => {
    const spec = { learningRate: 0.002, warmupSteps: 0, schedule: 'cosine' as const };
    expect(learningRateAt(spec, 0, 1000)).toBe(0);
    expect(learningRateAt(spec, 250, 1000)).toBeCloseTo(0.001 * (1 + Math.SQRT1_2), 15);
    expect(learningRateAt(spec, 500, 1000)).toBeCloseTo(0.001, 15);
    expect(learningRateAt(spec, 1000, 1000)).toBeCloseTo(0, 15);
    expect(learningRateAt(spec, 1500, 1000)).toBeCloseTo(0, 15);
    const warm = { learningRate: 0.002, warmupSteps: 100, schedule: 'cosine' as const };
    expect(learningRateAt(warm, 50, 1100)).toBeCloseTo(0.001, 15);
    expect(learningRateAt(warm, 600, 1100)).toBeCloseTo(0.001, 15);
  });

  it('lists every schedule it knows', () => {
    expect(LEARNING_RATE_SCHEDULES).toEqual(['constant', 'inverse-sqrt', 'cosine']);
  });

  it('makes the epoch budget a checkpoint setting exactly where the curve depends on it', () => {
    // cosine: the rate at a step differs between budgets; the others: it does not
    const curve = (schedule: LearningRateSchedule, epochs: number) => Array.from({ length: 20 }, (_, i) => learningRateAt({ learningRate: 1, warmupSteps: 2, schedule }, i + 1, epochs * 10));
    for (const schedule of LEARNING_RATE_SCHEDULES) {
      const depends = JSON.stringify(curve(schedule, 2)) !== JSON.stringify(curve(schedule, 5));
      expect(scheduleBudgetSetting(schedule, 5)).toEqual(depends ? { epochs: 5 } : {});
    }
    expect(scheduleBudgetSetting('cosine', 7)).toEqual({ epochs: 7 });
  });
});
