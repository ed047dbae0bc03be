import { GenrecError } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import {
  composeLogitsProcessors,
  historyMaskProcessor,
  repetitionPenaltyProcessor,
  temperatureProcessor,
  topKProcessor,
  topPProcessor,
  type LogitsProcessorContext,
} from './logits-processors.js';

const NEG = Number.NEGATIVE_INFINITY;

function context(rows: number, vocabularySize: number, beamsPerUser = 1, generated: number[] = [], step = 0): LogitsProcessorContext {
  return { step, rows, vocabularySize, beamsPerUser, generated: Int32Array.from(generated), generatedStride: Math.max(1, step) };
}

describe('logits processors', () => {
  it('temperature divides every logit', () => {
    const logits = Float32Array.of(1, -2, 4, 0.5);
    temperatureProcessor(2)(logits, context(1, 4));
    expect(Array.from(logits)).toEqual([0.5, -1, 2, 0.25]);
    expect(() => temperatureProcessor(0)).toThrow(GenrecError);
  });

  it('top-k keeps the k largest of each row (ties at the cut kept)', () => {
    const logits = Float32Array.of(1, 5, 3, 2, /* row 2 */ 0, 0, 1, -1);
    topKProcessor(2)(logits, context(2, 4));
    expect(Array.from(logits)).toEqual([NEG, 5, 3, NEG, 0, 0, 1, NEG]);
  });

  it('top-p keeps the smallest most-likely set reaching p (hand-computed)', () => {
    // probabilities of log(0.5), log(0.3), log(0.15), log(0.05)
    const logits = Float32Array.from([0.3, 0.05, 0.5, 0.15].map(Math.log));
    topPProcessor(0.75)(logits, context(1, 4));
    expect(Array.from(logits).map((v) => (v === NEG ? 'x' : 'kept'))).toEqual(['kept', 'x', 'kept', 'x']);
    const wider = Float32Array.from([0.3, 0.05, 0.5, 0.15].map(Math.log));
    topPProcessor(0.81)(wider, context(1, 4));
    expect(Array.from(wider).map((v) => (v === NEG ? 'x' : 'kept'))).toEqual(['kept', 'x', 'kept', 'kept']);
    expect(() => topPProcessor(0)).toThrow(GenrecError);
  });

  it('repetition penalty scales the logits of already generated tokens once each', () => {
    // 2 rows, step 2: row 0 generated [1, 1], row 1 generated [2, 3]
    const logits = Float32Array.of(1, 2, -2, 4, /* row 1 */ 1, 2, -2, 4);
    repetitionPenaltyProcessor(2)(logits, context(2, 4, 2, [1, 1, 2, 3], 2));
    expect(Array.from(logits)).toEqual([1, 1, -2, 4, 1, 2, -4, 2]);
    const masked = Float32Array.of(1, 2, 3);
    repetitionPenaltyProcessor(Number.POSITIVE_INFINITY)(masked, context(1, 3, 1, [2], 1));
    expect(Array.from(masked)).toEqual([1, 2, NEG]);
  });

  it('history mask forbids per-user tokens on every row of that user, optionally only at some steps', () => {
    const logits = new Float32Array(4 * 3); // 2 users x 2 beams x 3 tokens
    historyMaskProcessor([[0], [2, 1]])(logits, context(4, 3, 2));
    expect(Array.from(logits)).toEqual([NEG, 0, 0, NEG, 0, 0, 0, NEG, NEG, 0, NEG, NEG]);
    const untouched = new Float32Array(3);
    historyMaskProcessor([[0]], [1])(untouched, context(1, 3));
    expect(Array.from(untouched)).toEqual([0, 0, 0]);
  });

  it('composes in order', () => {
    const logits = Float32Array.of(2, 8, 4);
    composeLogitsProcessors([temperatureProcessor(2), topKProcessor(1)])(logits, context(1, 3));
    expect(Array.from(logits)).toEqual([NEG, 4, NEG]);
  });
});
