import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { GenrecError, Rng, loadRecommender, type ItemCatalog, type ItemRecord, type Recommender, type RecommenderLoader } from '@genrec/core';
import { ArtifactFixture, FuzzOutcomes, classifyArtifactLoad, randomArtifactMutation, randomDataFileMutation, type ArtifactMutation, type FuzzReport } from '@genrec/core/testing';
import { fitItemKnn, loadItemKnn } from './item-knn.js';
import { fitMarkov, loadMarkov } from './markov.js';
import { fitPopularity, loadPopularity } from './popularity.js';
import { randomDataset } from './test-helpers.js';

// Property-based fuzzing of the baselines' model folders (test-only; excluded from the build). A
// case mutates one file of a saved folder with core's artifact fuzz kit (bytes, words, truncation,
// appended bytes, JSON fields, the CURRENT pointer), mostly re-signing the checksum list so that
// core's manifest checks (openModelFolder) and the baseline loaders' own checks are reached; it
// then loads the folder and classifies the outcome. Anything but a GenrecError or a model that
// passes the invariants below fails the property.

/** The baseline kinds fuzzed here. */
export type BaselineKind = 'popularity' | 'markov' | 'item-knn';

/** Every baseline loader, for `loadRecommender` (a mutated `model` field may pick another one). */
const LOADERS: Readonly<Record<BaselineKind, RecommenderLoader>> = { popularity: loadPopularity, markov: loadMarkov, 'item-knn': loadItemKnn };

/** JSON values of model folders for `json` mutations (besides core's interesting numbers, random numbers and strings). */
const JSON_VALUES: readonly unknown[] = [
  null, true, false, '', 'genrec.recommender', 'popularity', 'markov', 'item-knn', 'sasrec', '__proto__', '@genrec/model-baselines', 'weights.safetensors', 'items.json', '../x',
  [], {}, [1, 2], [3, 3], [0], [13], { title: 'x' }, { externalId: 7 }, { order: 2 }, 1e-300, 5e-324, -0,
];

const ITEM_COUNT = 12;
/** Histories of the invariant checks (ids taken modulo the loaded catalogue size). */
const HISTORIES = [[1, 2, 3], [], [5], [12, 12, 4], [7, 8, 9, 10, 11], [2, 1]];
/** Further exclusions, one list per history. */
const EXCLUDE = [[4], undefined, [1, 2], [], undefined, [6]];

/** The small fitted model of `kind` whose folder every case mutates: 12 items, titles and external ids, item 3 retired. */
async function fittedModel(kind: BaselineKind): Promise<Recommender> {
  const train = { ...randomDataset(5, 30, ITEM_COUNT, 8), externalItemIds: Array.from({ length: ITEM_COUNT + 1 }, (_, id) => (id === 0 ? '' : `item-${id}`)) };
  const records: (ItemRecord | undefined)[] = Array.from({ length: ITEM_COUNT + 1 }, (_, id) => (id === 0 ? undefined : { id, title: `Title ${id}`, fields: {} }));
  const catalog: ItemCatalog = { itemCount: ITEM_COUNT, records };
  const model = kind === 'popularity' ? await fitPopularity({ train, catalog }) : kind === 'markov' ? await fitMarkov({ train, catalog }, { order: 2, smoothing: 0.5 }) : await fitItemKnn({ train, catalog }, { neighbours: 4, window: 3 });
  model.retireItems([3]);
  return model;
}

/** Throws a plain Error (which fails the property) unless `condition` holds. */
function ensure(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(`a loaded model broke an invariant: ${message()}`);
}

/**
 * Checks a loaded model: `recommend` returns item ids in `1 .. itemCount`, distinct, never a
 * history, excluded or retired item, as many as remain up to `k` (padding 0 / -Infinity after),
 * finite scores on the declared scale in non-increasing order, equal to what `score` gives; and
 * (with `roundTrip`) a save then `loadRecommender` gives the same description, retired items,
 * recommendations and scores. Any error here, a GenrecError included, fails the property: a
 * folder the loader accepted must give a usable model.
 */
