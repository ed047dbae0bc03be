/**
 * Learning-rate schedules shared by the model packages: a linear warm-up, then a constant rate, an
 * inverse-square-root decay or a cosine decay to 0 at the end of the step budget.
 */

/** The schedules {@link learningRateAt} knows. */
export type LearningRateSchedule = 'constant' | 'inverse-sqrt' | 'cosine';

/** Every {@link LearningRateSchedule}, in the order options list them. */
export const LEARNING_RATE_SCHEDULES: readonly LearningRateSchedule[] = ['constant', 'inverse-sqrt', 'cosine'];

/** The fields of a schedule: the peak rate, the warm-up length in steps and the decay after it. */
export interface LearningRateScheduleSpec {
  /** The rate reached at the end of the warm-up (the constant rate of `'constant'`). */
  learningRate: number;
  /** Steps of linear warm-up from `learningRate / warmupSteps` to `learningRate` (0 = none). */
  warmupSteps: number;
  /** What follows the warm-up. */
  schedule: LearningRateSchedule;
}

/**
 * The learning rate of a step: linear warm-up to `learningRate` over `warmupSteps`, then constant,
 * `learningRate x sqrt(warmupSteps / step)` (`'inverse-sqrt'`, from the end of the warm-up) or a
 * cosine decay to 0 at `totalSteps` (`'cosine'`; steps past `totalSteps` stay at 0).
 *
 * @param spec - the schedule's fields
 * @param step - 1-based step number
 * @param totalSteps - the steps of the whole budget (epochs x steps per epoch)
 * @returns the learning rate
 * @example
 * ```ts
 * learningRateAt({ learningRate: 1e-3, warmupSteps: 100, schedule: 'inverse-sqrt' }, 400, 1000); // 5e-4
 * learningRateAt({ learningRate: 1e-3, warmupSteps: 0, schedule: 'cosine' }, 500, 1000); // 5e-4
 * ```
 */
export function learningRateAt(spec: LearningRateScheduleSpec, step: number, totalSteps: number): number {
  const { learningRate, warmupSteps, schedule } = spec;
  if (step <= warmupSteps) return (learningRate * step) / Math.max(1, warmupSteps);
  if (schedule === 'constant') return learningRate;
  if (schedule === 'inverse-sqrt') return learningRate * Math.sqrt(Math.max(1, warmupSteps) / step);
  const span = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / span);
  return learningRate * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/**
 * The epoch budget as a setting a training checkpoint must share with the run that resumes it, where
 * the schedule depends on it: `{ epochs }` for `'cosine'` (it decays to 0 at the end of the budget,
 * so another budget draws another curve), nothing for `'constant'` and `'inverse-sqrt'` (a resumed
 * run may train longer or shorter on the same curve).
 *
 * @example
 * ```ts
 * const settings = { ...hyperParameters, ...scheduleBudgetSetting(spec.schedule, spec.epochs) };
 * ```
 */
export function scheduleBudgetSetting(schedule: LearningRateSchedule, epochs: number): { epochs?: number } {
  return schedule === 'cosine' ? { epochs } : {};
}
