import { Rng } from '@genrec/core';
import { CompiledGraph, Graph, checkGradients, ops, type SymbolicTensor } from '@genrec/nn';
import { describe, expect, it } from 'vitest';
import { buildPreferenceLoss, mixSupervisedLoss, resolvePreferenceLoss, type PreferenceLoss } from './losses.js';

/** The losses written out from their papers' formulas, in plain float64 JavaScript. */
function handLoss(loss: PreferenceLoss, policy: number[][], reference: number[][], beta: number, epsilon: number): number {
  const logSigmoid = (z: number) => -Math.log1p(Math.exp(-z));
  let total = 0;
  let count = 0;
  policy.forEach((row, u) => {
    const r = row.map((p, j) => p - reference[u]![j]!);
    const margins = r.slice(1).map((rj) => r[0]! - rj);
    if (loss === 'sdpo') {
      total += -logSigmoid(-Math.log(margins.reduce((s, h) => s + Math.exp(-beta * h), 0)));
      count++;
      return;
    }
    for (const h of margins) {
      if (loss === 'dpo') total += -logSigmoid(beta * h);
      if (loss === 'cdpo') total += -(1 - epsilon) * logSigmoid(beta * h) - epsilon * logSigmoid(-beta * h);
      if (loss === 'ipo') total += (h - 1 / (2 * beta)) ** 2;
      count++;
    }
  });
  return total / count;
}

async function graphLoss(loss: PreferenceLoss, policy: number[][], reference: number[][], beta: number, epsilon: number): Promise<number> {
  const users = policy.length;
  const candidates = policy[0]!.length;
  const g = new Graph({ training: false });
  const p = g.input('policy', 'float32', [users, candidates]);
  const q = g.input('reference', 'float32', [users, candidates]);
  const out = buildPreferenceLoss(p, q, { loss, beta, labelSmoothing: epsilon });
  const compiled = await CompiledGraph.create(g, { outputs: [out], outputNames: ['loss'], intraOpNumThreads: 1 });
  const result = await compiled.run({ policy: Float32Array.from(policy.flat()), reference: Float32Array.from(reference.flat()) });
  await compiled.release();
  return Number(result.loss![0]);
}

function randomLogProbs(rng: Rng, users: number, candidates: number, spread: number): number[][] {
  return Array.from({ length: users }, () => Array.from({ length: candidates }, () => -1 - spread * rng.uniform()));
}

