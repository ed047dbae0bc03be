import type { EvaluationSet, ProgressEvent } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { fitSasrec } from './fit-sasrec.js';
import type { SasrecModel } from './sasrec-model.js';
import { CHEAP, historiesOf, hitRate, popularityHitRate, syntheticSplit } from './test-fixtures.js';
import { selectValidationUsers, validateRecommender as validate } from '@genrec/core';

const small = syntheticSplit('small');

function sameParameters(a: SasrecModel, b: SasrecModel): boolean {
  const x = a.parameterValues();
  const y = b.parameterValues();
  if (x.size !== y.size) return false;
  for (const [name, value] of x) {
    const other = y.get(name);
    if (!other || other.length !== value.length) return false;
    for (let i = 0; i < value.length; i++) if (!Object.is(value[i], other[i])) return false;
  }
  return true;
}

describe('fitSasrec', () => {
  // quality (3x popularity's HitRate@10 on the synthetic default within 3 epochs, for each loss)
  // is the conformance suite's first case (conformance.test.ts)

  it('emits fit-start, one epoch-end per epoch (finite, falling loss; increasing progress; validation) and fit-end', async () => {
    const events: ProgressEvent[] = [];
    const model = await fitSasrec({ train: small.train, validation: small.validation }, { ...CHEAP, epochs: 3, earlyStopping: false, onProgress: (e) => events.push(e) });
    const rows = Array.from({ length: small.train.userCount }, (_, r) => small.train.offsets[r + 1]! - small.train.offsets[r]!).filter((n) => n >= 2).length;
    expect(events[0]).toEqual({ type: 'fit-start', model: 'sasrec', epochs: 3, stepsPerEpoch: Math.ceil(rows / 128), startEpoch: 0 });
    const ends = events.filter((e) => e.type === 'epoch-end');
    expect(ends.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(ends.map((e) => e.progress)).toEqual([1 / 3, 2 / 3, 1]);
    for (const e of ends) {
      expect(Number.isFinite(e.loss)).toBe(true);
      expect(e.validation?.['ndcg@10']).toBeGreaterThan(0);
      expect(e.validation?.['recall@10']).toBeGreaterThanOrEqual(e.validation!['ndcg@10']!);
      expect(e.etaMs).toBeGreaterThanOrEqual(0);
    }
    expect(ends[2]!.loss).toBeLessThan(ends[0]!.loss);
    expect(ends[2]!.etaMs).toBe(0);
    expect(events.at(-1)).toMatchObject({ type: 'fit-end', epochs: 3, bestEpoch: 3, stoppedBy: 'epochs' });
    expect(events).toHaveLength(5);
    // earlyStopping false keeps the last epoch; its validation is the last event's
    expect(model.describe()).toMatchObject({ epoch: 3, validation: ends[2]!.validation });
    await model.dispose();
  });

  it('is a pure function of data, options and seed', async () => {
    const a = await fitSasrec({ train: small.train }, CHEAP);
    const b = await fitSasrec({ train: small.train }, CHEAP);
    const c = await fitSasrec({ train: small.train }, { ...CHEAP, seed: 4 });
    expect(sameParameters(a, b)).toBe(true);
    expect(sameParameters(a, c)).toBe(false);
    const histories = historiesOf(small.test);
    expect(await a.recommend(histories, { k: 5 })).toEqual(await b.recommend(histories, { k: 5 }));
    await Promise.all([a.dispose(), b.dispose(), c.dispose()]);
  });

  it('early stopping keeps the best epoch: a flat metric stops after `patience` epochs with epoch 1 weights', async () => {
    // every target is in its own history, which recommend excludes: the metric stays 0, so epoch 1 stays best
    const validation: EvaluationSet = { ...small.validation, targetItems: Int32Array.from({ length: small.validation.size }, (_, u) => small.validation.historyItems[small.validation.historyOffsets[u]!]!) };
    const events: ProgressEvent[] = [];
    const stopped = await fitSasrec({ train: small.train, validation }, { ...CHEAP, epochs: 6, earlyStopping: { patience: 2 }, onProgress: (e) => events.push(e) });
    const straight = await fitSasrec({ train: small.train }, { ...CHEAP, epochs: 1 });
    expect(events.filter((e) => e.type === 'epoch-end').map((e) => (e.type === 'epoch-end' ? e.best : undefined))).toEqual([true, false, false]);
    expect(events.at(-1)).toMatchObject({ type: 'fit-end', epochs: 3, bestEpoch: 1, stoppedBy: 'early-stopping' });
    expect(stopped.describe()).toMatchObject({ epoch: 1, epochsTrained: 3, stoppedBy: 'early-stopping' });
    expect(sameParameters(stopped, straight)).toBe(true);
    await Promise.all([stopped.dispose(), straight.dispose()]);
  });

  it('early stopping on a real metric returns the weights of the epoch with the best value', async () => {
    const events: ProgressEvent[] = [];
    const model = await fitSasrec({ train: small.train, validation: small.validation }, { ...CHEAP, epochs: 7, learningRate: 0.05, dropout: 0, earlyStopping: { metric: 'ndcg@5', patience: 7 }, onProgress: (e) => events.push(e) });
    const values = events.flatMap((e) => (e.type === 'epoch-end' ? [e.validation!['ndcg@5']!] : []));
    const bestEpoch = values.indexOf(Math.max(...values)) + 1;
    // on this machine the metric peaks at epoch 5 of 7 (an over-fitting learning rate)
    expect(model.describe().epoch).toBe(bestEpoch);
    const users = selectValidationUsers(small.validation, small.itemCount, undefined, 0);
    const recomputed = await validate(model, users, { metric: 'ndcg', k: 5, name: 'ndcg@5' });
    expect(recomputed['ndcg@5']).toBe(values[bestEpoch - 1]);
    await model.dispose();
  });

  it('an AbortSignal stops cleanly: the best model so far, or the initial weights before any epoch', async () => {
    const controller = new AbortController();
    const events: ProgressEvent[] = [];
    const aborted = await fitSasrec(
      { train: small.train, validation: small.validation },
      { ...CHEAP, epochs: 5, signal: controller.signal, onProgress: (e) => {
        events.push(e);
        if (e.type === 'epoch-end') controller.abort();
      } },
    );
    const oneEpoch = await fitSasrec({ train: small.train, validation: small.validation }, { ...CHEAP, epochs: 1 });
    expect(events.at(-1)).toMatchObject({ type: 'fit-end', epochs: 1, bestEpoch: 1, stoppedBy: 'abort' });
    expect(sameParameters(aborted, oneEpoch)).toBe(true);
    const before = await fitSasrec({ train: small.train }, { ...CHEAP, signal: AbortSignal.abort() });
    expect(before.describe()).toMatchObject({ epoch: 0, epochsTrained: 0, stoppedBy: 'abort' });
    const lists = await before.recommend([[1, 2, 3]], { k: 3 });
    expect(lists.lengths[0]).toBe(3);
    await Promise.all([aborted.dispose(), oneEpoch.dispose(), before.dispose()]);
  });

  // sampled softmax trains its item embedding row-sparse by default (lazy Adam); bce densely by default
  for (const [loss, sparseEmbeddings] of [['bce', false], ['bce', true], ['sampled-softmax', true], ['sampled-softmax', false]] as const) {
    it(`trains with loss '${loss}' and ${sparseEmbeddings ? 'row-sparse' : 'dense'} embeddings: the loss falls and HitRate@10 beats popularity`, async () => {
      const losses: number[] = [];
      const model = await fitSasrec({ train: small.train }, { ...CHEAP, loss, sparseEmbeddings, negatives: 32, epochs: 4, onProgress: (e) => e.type === 'epoch-end' && losses.push(e.loss) });
      expect(model.spec.sparseEmbeddings).toBe(sparseEmbeddings);
      expect(losses[3]).toBeLessThan(losses[0]!);
      const lists = await model.recommend(historiesOf(small.test), { k: 10 });
      expect(hitRate(lists.items, 10, small.test)).toBeGreaterThan(1.5 * popularityHitRate(small.train, small.itemCount, small.test, 10));
      await model.dispose();
    });
  }
});
