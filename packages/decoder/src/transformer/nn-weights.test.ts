import { Rng } from '@genrec/core';
import { Trainer, nn, ops, optimizers, type Graph } from '@genrec/nn';
import { describe, expect, it } from 'vitest';
import { causalTransformerWeightShapes, resolveCausalTransformerSpec } from './causal-spec.js';
import { CausalTransformerStepModel } from './causal-transformer-step-model.js';
import { resolveTransformerSpec, transformerWeightShapes } from './spec.js';
import { TransformerStepModel } from './transformer-step-model.js';

/*
 * The canonical layout end to end: models built and trained a few steps with @genrec/nn's
 * builders, their `Trainer.parameterValues()` handed to the step models unchanged, give the logits
 * of nn's own inference graph.
 */

function maxDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(actual[i]! - expected[i]!));
  return max;
}

const users = 4;
const sourceLength = 7;

/** Contexts `users x sourceLength`, left-padded with 0, tokens in 3..vocabulary-1. */
function contexts(seed: number, vocabulary: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: users }, (_, user) => Array.from({ length: sourceLength }, (_, c) => (c < [3, 0, 5, 1][user]! ? 0 : 3 + rng.int(vocabulary - 3))));
}

function int64(values: readonly number[]): BigInt64Array {
  return BigInt64Array.from(values, (v) => BigInt(v));
}

