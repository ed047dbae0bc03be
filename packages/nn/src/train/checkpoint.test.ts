import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { GenrecError, readSafetensors, writeSafetensors, type Tensor } from '@genrec/core';
import { killDuringSaves } from '@genrec/core/testing';
import { init, type Graph } from '../graph/graph.js';
import * as ops from '../graph/ops.js';
import { optimizers } from './optimizers.js';
import { Trainer } from './trainer.js';

const dir = mkdtempSync(join(tmpdir(), 'genrec-nn-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const LONG_RUN = process.env.GENREC_LONG_RUN === '1';

const x = Float32Array.from({ length: 8 }, (_, i) => (i % 3) - 1);
function build(graph: Graph) {
  const w = graph.parameter('w', [4, 3], init.xavier());
  const b = graph.parameter('b', [3], init.zeros());
  const y = ops.add(ops.matMul(graph.input('x', 'float32', [2, 4]), w), b);
  return { loss: ops.reduceSum(ops.mul(y, y)) };
}

async function trainedCheckpoint(name: string): Promise<{ path: string; trainer: Trainer }> {
  const trainer = await Trainer.create({ build, optimizer: optimizers.adam(), seed: 3, intraOpNumThreads: 1 });
  for (let s = 0; s < 3; s++) await trainer.step({ x }, { learningRate: 0.05 });
  const path = join(dir, `${name}.safetensors`);
  trainer.saveCheckpoint(path);
  return { path, trainer };
}

/** Rewrites a checkpoint with edited metadata and tensors. */
function edit(path: string, to: string, change: (tensors: Map<string, Tensor>, metadata: Record<string, string>) => void): string {
  const { tensors, metadata } = readSafetensors(path);
  change(tensors, metadata);
  const target = join(dir, to);
  writeSafetensors(target, tensors, metadata);
  return target;
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : `not a GenrecError: ${String(error)}`;
  }
  return undefined;
}

function snapshot(trainer: Trainer): string {
  return JSON.stringify({ step: trainer.stepCount, values: [...trainer.parameterValues()].map(([n, v]) => [n, Array.from(v)]), state: [...trainer.optimizerState()].map(([n, v]) => [n, Array.from(v)]) });
}

describe('Trainer checkpoints are checked before anything is replaced', () => {
  it('refuses another kind or format version (FORMAT_VERSION) and changes nothing', async () => {
    const { path, trainer } = await trainedCheckpoint('format');
    const fresh = await Trainer.create({ build, optimizer: optimizers.adam(), seed: 9, intraOpNumThreads: 1 });
    const before = snapshot(fresh);
    const newer = edit(path, 'newer.safetensors', (_, metadata) => (metadata.formatVersion = '2'));
    expect(() => fresh.loadCheckpoint(newer)).toThrow(/format version "2" is not supported/);
    const other = edit(path, 'other.safetensors', (_, metadata) => (metadata.kind = 'genrec-something-else'));
    expect(codeOf(() => fresh.loadCheckpoint(other))).toBe('FORMAT_VERSION');
    const noKind = edit(path, 'no-kind.safetensors', (_, metadata) => delete metadata.kind);
    expect(codeOf(() => fresh.loadCheckpoint(noKind))).toBe('FORMAT_VERSION');
    expect(snapshot(fresh)).toBe(before);
    fresh.loadCheckpoint(path);
    expect(snapshot(fresh)).toBe(snapshot(trainer));
    await Promise.all([trainer.release(), fresh.release()]);
  });

  it('corrupt generator metadata is a CORRUPT_ARTIFACT before any weight is replaced (not a raw SyntaxError after)', async () => {
    const { path, trainer } = await trainedCheckpoint('rng');
    const fresh = await Trainer.create({ build, optimizer: optimizers.adam(), seed: 9, intraOpNumThreads: 1 });
    const before = snapshot(fresh);
    for (const rng of ['{', '{"words":[1,2,3],"spareNormal":null}', '{"words":[0,0,0,0],"spareNormal":null}', '{"words":[1,2,3,4],"spareNormal":"NaN"}', '[]']) {
      const bad = edit(path, 'bad-rng.safetensors', (_, metadata) => (metadata.rng = rng));
      expect(codeOf(() => fresh.loadCheckpoint(bad)), rng).toBe('CORRUPT_ARTIFACT');
      expect(snapshot(fresh)).toBe(before);
    }
    await Promise.all([trainer.release(), fresh.release()]);
  });

  it('a bad step is refused, so the next step cannot turn every weight into NaN', async () => {
    const { path, trainer } = await trainedCheckpoint('step');
    for (const step of ['abc', '-3', '1.5', '1e3', '', ' 4', '9007199254740993']) {
      const bad = edit(path, 'bad-step.safetensors', (_, metadata) => (metadata.step = step));
      expect(codeOf(() => trainer.loadCheckpoint(bad)), step).toBe('CORRUPT_ARTIFACT');
    }
    const missing = edit(path, 'no-step.safetensors', (_, metadata) => delete metadata.step);
    expect(codeOf(() => trainer.loadCheckpoint(missing))).toBe('CORRUPT_ARTIFACT');
    expect(trainer.stepCount).toBe(3);
    await trainer.step({ x }, { learningRate: 0.05 });
    expect(Array.from(trainer.parameter('w')).every(Number.isFinite)).toBe(true);
    await trainer.release();
  });

  it('refuses NaN or Infinity in weights and optimizer state', async () => {
    const { path, trainer } = await trainedCheckpoint('finite');
    const before = snapshot(trainer);
    const nanWeight = edit(path, 'nan.safetensors', (tensors) => ((tensors.get('w')!.data as Float32Array)[5] = Number.NaN));
    expect(() => trainer.loadCheckpoint(nanWeight)).toThrow(/tensor "w" has a non-finite value NaN at flat index 5/);
    const infState = edit(path, 'inf.safetensors', (tensors) => ((tensors.get('optimizer.v.b')!.data as Float32Array)[0] = Infinity));
    expect(codeOf(() => trainer.loadCheckpoint(infState))).toBe('INVALID_INPUT');
    expect(snapshot(trainer)).toBe(before);
    await trainer.release();
  });

  it('checks names, shapes and dtypes of parameters and optimizer state', async () => {
    const { path, trainer } = await trainedCheckpoint('names');
    const before = snapshot(trainer);
    const cases: Record<string, (tensors: Map<string, Tensor>, metadata: Record<string, string>) => void> = {
      'missing parameter': (tensors) => tensors.delete('b'),
      'misshapen parameter': (tensors) => tensors.set('b', { dtype: 'float32', shape: [1, 3], data: new Float32Array(3) }),
      'float64 parameter': (tensors) => tensors.set('b', { dtype: 'float64', shape: [3], data: new Float64Array(3) }),
      'unknown tensor': (tensors) => tensors.set('extra', { dtype: 'float32', shape: [1], data: new Float32Array(1) }),
      'misshapen state': (tensors) => tensors.set('optimizer.m.w', { dtype: 'float32', shape: [12], data: new Float32Array(12) }),
      'state without optimizer': (_, metadata) => (metadata.optimizer = 'none'),
      'bad optimizer': (_, metadata) => (metadata.optimizer = 'Adam!'),
    };
    for (const [label, change] of Object.entries(cases)) {
      expect(codeOf(() => trainer.loadCheckpoint(edit(path, 'edited.safetensors', change))), label).toBe('CORRUPT_ARTIFACT');
    }
    expect(snapshot(trainer)).toBe(before);
    // state missing for a trained parameter (as from another `trainable` set): the weights only
    const partial = edit(path, 'partial.safetensors', (tensors) => {
      tensors.delete('optimizer.m.w');
      (tensors.get('b')!.data as Float32Array).fill(0.25);
    });
    const fresh = await Trainer.create({ build, optimizer: optimizers.adam(), seed: 9, intraOpNumThreads: 1 });
    fresh.loadCheckpoint(partial);
    expect(Array.from(fresh.parameter('b'))).toEqual([0.25, 0.25, 0.25]);
    expect(fresh.stepCount).toBe(0);
    expect(Array.from(fresh.optimizerState().get('optimizer.v.w')!)).toEqual(new Array(12).fill(0));
    await Promise.all([trainer.release(), fresh.release()]);
  });

  it('loads plain weights and checkpoints of another optimizer as parameters only', async () => {
    const { path, trainer } = await trainedCheckpoint('plain');
    const sgd = await Trainer.create({ build, optimizer: optimizers.sgd({ momentum: 0.9 }), seed: 1, intraOpNumThreads: 1 });
    sgd.loadCheckpoint(path); // adam state: ignored, weights loaded
    expect(Array.from(sgd.parameter('w'))).toEqual(Array.from(trainer.parameter('w')));
    expect(sgd.stepCount).toBe(0);
    expect(Array.from(sgd.optimizerState().get('optimizer.momentum.w')!)).toEqual(new Array(12).fill(0));
    const weights = join(dir, 'weights.safetensors');
    writeSafetensors(weights, { w: { dtype: 'float32', shape: [4, 3], data: new Float32Array(12).fill(0.5) }, b: { dtype: 'float32', shape: [3], data: new Float32Array(3) }, other: { dtype: 'uint8', shape: [1], data: new Uint8Array(1) } });
    trainer.loadCheckpoint(weights);
    expect(Array.from(trainer.parameter('w'))).toEqual(new Array(12).fill(0.5));
    expect(trainer.stepCount).toBe(3);
    const withoutState = join(dir, 'without-state.safetensors');
    trainer.saveCheckpoint(withoutState, { includeOptimizer: false });
    sgd.loadCheckpoint(withoutState);
    expect(Array.from(sgd.parameter('w'))).toEqual(new Array(12).fill(0.5));
    await Promise.all([trainer.release(), sgd.release()]);
  });

  it('removes temporary files of killed saves on load and on save', async () => {
    const { path, trainer } = await trainedCheckpoint('leftovers');
    const deadPid = 4_194_000 + Math.floor(Math.random() * 100); // above Linux's default pid range
    const leftover = join(dir, `.leftovers.safetensors.${deadPid}.1.tmp`);
    writeFileSync(leftover, new Uint8Array(1000));
    trainer.loadCheckpoint(path);
    expect(existsSync(leftover)).toBe(false);
    writeFileSync(leftover, new Uint8Array(1000));
    trainer.saveCheckpoint(path);
    expect(existsSync(leftover)).toBe(false);
    await trainer.release();
  });

  it(`survives ${LONG_RUN ? 200 : 20} kills mid-save: the checkpoint always loads (old or new), no temporary file remains`, async () => {
    const folder = mkdtempSync(join(tmpdir(), 'genrec-nn-kill-'));
    const path = join(folder, 'model.safetensors');
    const source = (relative: string) => JSON.stringify(fileURLToPath(new URL(relative, import.meta.url)));
    const module = join(folder, '..', `${folder.split('/').pop()}-save.ts`);
    onTestFinished(() => {
      rmSync(folder, { recursive: true, force: true });
      rmSync(module, { force: true });
    });
    writeFileSync(
      module,
      `import { Trainer } from ${source('./trainer.ts')};
import { optimizers } from ${source('./optimizers.ts')};
import { init, type Graph } from ${source('../graph/graph.ts')};
import * as ops from ${source('../graph/ops.ts')};
function build(graph: Graph) {
  const w = graph.parameter('w', [512, 512], init.zeros());
  return { loss: ops.reduceSum(ops.mul(w, w)) };
}
let trainer: Trainer | undefined;
export async function save(path: string, round: number): Promise<void> {
  trainer ??= await Trainer.create({ build, optimizer: optimizers.adam(), intraOpNumThreads: 1 });
  trainer.setParameter('w', new Float32Array(512 * 512).fill(round));
  trainer.saveCheckpoint(path);
}
`,
    );
    // the same model as the saving child's
    const bigBuild = (graph: Graph) => {
      const w = graph.parameter('w', [512, 512], init.zeros());
      return { loss: ops.reduceSum(ops.mul(w, w)) };
    };
    const reader = await Trainer.create({ build: bigBuild, optimizer: optimizers.adam(), intraOpNumThreads: 1 });
    let leftoversSeen = 0;
    const { completedSaves } = await killDuringSaves({
      module,
      path,
      kills: LONG_RUN ? 200 : 20,
      seed: 11,
      delayMs: [0, 30],
      verify(target) {
        if (readdirSync(folder).length > 1) leftoversSeen++;
        reader.loadCheckpoint(target); // throws on a torn file
        const w = reader.parameter('w');
        expect(Number.isInteger(w[0]) && w[0]! >= 0).toBe(true);
        expect(w.every((value) => value === w[0])).toBe(true);
        expect(readdirSync(folder)).toEqual(['model.safetensors']); // the load removed the killed save's temporary file
      },
    });
    console.log(`checkpoint kill test: ${completedSaves} saves completed, ${leftoversSeen} kills left a temporary file behind`);
    expect(completedSaves).toBeGreaterThan(0);
    reader.saveCheckpoint(path);
    expect(readdirSync(folder)).toEqual(['model.safetensors']);
    await reader.release();
  }, 600_000);
});
