import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openArtifactDirectory, type ProgressEvent } from '@genrec/core';
import { afterAll, describe, expect, it } from 'vitest';
import { fitSasrec } from './fit-sasrec.js';
import type { FitSasrecOptions } from './options.js';
import { CHEAP, historiesOf, syntheticSplit } from './test-fixtures.js';

const small = syntheticSplit('small');
const root = mkdtempSync(join(tmpdir(), 'sasrec-checkpoint-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function losses(events: ProgressEvent[]): number[] {
  return events.flatMap((e) => (e.type === 'epoch-end' ? [e.loss] : []));
}

describe('checkpoints and resume', () => {
  const cases: [string, FitSasrecOptions, boolean][] = [
    ['ce with validation and early stopping', { ...CHEAP }, true],
    ['bce (negative sampling stream)', { ...CHEAP, loss: 'bce' }, false],
  ];
  for (const [name, options, withValidation] of cases) {
    it(`2 epochs + resume to 4 equals 4 straight epochs (${name})`, async () => {
      const directory = join(root, name.replace(/\W+/g, '-'));
      const data = withValidation ? { train: small.train, validation: small.validation } : { train: small.train };
      const first: ProgressEvent[] = [];
      const partial = await fitSasrec(data, { ...options, epochs: 2, checkpointDirectory: directory, onProgress: (e) => first.push(e) });
      expect([...openArtifactDirectory(directory).files].sort()).toEqual(['state.json', 'trainer.safetensors']);
      const resumedEvents: ProgressEvent[] = [];
      const resumed = await fitSasrec(data, { ...options, epochs: 4, resumeFrom: directory, checkpointDirectory: directory, onProgress: (e) => resumedEvents.push(e) });
      const straightEvents: ProgressEvent[] = [];
      const straight = await fitSasrec(data, { ...options, epochs: 4, onProgress: (e) => straightEvents.push(e) });
      expect(resumedEvents[0]).toMatchObject({ type: 'fit-start', startEpoch: 2, epochs: 4 });
      expect(resumedEvents.filter((e) => e.type === 'epoch-end').map((e) => (e.type === 'epoch-end' ? e.epoch : 0))).toEqual([3, 4]);
      expect([...losses(first), ...losses(resumedEvents)]).toEqual(losses(straightEvents));
      expect(resumed.parameterValues()).toEqual(straight.parameterValues());
      expect(resumed.describe()).toEqual(straight.describe());
      const histories = historiesOf(small.test);
      expect(await resumed.recommend(histories, { k: 10 })).toEqual(await straight.recommend(histories, { k: 10 }));
      expect(await resumed.score(histories, historiesOf(small.validation))).toEqual(await straight.score(histories, historiesOf(small.validation)));
      // a checkpoint at the end of the budget resumes to the same model without training
      const again = await fitSasrec(data, { ...options, epochs: 4, resumeFrom: directory });
      expect(again.parameterValues()).toEqual(straight.parameterValues());
      await Promise.all([partial.dispose(), resumed.dispose(), straight.dispose(), again.dispose()]);
    });
  }

  it('keeps the best epoch in the checkpoint once a later epoch is worse', async () => {
    const directory = join(root, 'flat-metric');
    // targets inside their own (excluded) history: the metric stays 0, epoch 1 stays best
    const validation = { ...small.validation, targetItems: Int32Array.from({ length: small.validation.size }, (_, u) => small.validation.historyItems[small.validation.historyOffsets[u]!]!) };
    const data = { train: small.train, validation };
    const partial = await fitSasrec(data, { ...CHEAP, epochs: 2, earlyStopping: { patience: 3 }, checkpointDirectory: directory });
    expect([...openArtifactDirectory(directory).files].sort()).toEqual(['best.safetensors', 'state.json', 'trainer.safetensors']);
    const resumed = await fitSasrec(data, { ...CHEAP, epochs: 5, earlyStopping: { patience: 3 }, resumeFrom: directory });
    const straight = await fitSasrec(data, { ...CHEAP, epochs: 5, earlyStopping: { patience: 3 } });
    expect(resumed.describe()).toMatchObject({ epoch: 1, epochsTrained: 4, stoppedBy: 'early-stopping' });
    expect(resumed.parameterValues()).toEqual(straight.parameterValues());
    await Promise.all([partial.dispose(), resumed.dispose(), straight.dispose()]);
  });

  it('refuses a checkpoint written with other hyper-parameters or data', async () => {
    const directory = join(root, 'mismatch');
    const model = await fitSasrec({ train: small.train }, { ...CHEAP, epochs: 1, checkpointDirectory: directory });
    await expect(fitSasrec({ train: small.train }, { ...CHEAP, hiddenSize: 8, epochs: 2, resumeFrom: directory })).rejects.toMatchObject({ code: 'INVALID_OPTION', details: { field: 'resumeFrom' } });
    const other = syntheticSplit('default');
    await expect(fitSasrec({ train: other.train }, { ...CHEAP, epochs: 2, resumeFrom: directory })).rejects.toThrow(/dataFingerprint/);
    await expect(fitSasrec({ train: small.train }, { ...CHEAP, resumeFrom: join(root, 'missing') })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await model.dispose();
  });
});
