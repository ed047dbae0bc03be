import { GenrecError } from '@genrec/core';

/** Step order, input checks and the ancestor rows of every earlier position of one session. */
export class StepTracker {
  /** Per earlier position j: the row of step j each current row descends from. */
  readonly ancestors: Int32Array[] = [];
  step = 0;
  beams = 0;
  closed = false;

  constructor(
    readonly batchSize: number,
    readonly vocabularySize: number,
    /** Steps the model supports. */
    readonly maxSteps: number,
  ) {}

  /**
   * Checks one step's input and moves the ancestors to the new rows.
   *
   * @returns the row count
   * @throws GenrecError `INVALID_INPUT` / `SHAPE_MISMATCH` for a bad step.
   */
  advance(tokens: Int32Array, parents: Int32Array | null, beamsPerUser: number): number {
    if (this.closed) throw new GenrecError('INVALID_INPUT', 'step() on a disposed session or after a final step');
    if (!Number.isInteger(beamsPerUser) || beamsPerUser <= 0) throw new GenrecError('INVALID_INPUT', `beamsPerUser must be a positive integer, got ${beamsPerUser}`);
    const rows = this.batchSize * beamsPerUser;
    if (tokens.length !== rows) throw new GenrecError('SHAPE_MISMATCH', `step got ${tokens.length} tokens, expected batchSize x beamsPerUser = ${rows}`);
    const step = this.step;
    if (step >= this.maxSteps) throw new GenrecError('INVALID_INPUT', `step ${step} is beyond the ${this.maxSteps} steps the model supports`);
    for (let row = 0; row < rows; row++) {
      const token = tokens[row]!;
      if (!Number.isInteger(token) || token < 0 || token >= this.vocabularySize) throw new GenrecError('INVALID_INPUT', `token ${token} of row ${row} is outside the vocabulary`);
    }
    if (parents === null) {
      if (step > 0) throw new GenrecError('INVALID_INPUT', 'parents are required after the first step of a session');
      return rows;
    }
    if (step === 0) throw new GenrecError('INVALID_INPUT', 'parents given at the first step of a session (pass null)');
    if (parents.length !== rows) throw new GenrecError('SHAPE_MISMATCH', `step got ${parents.length} parents, expected ${rows}`);
    for (let row = 0; row < rows; row++) {
      const parent = parents[row]!;
      if (!Number.isInteger(parent) || Math.floor(parent / this.beams) !== Math.floor(row / beamsPerUser)) {
        throw new GenrecError('INVALID_INPUT', `parent ${parent} of row ${row} is not a row of the same user at the previous step`);
      }
    }
    const ancestors = this.ancestors;
    for (let j = 0; j < ancestors.length; j++) {
      const previous = ancestors[j]!;
      const next = new Int32Array(rows);
      for (let row = 0; row < rows; row++) next[row] = previous[parents[row]!]!;
      ancestors[j] = next;
    }
    ancestors.push(parents.slice());
    return rows;
  }

  /** Marks the step done. */
  done(beamsPerUser: number): void {
    this.step++;
    this.beams = beamsPerUser;
  }
}