describe('weights trained with @genrec/nn load unchanged', () => {
  it('TransformerStepModel gives nn.encoderDecoderTransformer logits (two variants, within 1e-4)', async () => {
    const variants: nn.EncoderDecoderTransformerConfig[] = [
      // TIGER-like: no biases, tied output, relu, head width x heads != d
      { vocabularySize: 19, modelDimension: 8, heads: 3, headDimension: 4, feedForwardDimension: 16, encoderLayers: 2, decoderLayers: 2, maxSourceLength: 9, maxTargetLength: 4, dropout: 0.1 },
      { vocabularySize: 19, modelDimension: 8, heads: 2, feedForwardDimension: 12, encoderLayers: 1, decoderLayers: 2, maxSourceLength: 7, maxTargetLength: 4, bias: true, tieOutput: false, activation: 'gelu', layerNormEpsilon: 1e-3 },
    ];
    for (const [v, config] of variants.entries()) {
      const source = contexts(10 + v, config.vocabularySize);
      const targets = Array.from({ length: users }, (_, user) => [1, 3 + user, 7 + ((user * 5) % 9), 4 + user]);
      const build = (g: Graph) => {
        const src = g.input('source', 'int64', [users, sourceLength]);
        const tgt = g.input('target', 'int64', [users, 3]);
        const labels = g.input('labels', 'int64', [users * 3]);
        const { logits } = nn.encoderDecoderTransformer(g, config, { source: src, target: tgt });
        return { loss: ops.softmaxCrossEntropy(ops.reshape(logits, [users * 3, config.vocabularySize]), labels) };
      };
      const trainer = await Trainer.create({ build, optimizer: optimizers.adamw({ weightDecay: 0.01 }), seed: 3 + v, intraOpNumThreads: 1 });
      const feeds = { source: int64(source.flat()), target: int64(targets.flatMap((t) => t.slice(0, 3))), labels: int64(targets.flatMap((t) => t.slice(1))) };
      const losses: number[] = [];
      for (let s = 0; s < 4; s++) losses.push((await trainer.step(feeds, { learningRate: 3e-2 })).loss);
      expect(losses[3]).toBeLessThan(losses[0]!); // it did train

      // every trained parameter is a decoder weight of the same size, every required one is there
      const values = trainer.parameterValues();
      const shapes = transformerWeightShapes(resolveTransformerSpec(config));
      for (const [name, value] of values) expect(value.length).toBe(shapes.find((s) => s.name === name)!.shape.reduce((a, b) => a * b, 1));
      for (const { name, optional } of shapes) if (!optional) expect(values.has(name)).toBe(true);

      const model = await TransformerStepModel.create({ spec: config, weights: values, workers: 0 });
      const inference = await trainer.compileInference((g) => {
        const src = g.input('source', 'int64', [users, sourceLength]);
        const tgt = g.input('target', 'int64', [users, 4]);
        return { logits: nn.encoderDecoderTransformer(g, config, { source: src, target: tgt }).logits };
      });
      try {
        const expected = (await inference.run({ source: int64(source.flat()), target: int64(targets.flat()) })).logits as Float32Array;
        const V = config.vocabularySize;
        const session = await model.encode({ tokens: Int32Array.from(source.flat()), batchSize: users, length: sourceLength });
        const identity = Int32Array.from({ length: users }, (_, r) => r);
        let worst = 0;
        for (let t = 0; t < 4; t++) {
          const logits = await session.step(Int32Array.from(targets.map((target) => target[t]!)), t === 0 ? null : identity, 1, t === 3);
          for (let user = 0; user < users; user++) {
            worst = Math.max(worst, maxDifference(logits.subarray(user * V, (user + 1) * V), expected.subarray((user * 4 + t) * V, (user * 4 + t + 1) * V)));
          }
        }
        expect(worst).toBeLessThan(1e-4);
      } finally {
        await model.dispose();
        await inference.release();
        await trainer.release();
      }
    }
  });

  it('CausalTransformerStepModel gives nn.causalTransformer logits (both position modes, within 1e-4)', async () => {
    const variants: nn.CausalTransformerConfig[] = [
      { vocabularySize: 19, modelDimension: 8, heads: 3, headDimension: 4, feedForwardDimension: 16, layers: 2, maxLength: 11, dropout: 0.1 },
      { vocabularySize: 19, modelDimension: 8, heads: 2, feedForwardDimension: 12, layers: 3, maxLength: 10, positions: 'sequence', bias: true, tieOutput: false, activation: 'gelu' },
    ];
    const generated = 3;
    const total = sourceLength + generated; // context, then tokens 1..3 of the next item
    for (const [v, config] of variants.entries()) {
      const context = contexts(20 + v, config.vocabularySize);
      const sequences = context.map((row, user) => [...row, 3 + user, 8 + ((user * 3) % 7), 5 + user]);
      const build = (g: Graph) => {
        const tokens = g.input('tokens', 'int64', [users, total]);
        const labels = g.input('labels', 'int64', [users * total]);
        const { logits } = nn.causalTransformer(g, config, tokens);
        return { loss: ops.softmaxCrossEntropy(ops.reshape(logits, [users * total, config.vocabularySize]), labels) };
      };
      const trainer = await Trainer.create({ build, optimizer: optimizers.adamw({ weightDecay: 0.01 }), seed: 5 + v, intraOpNumThreads: 1 });
      // next-token labels; padding positions and the last one ignored
      const labels = sequences.flatMap((row) => row.map((token, c) => (c + 1 < row.length && token !== 0 ? row[c + 1]! : -100)));
      const feeds = { tokens: int64(sequences.flat()), labels: int64(labels) };
      const losses: number[] = [];
      for (let s = 0; s < 4; s++) losses.push((await trainer.step(feeds, { learningRate: 3e-2 })).loss);
      expect(losses[3]).toBeLessThan(losses[0]!);

      const values = trainer.parameterValues();
      const shapes = causalTransformerWeightShapes(resolveCausalTransformerSpec(config));
      for (const name of values.keys()) expect(shapes.some((s) => s.name === name)).toBe(true);
      const model = await CausalTransformerStepModel.create({ spec: config, weights: values, workers: 1 });
      const inference = await trainer.compileInference((g) => ({ logits: nn.causalTransformer(g, config, g.input('tokens', 'int64', [users, total])).logits }));
      try {
        const expected = (await inference.run({ tokens: int64(sequences.flat()) })).logits as Float32Array;
        const V = config.vocabularySize;
        const session = await model.encode({ tokens: Int32Array.from(context.flat()), batchSize: users, length: sourceLength });
        const identity = Int32Array.from({ length: users }, (_, r) => r);
        let worst = 0;
        for (let t = 0; t <= generated; t++) {
          // step 0 reads no token (the logits follow the context's last one); step t feeds token t
          const tokens = Int32Array.from(sequences.map((row) => (t === 0 ? 1 : row[sourceLength + t - 1]!)));
          const logits = await session.step(tokens, t === 0 ? null : identity, 1, t === generated);
          const column = sourceLength - 1 + t;
          for (let user = 0; user < users; user++) {
            worst = Math.max(worst, maxDifference(logits.subarray(user * V, (user + 1) * V), expected.subarray((user * total + column) * V, (user * total + column + 1) * V)));
          }
        }
        expect(worst).toBeLessThan(1e-4);
      } finally {
        await model.dispose();
        await inference.release();
        await trainer.release();
      }
    }
  });
});
