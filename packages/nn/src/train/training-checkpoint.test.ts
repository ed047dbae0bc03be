import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError, Rng, openArtifactDirectory, type EpochSnapshot } from '@genrec/core';
import { init, type Graph } from '../graph/graph.js';
import * as ops from '../graph/ops.js';
import { optimizers } from './optimizers.js';
import { Trainer } from './trainer.js';
import { TRAINING_CHECKPOINT_FILES, openTrainingCheckpoint, trainingCheckpointState, writeTrainingCheckpoint, type TrainingCheckpointState } from './training-checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'genrec-nn-training-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const x = Float32Array.from({ length: 8 }, (_, i) => (i % 3) - 1);
function build(graph: Graph) {
  const w = graph.parameter('w', [4, 3], init.xavier());
  const y = ops.dropout(ops.matMul(graph.input('x', 'float32', [2, 4]), w), 0.3);
  return { loss: ops.reduceSum(ops.mul(y, y)) };
}
const newTrainer = () => Trainer.create({ build, optimizer: optimizers.adam(), seed: 3, intraOpNumThreads: 1 });

interface MyState extends TrainingCheckpointState {
  kind: 'genrec.test-checkpoint';
  note: string;
}

function snapshot(epoch: number, best: Map<string, Float32Array> | undefined): EpochSnapshot<unknown> {
  return { epoch, bestEpoch: 1, bestValue: 0.25, bestValidation: { 'ndcg@10': 0.25 }, sinceBest: epoch - 1, stoppedEarly: false, losses: [0.9, 0.8].slice(0, epoch), hasBestWeights: best !== undefined, best, extra: undefined };
}