describe('preference losses', () => {
  const losses: PreferenceLoss[] = ['dpo', 'cdpo', 'ipo', 'sdpo'];

  it.each(losses)('%s equals its hand computation (1 and 3 rejected, several β)', async (loss) => {
    const rng = new Rng(11);
    for (const [candidates, beta, spread] of [
      [2, 0.1, 3],
      [4, 1, 3],
      [4, 5, 8], // large β h: the stable log-sigmoid matters
    ] as const) {
      // Math.fround: the graph sees float32 inputs
      const policy = randomLogProbs(rng, 5, candidates, spread).map((row) => row.map(Math.fround));
      const reference = randomLogProbs(rng, 5, candidates, spread).map((row) => row.map(Math.fround));
      const expected = handLoss(loss, policy, reference, beta, 0.2);
      const got = await graphLoss(loss, policy, reference, beta, 0.2);
      expect(Math.abs(got - expected)).toBeLessThan(1e-5 * Math.max(1, Math.abs(expected)));
    }
  });

  it('known values: at policy = reference DPO is ln 2, IPO is 1/(4β²); S-DPO with one rejected is DPO', async () => {
    const same = [[-2, -3], [-1.5, -4]];
    expect(await graphLoss('dpo', same, same, 0.1, 0)).toBeCloseTo(Math.LN2, 6);
    expect(await graphLoss('cdpo', same, same, 0.1, 0.3)).toBeCloseTo(Math.LN2, 6);
    expect(await graphLoss('ipo', same, same, 0.5, 0)).toBeCloseTo(1, 6);
    expect(await graphLoss('sdpo', [[-1, -2, -3]], [[-1, -2, -3]], 1, 0)).toBeCloseTo(Math.log(3), 6);
    const policy = [[-1, -3], [-2.5, -0.5]];
    const reference = [[-2, -2], [-2, -2]];
    // h = (1 - (-1)) = 2 and (-0.5 - 1.5) = -2, β = 1: mean(softplus(-2), softplus(2))
    const expected = (Math.log1p(Math.exp(-2)) + Math.log1p(Math.exp(2))) / 2;
    expect(await graphLoss('dpo', policy, reference, 1, 0)).toBeCloseTo(expected, 5);
    expect(await graphLoss('sdpo', policy, reference, 1, 0)).toBeCloseTo(expected, 5);
  });

  it.each(losses)('%s gradients through a small model match finite differences (float64)', async (loss) => {
    // a small model: user vectors x item vectors -> log-softmax over 6 items -> log π of 3 candidates per user
    const users = 3;
    const items = 6;
    const dimension = 4;
    const candidates = Int32Array.from([2, 5, 0, 1, 3, 4, 4, 0, 5]); // column 0 chosen (0-based item indices)
    const offsets = BigInt64Array.from(candidates, (c, i) => BigInt(Math.floor(i / 3) * items + c));
    const reference = Float64Array.from({ length: users * 3 }, (_, i) => -1.5 - 0.3 * Math.sin(i));
    const build = (g: Graph, [userVectors, itemVectors]: SymbolicTensor[]) => {
      const logits = ops.matMul(userVectors!, ops.transpose(itemVectors!)); // [users, items]
      const logp = ops.reshape(ops.logSoftmax(logits, -1), [users * items]);
      const policy = ops.gather(logp, g.constant(offsets, [users, 3], 'int64'));
      return buildPreferenceLoss(policy, g.constant(reference, [users, 3], 'float64'), { loss, beta: 0.7, labelSmoothing: 0.2 });
    };
    const result = await checkGradients(build, [{ shape: [users, dimension] }, { shape: [items, dimension] }], { seed: 5 });
    expect(result.checked).toBe((users + items) * dimension);
    expect(result.maxError).toBeLessThan(1e-6);
    // not vacuous: the gradient is not zero
    expect(Math.max(...result.analytic.flatMap((a) => Array.from(a, Math.abs)))).toBeGreaterThan(1e-3);
  });

  it('mixes the supervised loss by λ', async () => {
    const g = new Graph({ training: false });
    const a = g.input('a', 'float32', []);
    const b = g.input('b', 'float32', []);
    const w = g.input('w', 'float32', []);
    const fixed = mixSupervisedLoss(a, b, 0.25);
    const fed = mixSupervisedLoss(a, b, w, w);
    const compiled = await CompiledGraph.create(g, { outputs: [fixed, fed], outputNames: ['fixed', 'fed'], intraOpNumThreads: 1 });
    const out = await compiled.run({ a: Float32Array.of(2), b: Float32Array.of(8), w: Float32Array.of(0.5) });
    await compiled.release();
    expect(out.fixed![0]).toBeCloseTo(2 + 0.25 * 8, 6);
    expect(out.fed![0]).toBeCloseTo(0.5 * 2 + 0.5 * 8, 6);
    expect(() => mixSupervisedLoss(a, b, -1)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  it('rejects bad options and shapes', () => {
    expect(resolvePreferenceLoss()).toEqual({ loss: 'dpo', beta: 0.1, labelSmoothing: 0.1 });
    const bad = [{ loss: 'kto' }, { beta: 0 }, { beta: Number.NaN }, { labelSmoothing: 0.5 }, { labelSmoothing: -0.1 }];
    for (const options of bad) expect(() => resolvePreferenceLoss(options as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    const g = new Graph();
    const one = g.input('one', 'float32', [4, 1]);
    const two = g.input('two', 'float32', [4, 2]);
    const three = g.input('three', 'float32', [4, 3]);
    expect(() => buildPreferenceLoss(one, one)).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => buildPreferenceLoss(two, three)).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
  });
});
