import { GenrecError } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { Graph } from '../graph/graph.js';
import * as ops from '../graph/ops.js';
import { CompiledGraph } from '../runtime/compiled-graph.js';
import { optimizers } from '../train/optimizers.js';
import { Trainer } from '../train/trainer.js';
import { causalParameterShapes, encoderDecoderParameterShapes, resolveCausalConfig, type CausalTransformerConfig, type EncoderDecoderTransformerConfig } from './transformer-config.js';
import { causalTransformer, encoderDecoderTransformer } from './transformer-models.js';

const small: EncoderDecoderTransformerConfig = {
  vocabularySize: 13,
  modelDimension: 8,
  heads: 3,
  headDimension: 4,
  feedForwardDimension: 10,
  encoderLayers: 2,
  decoderLayers: 1,
  maxSourceLength: 6,
  maxTargetLength: 4,
};

const causal: CausalTransformerConfig = { vocabularySize: 13, modelDimension: 8, heads: 2, headDimension: 3, feedForwardDimension: 10, layers: 2, maxLength: 9 };

function declared(graph: Graph): Array<[string, number[]]> {
  return graph.parameters.map((p) => [p.tensor.name, [...p.tensor.shape]]);
}

function listed(shapes: Array<{ name: string; shape: number[] }>): Array<[string, number[]]> {
  return shapes.map((p) => [p.name, p.shape]);
}