describe('training checkpoints', () => {
  it('round trip: resuming from a checkpoint continues the trainer exactly, with state and best weights', async () => {
    const straight = await newTrainer();
    const first = await newTrainer();
    for (let s = 0; s < 3; s++) await straight.step({ x }, { learningRate: 0.05 });
    await first.step({ x }, { learningRate: 0.05 });
    const best = new Map([['w', Float32Array.from(first.parameterValues().get('w')!)]]);
    await first.step({ x }, { learningRate: 0.05 });
    const order = new Rng(9);
    order.permutation(5);
    const header = { kind: 'genrec.test-checkpoint' as const, formatVersion: 1, compatibility: { hiddenSize: 8, data: 'abc' } };
    const state: MyState = trainingCheckpointState(header, snapshot(2, best), { orderRng: order.getState(), samplerRng: new Rng(1).getState() }, { note: 'last' });
    expect(Object.keys(state)).toEqual(['kind', 'formatVersion', 'epoch', 'compatibility', 'orderRng', 'samplerRng', 'bestEpoch', 'bestValue', 'bestValidation', 'sinceBest', 'stoppedEarly', 'losses', 'hasBestWeights', 'note']);
    const folder = join(dir, 'round-trip');
    await writeTrainingCheckpoint(folder, first, state, best, (version) => writeFileSync(join(version, 'extra.bin'), 'x'));
    expect([...openArtifactDirectory(folder).files].sort()).toEqual(['best.safetensors', 'extra.bin', 'state.json', 'trainer.safetensors']);

    const opened = openTrainingCheckpoint<MyState>(folder, 'genrec.test-checkpoint', [1], header.compatibility);
    expect(opened.state).toEqual(JSON.parse(JSON.stringify(state)));
    expect(opened.best).toEqual(best);
    expect(Rng.fromState(opened.state.orderRng).permutation(5)).toEqual(order.permutation(5));
    expect(opened.artifact.readFile('extra.bin').length).toBe(1);
    const resumed = await newTrainer();
    resumed.loadCheckpoint(opened.trainerPath);
    await resumed.step({ x }, { learningRate: 0.05 }); // the dropout stream and Adam moments continue
    expect(resumed.parameterValues()).toEqual(straight.parameterValues());
    for (const t of [straight, first, resumed]) await t.release();
  });

  it('stores no best weights when the best epoch is the current one', async () => {
    const trainer = await newTrainer();
    const folder = join(dir, 'no-best');
    const header = { kind: 'genrec.test-checkpoint', formatVersion: 1, compatibility: {} };
    await writeTrainingCheckpoint(folder, trainer, trainingCheckpointState(header, snapshot(1, undefined), { orderRng: new Rng(1).getState() }), new Map([['w', new Float32Array(12)]]));
    expect(existsSync(join(openArtifactDirectory(folder).directory, TRAINING_CHECKPOINT_FILES.best))).toBe(false);
    expect(openTrainingCheckpoint(folder, 'genrec.test-checkpoint', [1], {}).best).toBeUndefined();
    await trainer.release();
  });

  it('refuses another kind or version and names the first setting that differs', async () => {
    const trainer = await newTrainer();
    const folder = join(dir, 'mismatch');
    const header = { kind: 'genrec.test-checkpoint', formatVersion: 1, compatibility: { hiddenSize: 8, loss: 'ce' } };
    await writeTrainingCheckpoint(folder, trainer, trainingCheckpointState(header, snapshot(1, undefined), { orderRng: new Rng(1).getState() }), undefined);
    const codeOf = (run: () => unknown): unknown[] => {
      try {
        run();
      } catch (error) {
        if (GenrecError.isInstance(error)) return [error.code, error.message, error.details?.field];
        throw error;
      }
      return ['no error'];
    };
    expect(codeOf(() => openTrainingCheckpoint(folder, 'genrec.other-checkpoint', [1], header.compatibility))[0]).toBe('FORMAT_VERSION');
    expect(codeOf(() => openTrainingCheckpoint(folder, 'genrec.test-checkpoint', [2], header.compatibility))[0]).toBe('FORMAT_VERSION');
    const [code, message, field] = codeOf(() => openTrainingCheckpoint(folder, 'genrec.test-checkpoint', [1], { hiddenSize: 16, loss: 'ce' })) as string[];
    expect([code, field]).toEqual(['INVALID_OPTION', 'resumeFrom']);
    expect(message).toContain(`resumeFrom: the checkpoint in ${folder} was written with hiddenSize = 8, this run has 16`);
    expect(codeOf(() => openTrainingCheckpoint(folder, 'genrec.test-checkpoint', [1], { hiddenSize: 8 }))).toEqual(expect.arrayContaining(['INVALID_OPTION']));
    expect(codeOf(() => openTrainingCheckpoint(join(dir, 'missing'), 'genrec.test-checkpoint', [1], {}))[0]).toBe('NOT_FOUND');
    // a setting added after the checkpoint was written: its absence stands for the given default
    const later = { hiddenSize: 8, loss: 'ce', dropout: 0 };
    expect(codeOf(() => openTrainingCheckpoint(folder, 'genrec.test-checkpoint', [1], later))[0]).toBe('INVALID_OPTION');
    expect(openTrainingCheckpoint(folder, 'genrec.test-checkpoint', [1], later, { defaults: { dropout: 0 } }).state.compatibility).toEqual(header.compatibility);
    const [otherCode, otherMessage] = codeOf(() => openTrainingCheckpoint(folder, 'genrec.test-checkpoint', [1], { ...later, dropout: 0.1 }, { defaults: { dropout: 0 } })) as string[];
    expect(otherCode).toBe('INVALID_OPTION');
    expect(otherMessage).toContain('was written with dropout = 0, this run has 0.1');
    // a stored value wins over the default, and a default never excuses a key this run lacks
    expect(codeOf(() => openTrainingCheckpoint(folder, 'genrec.test-checkpoint', [1], { hiddenSize: 16, loss: 'ce' }, { defaults: { hiddenSize: 16 } }))[0]).toBe('INVALID_OPTION');
    expect(codeOf(() => openTrainingCheckpoint(folder, 'genrec.test-checkpoint', [1], { hiddenSize: 8 }, { defaults: { loss: 'ce' } }))[0]).toBe('INVALID_OPTION');
    await trainer.release();
  });
});