async function checkLoadedModel(model: Recommender, scratch: string, roundTrip: boolean): Promise<void> {
  try {
    const { itemCount } = model;
    ensure(Number.isSafeInteger(itemCount) && itemCount >= 1 && model.maxK >= 1 && model.maxK <= itemCount, () => `itemCount ${itemCount}, maxK ${model.maxK}`);
    const histories = HISTORIES.map((history) => history.map((id) => ((id - 1) % itemCount) + 1));
    const exclude = EXCLUDE.map((list) => list?.map((id) => ((id - 1) % itemCount) + 1));
    const k = Math.min(5, model.maxK);
    const retired = new Set(model.retiredItems);
    const result = await model.recommend(histories, { k, exclude });
    ensure(result.size === histories.length && result.k === k && result.items.length === histories.length * k, () => `shape ${result.size} x ${result.k}`);
    const candidates: number[][] = [];
    for (let u = 0; u < histories.length; u++) {
      const excluded = new Set([...histories[u]!, ...(exclude[u] ?? []), ...retired]);
      const length = result.lengths[u]!;
      ensure(length === Math.min(k, itemCount - excluded.size), () => `user ${u}: ${length} items, ${itemCount - excluded.size} remain, k ${k}`);
      const row: number[] = [];
      for (let j = 0; j < k; j++) {
        const id = result.items[u * k + j]!;
        const score = result.scores[u * k + j]!;
        if (j >= length) {
          ensure(id === 0 && score === Number.NEGATIVE_INFINITY, () => `user ${u}: padding ${id} / ${score}`);
          continue;
        }
        ensure(Number.isInteger(id) && id >= 1 && id <= itemCount, () => `user ${u}: item id ${id} outside 1..${itemCount}`);
        ensure(!excluded.has(id), () => `user ${u}: excluded, history or retired item ${id} recommended`);
        ensure(!row.includes(id), () => `user ${u}: item ${id} twice`);
        ensure(Number.isFinite(score), () => `user ${u}: score ${score}`);
        ensure(model.scoreScale !== 'count' || score >= 0, () => `user ${u}: negative count ${score}`);
        ensure(model.scoreScale !== 'log-probability' || score <= 1e-6, () => `user ${u}: log-probability ${score} > 0`);
        ensure(j === 0 || score <= result.scores[u * k + j - 1]!, () => `user ${u}: scores not in descending order`);
        row.push(id);
      }
      candidates.push(row);
    }
    const scores = await model.score(histories, candidates);
    let at = 0;
    candidates.forEach((row, u) =>
      row.forEach((id, j) => {
        const expected = result.scores[u * k + j]!;
        const got = scores[at++]!;
        ensure(Math.abs(got - expected) <= 1e-5 * Math.max(1, Math.abs(expected)), () => `user ${u}: score(${id}) = ${got}, recommend said ${expected}`);
      }),
    );
    if (!roundTrip) return;
    const copy = join(scratch, 'round-trip');
    await model.save(copy);
    const again = await loadRecommender(copy, { loaders: LOADERS });
    ensure(again.kind === model.kind && JSON.stringify(again.describe()) === JSON.stringify(model.describe()), () => 'the description changed in a save/load round trip');
    ensure(Array.from(again.retiredItems).join() === Array.from(model.retiredItems).join(), () => 'the retired items changed in a save/load round trip');
    const second = await again.recommend(histories, { k, exclude });
    ensure(Array.from(second.items).join() === Array.from(result.items).join() && Array.from(second.scores).join() === Array.from(result.scores).join(), () => 'recommendations changed in a save/load round trip');
    rmSync(copy, { recursive: true, force: true });
  } catch (error) {
    if (GenrecError.isInstance(error)) throw new Error(`a loaded model failed with ${error.code}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** Options of {@link fuzzModelFolder}. */
export interface ModelFolderFuzzOptions {
  kind: BaselineKind;
  /** Cases to run. */
  runs: number;
  seed: number;
  /** `'folder'`: any file of the folder; `'weights'`: `weights.safetensors` alone, always re-signed. @defaultValue 'folder' */
  target?: 'folder' | 'weights';
}

/**
 * Saves a small fitted baseline of `kind`, then loads `runs` mutated copies of its folder
 * (alternately through the kind's loader and core's `loadRecommender` with every baseline
 * loader). Throws (with fast-check's counterexample) when a case ends in anything but a
 * GenrecError or a model that passes the invariants, or takes over 5 s; returns core's fuzz report
 * (outcomes by class). Run it through `fuzzInChild` of `@genrec/core/testing`.
 */
export async function fuzzModelFolder(options: ModelFolderFuzzOptions): Promise<FuzzReport> {
  const target = options.target ?? 'folder';
  const scratch = mkdtempSync(join(tmpdir(), `genrec-model-fuzz-${options.kind}-`));
  const path = join(scratch, 'model');
  await (await fittedModel(options.kind)).save(path);
  const fixture = new ArtifactFixture(path);
  const load = LOADERS[options.kind];
  const outcomes = new FuzzOutcomes(`${options.kind} model folder${target === 'weights' ? ' (weights.safetensors alone, re-signed)' : ''}`);
  const weights = fixture.files.indexOf('weights.safetensors');
  const mutations: fc.Arbitrary<ArtifactMutation> = fc
    .noBias(fc.nat())
    .map((seed) => (target === 'weights' ? randomDataFileMutation(new Rng(seed), weights) : randomArtifactMutation(new Rng(seed), { files: fixture.files.length, jsonValues: JSON_VALUES })));
  let round = 0;
  let loaded = 0;
  try {
    await fc.assert(
      fc.asyncProperty(mutations, async (mutation) => {
        fixture.apply(mutation);
        await classifyArtifactLoad(outcomes, async () => {
          const model = round++ % 2 === 0 ? await load(path) : await loadRecommender(path, { loaders: LOADERS });
          // a save round trip fsyncs several times: every 2nd loaded model is enough
          await checkLoadedModel(model, scratch, loaded++ % 2 === 0);
        });
      }),
      { numRuns: options.runs, seed: options.seed, endOnFailure: true },
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return outcomes.report();
}