function errorOf(action: () => unknown): GenrecError {
  try {
    action();
  } catch (error) {
    if (GenrecError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a GenrecError');
}

describe('canonical Transformer models: parameter names and shapes', () => {
  it('the encoder-decoder declares exactly the listed parameters, in order, for every bias / tie choice', () => {
    for (const bias of [false, true]) {
      for (const tieOutput of [true, false]) {
        const config = { ...small, bias, tieOutput };
        const g = new Graph({ training: false });
        encoderDecoderTransformer(g, config, { source: g.input('source', 'int64', [2, 5]), target: g.input('target', 'int64', [2, 3]) });
        expect(declared(g)).toEqual(listed(encoderDecoderParameterShapes(config)));
        expect(g.parameters.some((p) => p.tensor.name === 'output.weight')).toBe(!tieOutput);
        expect(g.parameters.some((p) => p.tensor.name === 'encoder.layers.1.ffn.fc2.bias')).toBe(bias);
      }
    }
    // the listing with every optional parameter is a superset
    const every = encoderDecoderParameterShapes(small, { everyOptional: true }).map((p) => p.name);
    for (const name of ['output.weight', 'output.bias', 'decoder.layers.0.cross_attn.out.bias', 'encoder.norm.bias']) expect(every).toContain(name);
    expect(every.length).toBe(encoderDecoderParameterShapes({ ...small, bias: true, tieOutput: false }).length);
  });

  it('the decoder-only model declares exactly the listed parameters, in order', () => {
    for (const bias of [false, true]) {
      for (const tieOutput of [true, false]) {
        for (const positions of ['column', 'sequence'] as const) {
          const config = { ...causal, bias, tieOutput, positions };
          const g = new Graph({ training: false });
          causalTransformer(g, config, g.input('tokens', 'int64', [2, 7]));
          expect(declared(g)).toEqual(listed(causalParameterShapes(config)));
        }
      }
    }
    expect(listed(causalParameterShapes({ ...causal, layers: 1 }))).toEqual([
      ['embedding.weight', [13, 8]],
      ['position.weight', [9, 8]],
      ['layers.0.norm1.weight', [8]],
      ['layers.0.norm1.bias', [8]],
      ['layers.0.self_attn.q.weight', [6, 8]],
      ['layers.0.self_attn.k.weight', [6, 8]],
      ['layers.0.self_attn.v.weight', [6, 8]],
      ['layers.0.self_attn.out.weight', [8, 6]],
      ['layers.0.norm2.weight', [8]],
      ['layers.0.norm2.bias', [8]],
      ['layers.0.ffn.fc1.weight', [10, 8]],
      ['layers.0.ffn.fc2.weight', [8, 10]],
      ['norm.weight', [8]],
      ['norm.bias', [8]],
    ]);
  });

  it("builds and runs TIGER's paper configuration (d_model 128, 6 heads x 64, FFN 1024, 4 + 4 layers)", async () => {
    const tiger: EncoderDecoderTransformerConfig = {
      vocabularySize: 1027,
      modelDimension: 128,
      heads: 6,
      headDimension: 64,
      feedForwardDimension: 1024,
      encoderLayers: 4,
      decoderLayers: 4,
      maxSourceLength: 80,
      maxTargetLength: 5,
      dropout: 0.1,
    };
    const g = new Graph({ training: false, seed: 3 });
    const { logits, memory } = encoderDecoderTransformer(g, tiger, { source: g.input('source', 'int64', [2, 80]), target: g.input('target', 'int64', [2, 4]) });
    const shapes = new Map(declared(g));
    expect(shapes.get('encoder.layers.3.self_attn.q.weight')).toEqual([384, 128]);
    expect(shapes.get('decoder.layers.0.cross_attn.out.weight')).toEqual([128, 384]);
    expect(shapes.get('decoder.layers.2.ffn.fc1.weight')).toEqual([1024, 128]);
    // 1027 x 128 + 80 x 128 + 5 x 128 + 4 x (4 x 128 x 384 + 2 x 128 x 1024 + 4 x 128)
    //   + 4 x (8 x 128 x 384 + 2 x 128 x 1024 + 6 x 128) + 4 x 128
    const count = g.parameters.reduce((sum, p) => sum + p.tensor.size, 0);
    expect(count).toBe(1027 * 128 + 85 * 128 + 4 * (4 * 128 * 384 + 2 * 128 * 1024 + 512) + 4 * (8 * 128 * 384 + 2 * 128 * 1024 + 768) + 512);
    const model = await CompiledGraph.create(g, { outputs: [logits, memory], outputNames: ['logits', 'memory'], intraOpNumThreads: 1 });
    const source = new BigInt64Array(160);
    for (let i = 0; i < 160; i++) source[i] = i % 80 < 50 ? 0n : BigInt(3 + ((i * 7) % 1000)); // 50 pads, then 30 tokens
    const out = await model.run({ source, target: BigInt64Array.of(1n, 5n, 300n, 700n, 1n, 6n, 301n, 701n) });
    expect(out.logits!.length).toBe(2 * 4 * 1027);
    expect(Array.from(out.logits as Float32Array).every((v) => Number.isFinite(v))).toBe(true);
    await model.release();
  });
});

describe('canonical Transformer models: behaviour', () => {
  async function causalLogits(config: CausalTransformerConfig, rows: number[][]): Promise<Float32Array> {
    const g = new Graph({ training: false, seed: 5 });
    const tokens = g.input('tokens', 'int64', [rows.length, rows[0]!.length]);
    const { logits } = causalTransformer(g, config, tokens);
    const model = await CompiledGraph.create(g, { outputs: [logits], outputNames: ['logits'], intraOpNumThreads: 1 });
    const out = (await model.run({ tokens: BigInt64Array.from(rows.flat(), (t) => BigInt(t)) })).logits as Float32Array;
    await model.release();
    return out;
  }

  function rowLogits(all: Float32Array, row: number, column: number, length: number, vocabulary: number): Float32Array {
    return all.subarray((row * length + column) * vocabulary, (row * length + column + 1) * vocabulary);
  }

  function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    return worst;
  }

  it("'sequence' positions: the same tokens give the same logits however the row is padded", async () => {
    const config = { ...causal, positions: 'sequence' as const, bias: true, tieOutput: false };
    const sequence = [4, 9, 2, 11, 7];
    const rows = [
      [0, 0, ...sequence], // left-padded
      [...sequence, 0, 0], // right-padded
      [4, 9, 0, 2, 11, 0, 7], // padding in the middle
    ];
    const logits = await causalLogits(config, rows);
    const V = config.vocabularySize;
    const columns = [
      [2, 3, 4, 5, 6],
      [0, 1, 2, 3, 4],
      [0, 1, 3, 4, 6],
    ];
    for (let k = 0; k < sequence.length; k++) {
      const reference = rowLogits(logits, 0, columns[0]![k]!, 7, V);
      for (const row of [1, 2]) expect(maxDifference(rowLogits(logits, row, columns[row]![k]!, 7, V), reference)).toBeLessThan(1e-5);
    }
  });

  it("'column' positions: left padding shifts positions; later tokens never change earlier logits", async () => {
    const config = { ...causal, positions: 'column' as const };
    const logits = await causalLogits(config, [
      [0, 0, 4, 9, 2, 11, 7],
      [0, 0, 4, 9, 2, 5, 5],
      [4, 9, 2, 11, 7, 0, 0],
    ]);
    const V = config.vocabularySize;
    for (let column = 2; column <= 4; column++) expect(maxDifference(rowLogits(logits, 1, column, 7, V), rowLogits(logits, 0, column, 7, V))).toBeLessThan(1e-6);
    expect(maxDifference(rowLogits(logits, 1, 6, 7, V), rowLogits(logits, 0, 6, 7, V))).toBeGreaterThan(1e-3);
    // the same tokens at other columns: different positions, different logits
    expect(maxDifference(rowLogits(logits, 2, 0, 7, V), rowLogits(logits, 0, 2, 7, V))).toBeGreaterThan(1e-3);
  });

  it('trains with dropout in one pass over every next-token target (loss falls), and rejects bad configs and inputs', async () => {
    const config = { ...causal, dropout: 0.1, positions: 'sequence' as const };
    const batch = 4;
    const length = 8;
    const tokens = new BigInt64Array(batch * length);
    const labels = new BigInt64Array(batch * length);
    for (let b = 0; b < batch; b++) for (let t = 0; t < length; t++) tokens[b * length + t] = BigInt(1 + ((b + 2 * t) % 12));
    for (let b = 0; b < batch; b++) for (let t = 0; t < length; t++) labels[b * length + t] = t + 1 < length ? tokens[b * length + t + 1]! : -100n;
    const build = (g: Graph) => {
      const input = g.input('tokens', 'int64', [batch, length]);
      const target = g.input('labels', 'int64', [batch * length]);
      const { logits } = causalTransformer(g, config, input);
      return { loss: ops.softmaxCrossEntropy(ops.reshape(logits, [batch * length, config.vocabularySize]), target) };
    };
    const trainer = await Trainer.create({ build, optimizer: optimizers.adamw({ weightDecay: 0.01 }), seed: 7, intraOpNumThreads: 1 });
    const losses: number[] = [];
    for (let s = 0; s < 60; s++) losses.push((await trainer.step({ tokens, labels }, { learningRate: 1e-2 })).loss);
    expect(losses[0]).toBeGreaterThan(2);
    expect(losses.slice(-5).reduce((a, b) => a + b, 0) / 5).toBeLessThan(0.5 * losses[0]!);
    await trainer.release();

    expect(errorOf(() => resolveCausalConfig({ ...causal, heads: 3, headDimension: undefined as unknown as number })).details?.field).toBe('config.headDimension');
    expect(errorOf(() => resolveCausalConfig({ ...causal, positions: 'rows' as 'column' })).code).toBe('INVALID_OPTION');
    expect(errorOf(() => resolveCausalConfig({ ...causal, dropout: 1 })).details?.field).toBe('config.dropout');
    expect(errorOf(() => resolveCausalConfig({ ...causal, padToken: 13 })).details?.field).toBe('config.padToken');
    expect(errorOf(() => encoderDecoderParameterShapes({ ...small, encoderLayers: 0 })).details?.field).toBe('config.encoderLayers');
    const g = new Graph();
    expect(errorOf(() => causalTransformer(g, causal, g.input('long', 'int64', [1, 10]))).code).toBe('SHAPE_MISMATCH');
    expect(errorOf(() => causalTransformer(g, causal, g.input('floats', 'float32', [1, 4]))).code).toBe('SHAPE_MISMATCH');
    expect(errorOf(() => encoderDecoderTransformer(g, small, { source: g.input('s', 'int64', [2, 6]), target: g.input('t', 'int64', [3, 2]) })).code).toBe('SHAPE_MISMATCH');
  });
});
