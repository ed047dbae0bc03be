import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlatIndex, HnswIndex, UsearchIndex } from '@genrec/ann';
import { LanceIndex } from '@genrec/ann-lancedb';
import { GenrecError, selectValidationUsers, validateRecommender, type HistoryBatch, type Matrix, type ValidationUsers, type VectorIndex } from '@genrec/core';
import { historySlice } from '@genrec/model-baselines/testing';
import { DiscreteSetTable, discretizeSetrec, fitSetrec, loadSetrec, type SetrecModel } from './index.js';
import { CHEAP, cheapCfVectors, logSumExp, naiveDense, naiveScores, naiveTopK, smallSplit } from './test-fixtures.js';

const { split, fitData } = smallSplit();
const users: HistoryBatch = historySlice(split.test, 0, 30);
let model: SetrecModel;
let cfVectors: Matrix;
const folders: string[] = [];
const temporary = (): string => {
  const folder = mkdtempSync(join(tmpdir(), 'genrec-setrec-test-'));
  folders.push(folder);
  return folder;
};

beforeAll(async () => {
  cfVectors = await cheapCfVectors(split.train);
  model = await fitSetrec(fitData, { ...CHEAP, cfVectors });
});

afterAll(async () => {
  await model?.dispose();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** Every validation user has a history: the one-pass β search ranked them all (no second ranking ran). */
function expectEveryUserHasHistory(validationUsers: ValidationUsers): void {
  const { offsets } = validationUsers.histories;
  for (let u = 0; u + 1 < offsets.length; u++) expect(offsets[u + 1]!).toBeGreaterThan(offsets[u]!);
}

/** The validation a fit recorded is `validateRecommender`'s on the kept model, with `beta` added. */
function expectRecordedIsMeasured(recorded: Record<string, number>, measured: Record<string, number>): void {
  expect(Object.keys(recorded)).toEqual([...Object.keys(measured), 'beta']);
  expect(recorded['ndcg@10']).toBeCloseTo(measured['ndcg@10']!, 9);
  expect(recorded['recall@10']).toBeCloseTo(measured['recall@10']!, 9);
}

function historyOf(batch: HistoryBatch, u: number): Int32Array {
  return batch.items.subarray(batch.offsets[u]!, batch.offsets[u + 1]!);
}

describe('SETRec tokens and scores against naive float64 references', () => {
  it('the CF token is the frozen vector through cf_projection; the semantic tokens are the autoencoder latent split in n', async () => {
    const tokens = await model.itemTokens();
    const parameters = model.parameterValues();
    const { hiddenSize: d, semanticTokens: n } = model.architecture;
    const content = model.contentVectors();
    const cf = model.cfVectors();
    expect(tokens.cols).toBe((n + 1) * d);
    for (const item of [1, 17, 60, 120]) {
      const row = item - 1;
      const cfToken = naiveDense(cf.data.subarray(row * cf.cols, (row + 1) * cf.cols), parameters.get('cf_projection.weight')!, parameters.get('cf_projection.bias')!);
      const hidden = naiveDense(content.data.subarray(row * content.cols, (row + 1) * content.cols), parameters.get('autoencoder.encoder0.weight')!, parameters.get('autoencoder.encoder0.bias')!).map((v) => Math.max(0, v));
      const latent = naiveDense(hidden, parameters.get('autoencoder.encoder1.weight')!, parameters.get('autoencoder.encoder1.bias')!);
      const expected = [...cfToken, ...latent];
      for (let c = 0; c < expected.length; c++) expect(tokens.data[row * tokens.cols + c]).toBeCloseTo(expected[c]!, 4);
    }
  });

  it('score() is Σ_s w_s log-softmax_s over the catalogue, and recommend ranks by it', async () => {
    const queries = await model.userQueries(users);
    const tokens = await model.itemTokens();
    const weights = model.slotWeights();
    const all = Array.from({ length: model.itemCount }, (_, j) => j + 1);
    const scores = await model.score(users, Array.from({ length: 30 }, () => all));
    const top = await model.recommend(users, { k: 10 });
    for (let u = 0; u < 30; u++) {
      const expected = naiveScores(queries.data.subarray(u * queries.cols, (u + 1) * queries.cols), tokens, weights, model.architecture.hiddenSize);
      for (let j = 0; j < model.itemCount; j++) {
        const actual = scores[u * model.itemCount + j]!;
        if (Math.abs(actual - expected[j]!) > 1e-4 * Math.max(1, Math.abs(expected[j]!))) expect.fail(`user ${u} item ${j + 1}: ${actual} vs naive ${expected[j]}`);
      }
      const naive = naiveTopK(expected, 10, new Set(historyOf(users, u)));
      const got = Array.from(top.items.subarray(u * 10, (u + 1) * 10));
      // equal up to float32 near-ties: every returned item scores within 1e-5 of the naive list's score at its rank
      got.forEach((id, r) => expect(Math.abs(expected[id - 1]! - expected[naive[r]! - 1]!)).toBeLessThan(1e-5));
    }
  });

  it('β is the argmax of the grid on validation (computed naively), never on test', async () => {
    const search = model.training.betaSearch!;
    expect(search.map((entry) => entry.beta)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(model.training.betaSource).toBe('validation');
    // naive: every validation user's NDCG@10 of (1 − β)·CF + β·Σ semantic, history excluded
    const validation = split.validation;
    const all: HistoryBatch = { offsets: validation.historyOffsets, items: validation.historyItems };
    const queries = await model.userQueries(all);
    const tokens = await model.itemTokens();
    const d = model.architecture.hiddenSize;
    const slots = model.architecture.semanticTokens + 1;
    const sums = new Float64Array(search.length);
    let counted = 0;
    for (let u = 0; u < validation.size; u++) {
      if (validation.historyOffsets[u + 1] === validation.historyOffsets[u]) continue;
      counted++;
      const target = validation.targetItems[validation.targetOffsets[u]!]!;
      const q = queries.data.subarray(u * queries.cols, (u + 1) * queries.cols);
      const cf = new Float64Array(model.itemCount);
      const semantic = new Float64Array(model.itemCount);
      for (let i = 0; i < model.itemCount; i++) {
        for (let s = 0; s < slots; s++) {
          let dot = 0;
          for (let c = 0; c < d; c++) dot += q[s * d + c]! * tokens.data[i * tokens.cols + s * d + c]!;
          if (s === 0) cf[i] = dot;
          else semantic[i]! += dot;
        }
      }
      search.forEach((entry, g) => {
        const scores = Array.from(cf, (value, i) => (1 - entry.beta) * value + entry.beta * semantic[i]!);
        const rank = naiveTopK(scores, 10, new Set(historyOf(all, u))).indexOf(target);
        if (rank >= 0) sums[g]! += 1 / Math.log2(rank + 2);
      });
    }
    search.forEach((entry, g) => expect(entry.value).toBeCloseTo(sums[g]! / counted, 6));
    const best = search.reduce((found, entry) => (entry.value > found.value ? entry : found));
    expect(model.beta).toBe(best.beta);
    expect((model.describe().validation as Record<string, number>).beta).toBe(best.beta);
  });

  it('the recorded validation metrics, taken from the β search in one pass, are validateRecommender\'s on the kept model', async () => {
    const validationUsers = selectValidationUsers(split.validation, model.itemCount, undefined, CHEAP.seed!);
    expectEveryUserHasHistory(validationUsers);
    const recorded = model.describe().validation as Record<string, number>;
    expect(recorded['ndcg@10']).toBeGreaterThan(0);
    expectRecordedIsMeasured(recorded, await validateRecommender(model, validationUsers, undefined));
  });

  it('another early-stopping metric is measured in the same pass; a user without history sends the epoch through recommend (fallback)', async () => {
    const early = { metric: 'recall@20', patience: 3 } as const;
    const metric = { name: 'recall@20', metric: 'recall', k: 20 } as const;
    const v = split.validation;
    // user 0 loses its history: the model answers it with the fallback, which the search cannot rank
    const cut = v.historyOffsets[1]!;
    const emptied = { ...v, historyOffsets: v.historyOffsets.map((o) => Math.max(0, o - cut)), historyItems: v.historyItems.subarray(cut) };
    for (const [name, validation] of [['every user with a history', v], ['user 0 without history', emptied]] as const) {
      const fitted = await fitSetrec({ ...fitData, validation }, { ...CHEAP, cfVectors, epochs: 1, earlyStopping: early });
      try {
        const recorded = fitted.describe().validation as Record<string, number>;
        const measured = await validateRecommender(fitted, selectValidationUsers(validation, fitted.itemCount, undefined, CHEAP.seed!), metric);
        expect(Object.keys(recorded), name).toEqual(['ndcg@10', 'recall@10', 'recall@20', 'beta']);
        expect(Object.keys(measured), name).toEqual(['ndcg@10', 'recall@10', 'recall@20']);
        for (const key of Object.keys(measured)) expect(recorded[key], `${name}: ${key}`).toBeCloseTo(measured[key]!, 9);
        expect(recorded['recall@20']!, name).toBeGreaterThan(recorded['recall@10']!);
        expect(recorded['beta'], name).toBe(fitted.beta);
      } finally {
        await fitted.dispose();
      }
    }
  });

  it('without validation data β falls back, and a given β is kept', async () => {
    const fallback = await fitSetrec({ train: split.train, catalog: fitData.catalog! }, { ...CHEAP, cfVectors, epochs: 1 });
    const given = await fitSetrec({ train: split.train, catalog: fitData.catalog! }, { ...CHEAP, cfVectors, epochs: 1, beta: 0.3 });
    try {
      expect([fallback.beta, fallback.training.betaSource]).toEqual([0.5, 'fallback']);
      expect([given.beta, given.training.betaSource]).toEqual([0.3, 'given']);
      expect(Array.from(given.slotWeights())).toEqual(Array.from(Float32Array.of(0.7, 0.3, 0.3, 0.3, 0.3)));
    } finally {
      await fallback.dispose();
      await given.dispose();
    }
  });
});

describe('SETRec inference through a vector index', () => {
  it('FlatIndex gives the exact ranking; hnswlib, usearch and LanceDB reach recall@10 ≥ 0.9 against it', async () => {
    const exact = await model.recommend(users, { k: 10 });
    const width = (model.architecture.semanticTokens + 1) * model.architecture.hiddenSize;
    await model.useIndex(new FlatIndex({ dimension: width, metric: 'ip' }));
    try {
      const flat = await model.recommend(users, { k: 10 });
      for (let u = 0; u < 30; u++) {
        expect(Array.from(flat.items.subarray(u * 10, u * 10 + 10)), `user ${u}`).toEqual(Array.from(exact.items.subarray(u * 10, u * 10 + 10)));
        for (const id of historyOf(users, u)) expect(Array.from(flat.items.subarray(u * 10, u * 10 + 10))).not.toContain(id);
        // index scores are the raw weighted inner products: the log-softmax scores plus one per-user constant
        const shift = flat.scores[u * 10]! - exact.scores[u * 10]!;
        for (let r = 1; r < 10; r++) expect(flat.scores[u * 10 + r]! - exact.scores[u * 10 + r]!).toBeCloseTo(shift, 3);
      }
      // every other backend genrec ships: hnswlib, usearch (f32, f16), LanceDB (brute force: its IVF-PQ
      // needs 256 vectors, this catalogue has 120; SASRec's backend test covers it)
      const lance = (): Promise<LanceIndex> => LanceIndex.create({ path: join(temporary(), 'index'), dimension: width, metric: 'ip' });
      const backends: Array<[string, () => Promise<VectorIndex>]> = [
        ['hnswlib', async () => new HnswIndex({ dimension: width, metric: 'ip', m: 16, efConstruction: 100, seed: 1 })],
        ['usearch f32', async () => new UsearchIndex({ dimension: width, metric: 'ip', m: 16, efConstruction: 100, ef: 64 })],
        ['usearch f16', async () => new UsearchIndex({ dimension: width, metric: 'ip', m: 16, efConstruction: 100, ef: 64, quantization: 'f16' })],
        ['LanceDB brute force', lance],
      ];
      for (const [name, make] of backends) {
        const index = await make();
        try {
          await model.useIndex(index);
          const approximate = await model.recommend(users, { k: 10 });
          let found = 0;
          for (let u = 0; u < 30; u++) {
            const truth = new Set(exact.items.subarray(u * 10, u * 10 + 10));
            const list = Array.from(approximate.items.subarray(u * 10, u * 10 + 10));
            for (const id of list) if (truth.has(id)) found++;
            for (const id of historyOf(users, u)) expect(list, `${name}, user ${u}`).not.toContain(id);
          }
          expect(found / 300, name).toBeGreaterThanOrEqual(0.9);
        } finally {
          await model.useIndex(undefined);
          if (index instanceof LanceIndex) await index.close();
        }
      }
      await expect(model.useIndex(new FlatIndex({ dimension: width + 1, metric: 'ip' }))).rejects.toThrow(GenrecError);
    } finally {
      await model.useIndex(undefined);
    }
  });
});

describe('discrete SETRec (PQ/OPQ codes per slot)', () => {
  it('scores Σ_s w_s log p_s(code_s) exactly, ranks with SetIdDecoder, and saves/loads', async () => {
    const discrete = await discretizeSetrec(model, { codebookSize: 16, rotation: 'opq', opqIterations: 2, validation: split.validation });
    const folder = join(temporary(), 'discrete');
    try {
      expect(discrete.variant).toBe('discrete');
      expect(discrete.training.betaSource).toBe('validation');
      // its validation, from the discrete β search in one pass (every validation user has a history), is
      // validateRecommender's on the discrete model
      const validationUsers = selectValidationUsers(split.validation, discrete.itemCount, undefined, 0);
      expectEveryUserHasHistory(validationUsers);
      const recorded = discrete.training.validation!;
      expect(recorded['beta']).toBe(discrete.beta);
      expectRecordedIsMeasured(recorded, await validateRecommender(discrete, validationUsers, undefined));
      const table = await discrete.setIdTable();
      expect(table.codebookSizes).toEqual([16, 16, 16, 16, 16]);
      const queries = await discrete.userQueries(users);
      const d = discrete.architecture.hiddenSize;
      const weights = discrete.slotWeights();
      const all = Array.from({ length: discrete.itemCount }, (_, j) => j + 1);
      const scores = await discrete.score(users, Array.from({ length: 30 }, () => all));
      const top = await discrete.recommend(users, { k: 10 });
      const { codebooks, codes } = (table as DiscreteSetTable).parts;
      const slots = table.slotCount;
      for (let u = 0; u < 30; u++) {
        const q = queries.data.subarray(u * queries.cols, (u + 1) * queries.cols);
        // per slot: log-softmax over the slot's codes, looked up at each item's code
        const expected = new Float64Array(discrete.itemCount);
        for (let s = 0; s < slots; s++) {
          const logits = Array.from({ length: 16 }, (_, c) => {
            let dot = 0;
            for (let e = 0; e < d; e++) dot += q[s * d + e]! * codebooks[s]![c * d + e]!;
            return dot;
          });
          const normalizer = logSumExp(logits);
          for (let i = 0; i < discrete.itemCount; i++) expected[i] = expected[i]! + weights[s]! * (logits[codes[i * slots + s]!]! - normalizer);
        }
        for (let j = 0; j < discrete.itemCount; j++) expect(scores[u * discrete.itemCount + j]!).toBeCloseTo(expected[j]!, 4);
        const naive = naiveTopK(expected, 10, new Set(historyOf(users, u)));
        const got = Array.from(top.items.subarray(u * 10, (u + 1) * 10));
        got.forEach((id, r) => expect(Math.abs(expected[id - 1]! - expected[naive[r]! - 1]!)).toBeLessThan(1e-5));
      }
      await discrete.save(folder);
      const loaded = await loadSetrec(folder);
      try {
        const again = await loaded.recommend(users, { k: 10 });
        expect(Array.from(again.items)).toEqual(Array.from(top.items));
        expect(Array.from(again.scores)).toEqual(Array.from(top.scores));
        expect(loaded.describe()).toEqual(discrete.describe());
      } finally {
        await loaded.dispose();
      }
      await expect(discretizeSetrec(discrete)).rejects.toThrow(/already discrete/);
      await expect(discretizeSetrec(model, { codebookSize: 16, codeEpochs: 1, validation: split.validation })).rejects.toThrow(/train/);
      await expect(discretizeSetrec(model, { codebookSize: 500 })).rejects.toThrow(GenrecError);
    } finally {
      await discrete.dispose();
    }
  });
});

describe('discrete SETRec code training', () => {
  it('trains the transformer on each slot’s codes and keeps the best epoch on validation (epoch 0 = none)', async () => {
    const events: string[] = [];
    const trained = await discretizeSetrec(model, {
      codebookSize: 16,
      cfCodebookSize: 32,
      rotation: 'none',
      validation: split.validation,
      train: split.train,
      codeEpochs: 2,
      learningRate: 0.01,
      onProgress: (event) => event.type.startsWith('task') && 'task' in event && event.task === 'setrec-code-training' && events.push(event.type),
    });
    try {
      const summary = trained.training.codeTraining!;
      expect(summary.epochs).toBe(2);
      expect(summary.losses).toHaveLength(2);
      expect(summary.losses[1]!).toBeLessThan(summary.losses[0]!);
      expect([0, 1, 2]).toContain(summary.keptEpoch);
      expect(events).toEqual(['task-start', 'task-progress', 'task-progress', 'task-end']);
      // the autoencoder and the CF projection (the inputs) are untouched; the transformer moved iff an epoch was kept
      const before = model.parameterValues();
      const after = trained.parameterValues();
      expect(Array.from(after.get('autoencoder.encoder0.weight')!)).toEqual(Array.from(before.get('autoencoder.encoder0.weight')!));
      expect(Array.from(after.get('cf_projection.weight')!)).toEqual(Array.from(before.get('cf_projection.weight')!));
      const moved = Array.from(after.get('queries.weight')!).some((v, i) => v !== before.get('queries.weight')![i]);
      expect(moved).toBe(summary.keptEpoch > 0);
      const result = await trained.recommend(users, { k: 10 });
      expect(Array.from(result.lengths).every((length) => length === 10)).toBe(true);
    } finally {
      await trained.dispose();
    }
  });
});

describe('SETRec save and load', () => {
  it('a fresh process loads the folder and gives identical recommendations', async () => {
    const folder = join(temporary(), 'model');
    await model.save(folder);
    const expected = await model.recommend(users, { k: 10 });
    const scriptFolder = join(import.meta.dirname, '..', '.test-children');
    mkdirSync(scriptFolder, { recursive: true });
    folders.push(scriptFolder);
    const script = join(scriptFolder, 'load-and-recommend.ts');
    writeFileSync(
      script,
      [
        "import { loadSetrec } from '@genrec/model-setrec';",
        'const [folder, offsets, items] = process.argv.slice(2);',
        'const model = await loadSetrec(folder!);',
        'const result = await model.recommend({ offsets: Int32Array.from(JSON.parse(offsets!)), items: Int32Array.from(JSON.parse(items!)) }, { k: 10 });',
        'console.log(JSON.stringify({ items: Array.from(result.items), scores: Array.from(result.scores) }));',
        'await model.dispose();',
      ].join('\n'),
    );
    const tsx = pathToFileURL(createRequire(join(import.meta.dirname, '..', '..', '..', 'package.json')).resolve('tsx')).href;
    const child = spawnSync(process.execPath, ['--conditions=@genrec/source', '--import', tsx, script, folder, JSON.stringify(Array.from(users.offsets)), JSON.stringify(Array.from(users.items))], {
      encoding: 'utf8',
      cwd: join(import.meta.dirname, '..'),
    });
    expect(child.status, child.stderr).toBe(0);
    const output = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { items: number[]; scores: number[] };
    expect(output.items).toEqual(Array.from(expected.items));
    expect(output.scores).toEqual(Array.from(expected.scores));
  });
});
