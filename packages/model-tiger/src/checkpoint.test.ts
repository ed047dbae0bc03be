import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '@genrec/core';
import { trainingCheckpointState, writeTrainingCheckpoint } from '@genrec/nn';
import { CHECKPOINT_KIND, CHECKPOINT_VERSION, compatibilityOf, openCheckpoint } from './checkpoint.js';
import { resolveTigerSpec } from './options.js';

const dir = mkdtempSync(join(tmpdir(), 'tiger-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// only the settings are read back: the trainer's file may be empty
const emptyTrainer = { saveCheckpoint: (path: string) => writeFileSync(path, '') };

describe('compatibilityOf', () => {
  const both = ['text', 'collaborative'] as const;
  const of = (options: Record<string, unknown> = {}) => compatibilityOf(resolveTigerSpec({ itemVectors: [...both], ...options }), 'data', 'codes', 'ndcg@10', 100);

  it('ignores the runtime settings and the epoch budget unless the schedule is cosine, keeps the data and codes fingerprints', () => {
    const at = (options: Record<string, unknown>) => compatibilityOf(resolveTigerSpec(options), 'd', 'c', 'ndcg@10', 10);
    const a = at({ epochs: 3, threads: 1, workers: 0, inferenceBatchSize: 8, schedule: 'constant' });
    expect(a).toEqual(at({ epochs: 9, threads: 2, workers: 2, inferenceBatchSize: 64, schedule: 'constant' }));
    expect(a).toMatchObject({ dataFingerprint: 'd', codesFingerprint: 'c' });
    expect(a).not.toHaveProperty('epochs');
    // the default cosine schedule decays to 0 at the end of the budget: another budget is another curve
    expect(at({ epochs: 3 })).toMatchObject({ schedule: 'cosine', epochs: 3 });
    expect(at({ epochs: 3, threads: 1 })).toEqual(at({ epochs: 3, threads: 2 }));
    expect(of()).toMatchObject({ itemVectorWeights: [1, 1], renormalize: false });
  });

  it('resumes a checkpoint written before itemVectorWeights and renormalize at their old values only', async () => {
    // a checkpoint of the format before the two options: its settings lack them
    const { itemVectorWeights: _weights, renormalize: _renormalize, ...before } = of();
    const folder = join(dir, 'old');
    const snapshot = { epoch: 1, bestEpoch: 1, bestValue: 0.1, bestValidation: { 'ndcg@10': 0.1 }, sinceBest: 0, stoppedEarly: false, losses: [1], hasBestWeights: false, best: undefined, extra: undefined };
    await writeTrainingCheckpoint(folder, emptyTrainer, trainingCheckpointState({ kind: CHECKPOINT_KIND, formatVersion: CHECKPOINT_VERSION, compatibility: before }, snapshot, { orderRng: new Rng(1).getState() }), undefined);
    expect(openCheckpoint(folder, of()).state.compatibility).toEqual(before);
    expect(openCheckpoint(folder, of({ itemVectorWeights: [1, 1] })).state.epoch).toBe(1);
    expect(() => openCheckpoint(folder, of({ itemVectorWeights: [0.5, 1] }))).toThrow(/itemVectorWeights = \[1,1\], this run has \[0.5,1\]/);
    expect(() => openCheckpoint(folder, of({ renormalize: true }))).toThrow(/renormalize = false, this run has true/);
    expect(() => openCheckpoint(folder, of({ levels: 3 }))).toThrow(/levels = 4, this run has 3/);
  });
});
