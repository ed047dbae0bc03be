import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '@genrec/core';
import { trainingCheckpointState, writeTrainingCheckpoint } from '@genrec/nn';
import { CHECKPOINT_KIND, CHECKPOINT_VERSION, compatibilityOf, openCheckpoint, writeFrozenInputs } from './checkpoint.js';
import { resolveSetrecSpec } from './options.js';

const dir = mkdtempSync(join(tmpdir(), 'genrec-setrec-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// only the settings are read back: the trainer's file may be empty
const emptyTrainer = { saveCheckpoint: (path: string) => writeFileSync(path, '') };

describe('SETRec checkpoint settings', () => {
  const of = (options: Record<string, unknown> = {}) => compatibilityOf(resolveSetrecSpec(options), 'data', 'ndcg@10/3', 10, 'content', undefined);

  it('compares the epoch budget only under the cosine schedule, never the runtime settings', () => {
    expect(of({ epochs: 3, threads: 1 })).toEqual(of({ epochs: 9, threads: 2 }));
    expect(of({ schedule: 'cosine', epochs: 3 })).not.toEqual(of({ schedule: 'cosine', epochs: 9 }));
    expect(of({ schedule: 'inverse-sqrt', epochs: 3 })).toEqual(of({ schedule: 'inverse-sqrt', epochs: 9 }));
    expect(of()).toMatchObject({ schedule: 'constant', warmupSteps: 0 });
  });

  it('resumes a checkpoint written before schedules existed at the constant rate without warm-up only', async () => {
    const { schedule: _schedule, warmupSteps: _warmup, ...before } = of();
    const folder = join(dir, 'old');
    const snapshot = { epoch: 1, bestEpoch: 1, bestValue: 0.1, bestValidation: { 'ndcg@10': 0.1 }, sinceBest: 0, stoppedEarly: false, losses: [1], hasBestWeights: false, best: undefined, extra: undefined };
    const state = trainingCheckpointState({ kind: CHECKPOINT_KIND, formatVersion: CHECKPOINT_VERSION, compatibility: before }, snapshot, { orderRng: new Rng(1).getState(), samplerRng: new Rng(2).getState() });
    await writeTrainingCheckpoint(folder, emptyTrainer, state, undefined, (files) => writeFrozenInputs(files, { cf: Float32Array.of(1, 2, 3, 4), cfDimension: 2 }));
    const opened = openCheckpoint(folder, of());
    expect(opened.state.compatibility).toEqual(before);
    expect(Array.from(opened.cf.data)).toEqual([1, 2, 3, 4]);
    expect(() => openCheckpoint(folder, of({ warmupSteps: 5 }))).toThrow(/warmupSteps = 0, this run has 5/);
    expect(() => openCheckpoint(folder, of({ schedule: 'cosine' }))).toThrow(/schedule = "constant", this run has "cosine"/);
  });
});
