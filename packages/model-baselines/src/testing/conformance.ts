import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, assert, describe, expect, it } from 'vitest';
import {
  GenrecError,
  MODEL_FILES,
  datasetFingerprint,
  loadRecommender,
  readModelManifest,
  writeArtifactDirectory,
  writeModelFolder,
  type CommonFitOptions,
  type EpochEndEvent,
  type FitData,
  type FitEndEvent,
  type FitStartEvent,
  type ProgressCallback,
  type ProgressEvent,
  type Recommendations,
  type Recommender,
} from '@genrec/core';
import { historyOf, historySlice, hitRate, ndcg, popularityHitRate, popularityRanking, qualityData, smallData } from './conformance-data.js';

/** Options the suite passes to {@link RecommenderConformanceFactory.fit}. */
export interface ConformanceFitOptions extends CommonFitOptions {
  /** Epoch budget (models that fit in one pass ignore it). */
  epochs: number;
  /**
   * Model hyper-parameters the suite wants on top of the factory's own choice: only the entries
   * of {@link RecommenderConformanceFactory.invalidOptions}, one at a time, to check that they are
   * rejected. Spread them into the model's options.
   */
  hyperParameters?: Record<string, unknown>;
}

/**
 * The options a model that fits in one pass takes from {@link ConformanceFitOptions}: `seed`,
 * `onProgress` and `signal` (only those given) and the suite's `hyperParameters`; `epochs`,
 * `earlyStopping`, `checkpointDirectory` and `resumeFrom` are left out.
 *
 * @example
 * ```ts
 * describeRecommenderConformance({ ..., fit: (data, options) => fitMarkov(data, onePassFitOptions(options)) });
 * ```
 */
export function onePassFitOptions(options: ConformanceFitOptions): { seed?: number; onProgress?: ProgressCallback; signal?: AbortSignal; [option: string]: unknown } {
  return {
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...options.hyperParameters,
  };
}

/** Names of the suite's cases: the keys of {@link RecommenderConformanceFactory.skip}. */
export const RECOMMENDER_CONFORMANCE_CASES = [
  'reaches 3x popularity HitRate@10 on the synthetic default within the epoch budget',
  'describe() reports kind, package, hyper-parameters, catalogue and data fingerprint',
  'scores are on the declared scale',
  'save then load gives identical recommendations and scores',
  'recommend scores agree with score()',
  'excluded, filtered and retired items never appear',
  'an empty history gets the fallback',
  'the same seed gives the same model',
  'abort after the first epoch returns a usable model',
  'resume from a checkpoint equals a straight run',
  'early stopping keeps the best epoch',
  'one epoch-end per epoch with a finite loss and increasing progress',
  'unknown item ids are INVALID_INPUT',
  'k outside 1..maxK is INVALID_OPTION',
  'NaN options are INVALID_OPTION',
  'a model folder of another kind is FORMAT_VERSION',
  'a newer model format version is FORMAT_VERSION',
] as const;

/** One case of the suite. */
export type RecommenderConformanceCase = (typeof RECOMMENDER_CONFORMANCE_CASES)[number];

/** Cases that only apply to models trained by epochs (`supports.training`). */
const TRAINING_CASES: readonly RecommenderConformanceCase[] = ['resume from a checkpoint equals a straight run', 'early stopping keeps the best epoch'];

/** How the suite fits and loads one kind of model. */
export interface RecommenderConformanceFactory {
  /** Shown in the suite's title, e.g. `'SASRec (full softmax)'`. */
  name: string;
  /**
   * Fits a model on `data` with a cheap configuration chosen by the package. Pass `seed`,
   * `onProgress`, `signal`, `earlyStopping`, `checkpointDirectory`, `resumeFrom` and `epochs` on to
   * the model's `fit` (one-pass models ignore what does not apply), and spread `hyperParameters`
   * into its options.
   */
  fit(data: FitData, options: ConformanceFitOptions): Promise<Recommender>;
  /** Loads a folder written by the model's `save` (the package's `load` function). */
  load(directory: string): Promise<Recommender>;
  /** What the model supports. */
  supports: {
    /**
     * True for models trained by epochs: the suite then checks epochs, abort, resume from a
     * checkpoint and early stopping. False for models that fit in one pass (the cases that need
     * epochs are skipped, saying so).
     */
    training: boolean;
  };
  /** Epochs the quality case may train (the package states it in its README). @defaultValue 1 */
  epochBudget?: number;
  /** Epochs of the mechanical training cases (at least 2; one-pass models ignore it). @defaultValue 3 */
  trainingEpochs?: number;
  /**
   * Model options that must be rejected with `INVALID_OPTION`, one object per check, e.g.
   * `[{ smoothing: NaN }, { order: 0 }]` (a NaN `seed` is always checked).
   */
  invalidOptions?: readonly Record<string, unknown>[];
  /**
   * The documented fallback for an empty history. `'popularity'`: the suite checks that it is
   * exactly the most frequent training items (ties to the lower id). Omit it when the fallback is
   * something else (only its shape is then checked).
   */
  emptyHistoryFallback?: 'popularity';
  /**
   * Largest difference allowed between two runs that must agree (save/load, same seed, resume), as
   * `|a - b| <= tolerance * max(1, |a|)`; items must always be identical. @defaultValue 0 (bit-identical)
   */
  reproducibilityTolerance?: number;
  /** Largest difference allowed between `recommend`'s and `score`'s numbers for the same item. @defaultValue 1e-5 */
  scoreTolerance?: number;
  /**
   * Largest difference allowed between the best epoch's reported validation NDCG@10 and the suite's
   * own NDCG@10 of the returned model (all validation users, history excluded, full ranking). @defaultValue 1e-4
   */
  validationTolerance?: number;
  /** Cases to skip, each with the reason (printed in the test name). */
  skip?: Partial<Record<RecommenderConformanceCase, string>>;
}

const TEST_USERS = 40;

interface RecordedFit {
  events: ProgressEvent[];
  onProgress: (event: ProgressEvent) => void;
}

function recorder(onEvent?: (event: ProgressEvent) => void): RecordedFit {
  const events: ProgressEvent[] = [];
  return {
    events,
    onProgress: (event) => {
      events.push(event);
      onEvent?.(event);
    },
  };
}

function fitEvents(events: readonly ProgressEvent[]): (FitStartEvent | EpochEndEvent | FitEndEvent)[] {
  return events.filter((event): event is FitStartEvent | EpochEndEvent | FitEndEvent => event.type === 'fit-start' || event.type === 'epoch-end' || event.type === 'fit-end');
}

function epochEnds(events: readonly ProgressEvent[]): EpochEndEvent[] {
  return events.filter((event): event is EpochEndEvent => event.type === 'epoch-end');
}

function fitEnd(events: readonly ProgressEvent[]): FitEndEvent | undefined {
  return events.filter((event): event is FitEndEvent => event.type === 'fit-end').at(-1);
}

async function expectGenrecError(action: () => unknown, code: string, what: string): Promise<GenrecError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(GenrecError.isInstance(caught), `${what}: expected a GenrecError ${code}, got ${caught === undefined ? 'no error' : String(caught)}`).toBe(true);
  expect((caught as GenrecError).code, `${what}: ${(caught as GenrecError).message}`).toBe(code);
  expect((caught as GenrecError).message.length, `${what}: the message should say what was expected and found`).toBeGreaterThan(15);
  return caught as GenrecError;
}

function close(a: number, b: number, tolerance: number): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a));
}

function expectSameScores(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!close(actual[i]!, expected[i]!, tolerance)) {
      assert.fail(`${what}: entry ${i} is ${actual[i]}, expected ${expected[i]} (tolerance ${tolerance})`);
    }
  }
}

function expectSameRecommendations(actual: Recommendations, expected: Recommendations, tolerance: number, what: string): void {
  expect(actual.size, what).toBe(expected.size);
  expect(actual.k, what).toBe(expected.k);
  expect(Array.from(actual.lengths), `${what}: row lengths`).toEqual(Array.from(expected.lengths));
  expect(Array.from(actual.items), `${what}: items`).toEqual(Array.from(expected.items));
  expectSameScores(actual.scores, expected.scores, tolerance, `${what}: scores`);
}

/** Checks the invariants of any result: ids in range and distinct per row, scores finite and non-increasing, padding. */
function expectWellFormed(result: Recommendations, users: number, k: number, itemCount: number, what: string): void {
  expect(result.size, what).toBe(users);
  expect(result.k, what).toBe(k);
  expect(result.items.length, what).toBe(users * k);
  expect(result.scores.length, what).toBe(users * k);
  for (let u = 0; u < users; u++) {
    const length = result.lengths[u]!;
    expect(length, `${what}: row ${u} length`).toBeGreaterThanOrEqual(0);
    expect(length, `${what}: row ${u} length`).toBeLessThanOrEqual(k);
    const seen = new Set<number>();
    for (let r = 0; r < k; r++) {
      const id = result.items[u * k + r]!;
      const score = result.scores[u * k + r]!;
      if (r < length) {
        if (!(Number.isInteger(id) && id >= 1 && id <= itemCount)) assert.fail(`${what}: row ${u} rank ${r} holds item ${id}, outside 1..${itemCount}`);
        if (seen.has(id)) assert.fail(`${what}: row ${u} holds item ${id} twice`);
        seen.add(id);
        if (!Number.isFinite(score)) assert.fail(`${what}: row ${u} rank ${r} has score ${score}`);
        if (r > 0 && score > result.scores[u * k + r - 1]!) assert.fail(`${what}: row ${u} scores increase at rank ${r}`);
      } else {
        expect(id, `${what}: padding item`).toBe(0);
        expect(score, `${what}: padding score`).toBe(-Infinity);
      }
    }
  }
}

function rowItems(result: Recommendations, u: number): number[] {
  return Array.from(result.items.subarray(u * result.k, u * result.k + result.lengths[u]!));
}

function rowScores(result: Recommendations, u: number): number[] {
  return Array.from(result.scores.subarray(u * result.k, u * result.k + result.lengths[u]!));
}

/** Deterministic candidate lists: `count` ids per user spread over the catalogue. */
function candidateLists(users: number, itemCount: number, count: number): number[][] {
  return Array.from({ length: users }, (_, u) => Array.from({ length: count }, (_, c) => ((u * 7919 + c * 104729) % itemCount) + 1));
}

/** A copy of a saved model folder with its manifest's `modelFormatVersion` raised by one. */
async function writeNewerCopy(source: string, target: string): Promise<void> {
  const { manifest, artifact } = readModelManifest(source);
  await writeArtifactDirectory(target, (folder) => {
    for (const file of artifact.files) {
      const path = join(folder, file);
      mkdirSync(dirname(path), { recursive: true });
      if (file === MODEL_FILES.manifest) writeFileSync(path, JSON.stringify({ ...manifest, modelFormatVersion: manifest.modelFormatVersion + 1 }, null, 2) + '\n');
      else writeFileSync(path, artifact.readFile(file));
    }
  });
}

/**
 * The `Recommender` conformance suite (for vitest): every model package runs it on its own model
 * with a cheap configuration. Data: the synthetic default of `@genrec/data` (quality case) and a
 * small synthetic set (every other case), both split leave-one-out. A package may skip a case only
 * with a written reason (`skip`); models that fit in one pass (`supports.training: false`) skip the
 * epoch cases with that reason.
 *
 * @param factory - how to fit and load the model, see {@link RecommenderConformanceFactory}.
 * @example
 * ```ts
 * import { describeRecommenderConformance, onePassFitOptions } from '@genrec/model-baselines/testing';
 * import { fitMarkov, loadMarkov } from '@genrec/model-baselines';
 *
 * describeRecommenderConformance({
 *   name: 'Markov',
 *   fit: (data, options) => fitMarkov(data, onePassFitOptions(options)),
 *   load: loadMarkov,
 *   supports: { training: false },
 *   invalidOptions: [{ smoothing: NaN }],
 * });
 * ```
 */
export function describeRecommenderConformance(factory: RecommenderConformanceFactory): void {
  const epochBudget = factory.epochBudget ?? 1;
  const trainingEpochs = factory.trainingEpochs ?? 3;
  const reproducibility = factory.reproducibilityTolerance ?? 0;
  const scoreTolerance = factory.scoreTolerance ?? 1e-5;
  const validationTolerance = factory.validationTolerance ?? 1e-4;
  const training = factory.supports.training;
  const directories: string[] = [];
  const temporary = (): string => {
    const directory = mkdtempSync(join(tmpdir(), 'genrec-recommender-conformance-'));
    directories.push(directory);
    return directory;
  };
  const small = smallData();
  const users = historySlice(small.split.test, 0, TEST_USERS);
  let shared: Promise<Recommender> | undefined;
  /** One model on the small data, shared by the cases that do not change it (retirements are undone). */
  const base = (): Promise<Recommender> => (shared ??= factory.fit(small.fitData, { seed: 1, epochs: trainingEpochs }));
  const fitSmall = (options: Omit<ConformanceFitOptions, 'epochs'> & { epochs?: number }, data: FitData = small.fitData): Promise<Recommender> =>
    factory.fit(data, { epochs: trainingEpochs, ...options });

  const test = (name: RecommenderConformanceCase, body: () => Promise<void>): void => {
    const reason = factory.skip?.[name] ?? (!training && TRAINING_CASES.includes(name) ? 'the model fits in one pass (supports.training is false): there are no epochs to resume or stop early' : undefined);
    if (reason !== undefined) {
      it.skip(`${name} — skipped: ${reason}`, () => undefined);
      return;
    }
    it(name, body);
  };

  describe(`Recommender conformance: ${factory.name}`, () => {
    afterAll(async () => {
      if (shared !== undefined) await (await shared).dispose();
      for (const directory of directories) rmSync(directory, { recursive: true, force: true });
    });

    test('reaches 3x popularity HitRate@10 on the synthetic default within the epoch budget', async () => {
      const data = qualityData();
      const model = await factory.fit(data.fitData, { seed: 42, epochs: epochBudget });
      try {
        const modelHitRate = await hitRate(model, data.split.test, 10);
        const popularity = popularityHitRate(data.split.train, data.split.test, 10);
        console.info(
          `[${factory.name}] HitRate@10 on ${data.name}: ${modelHitRate.toFixed(4)} vs popularity ${popularity.toFixed(4)} ` +
            `(${(modelHitRate / popularity).toFixed(2)}x) within ${epochBudget} epoch(s)`,
        );
        expect(popularity, 'popularity HitRate@10 of the synthetic default').toBeGreaterThan(0.01);
        expect(modelHitRate, `HitRate@10 must reach 3 x popularity (${popularity.toFixed(4)})`).toBeGreaterThanOrEqual(3 * popularity);
      } finally {
        await model.dispose();
      }
    });

    test('describe() reports kind, package, hyper-parameters, catalogue and data fingerprint', async () => {
      const model = await base();
      const description = model.describe();
      expect(typeof model.kind === 'string' && model.kind.length > 0, 'kind').toBe(true);
      expect(description.kind).toBe(model.kind);
      expect(description.package.name).toMatch(/^@?[a-z0-9-~][a-z0-9-._~/]*$/);
      expect(description.package.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(description.itemCount).toBe(small.split.train.itemCount);
      expect(model.itemCount).toBe(small.split.train.itemCount);
      expect(description.dataFingerprint).toBe(datasetFingerprint(small.split.train));
      expect(typeof description.hyperParameters).toBe('object');
      expect(JSON.parse(JSON.stringify(description)), 'describe() must survive JSON').toEqual(description);
      expect(Number.isSafeInteger(model.maxK) && model.maxK >= 10, `maxK (${model.maxK}) must be an integer ≥ 10`).toBe(true);
      expect(['log-probability', 'logit', 'count']).toContain(model.scoreScale);
      if (training) expect(Number.isInteger(description.epoch), 'describe().epoch of a model trained by epochs').toBe(true);
    });

    test('scores are on the declared scale', async () => {
      const model = await base();
      const allItems = Array.from({ length: model.itemCount }, (_, j) => j + 1);
      const histories = [historyOf(users, 0), historyOf(users, 1), []];
      const scores = await model.score(histories, histories.map(() => allItems));
      for (let u = 0; u < histories.length; u++) {
        const row = scores.subarray(u * model.itemCount, (u + 1) * model.itemCount);
        for (const value of row) if (!Number.isFinite(value)) assert.fail(`score() gave ${value} for user ${u}`);
        if (model.scoreScale === 'log-probability') {
          // a full softmax over the catalogue: log Σ exp = 0
          const max = Math.max(...row);
          let sum = 0;
          for (const value of row) sum += Math.exp(value - max);
          expect(Math.abs(max + Math.log(sum)), `log-probabilities of user ${u} must normalise over the catalogue`).toBeLessThan(1e-3);
        }
        if (model.scoreScale === 'count') for (const value of row) if (value < 0) assert.fail(`a 'count' score is negative: ${value}`);
      }
    });

    test('save then load gives identical recommendations and scores', async () => {
      const model = await base();
      const plain = await model.recommend(users, { k: 20 });
      const retired = [...new Set([rowItems(plain, 0)[0]!, rowItems(plain, 1)[1]!, rowItems(plain, 2)[2]!])].sort((a, b) => a - b);
      model.retireItems(retired);
      const directory = join(temporary(), 'model');
      try {
        await model.save(directory);
      } finally {
        model.restoreItems(retired);
      }
      const loaded = await factory.load(directory);
      try {
        expect(loaded.kind).toBe(model.kind);
        expect(loaded.itemCount).toBe(model.itemCount);
        expect(loaded.maxK).toBe(model.maxK);
        expect(loaded.scoreScale).toBe(model.scoreScale);
        expect(Array.from(loaded.retiredItems), 'retired items are saved').toEqual(retired);
        expect(loaded.describe()).toEqual(model.describe());
        loaded.restoreItems(retired);
        for (const options of [{ k: 20 }, { k: 20, excludeHistory: false }]) {
          expectSameRecommendations(await loaded.recommend(users, options), await model.recommend(users, options), reproducibility, `after load (${JSON.stringify(options)})`);
        }
        const candidates = candidateLists(TEST_USERS, model.itemCount, 15);
        expectSameScores(await loaded.score(users, candidates), await model.score(users, candidates), reproducibility, 'score() after load');
        const dispatched = await loadRecommender(directory, { loaders: { [model.kind]: factory.load } });
        expect(Array.from(dispatched.retiredItems)).toEqual(retired);
        dispatched.restoreItems(retired);
        expectSameRecommendations(await dispatched.recommend(users, { k: 20 }), plain, reproducibility, 'through loadRecommender');
        await dispatched.dispose();
        // a second save replaces the first
        await model.save(directory);
        const again = await factory.load(directory);
        expect(Array.from(again.retiredItems)).toEqual([]);
        expectSameRecommendations(await again.recommend(users, { k: 20 }), plain, reproducibility, 'after a second save');
        await again.dispose();
      } finally {
        await loaded.dispose();
      }
    });

    test('recommend scores agree with score()', async () => {
      const model = await base();
      for (const excludeHistory of [true, false]) {
        const result = await model.recommend(users, { k: 20, excludeHistory });
        expectWellFormed(result, TEST_USERS, 20, model.itemCount, 'recommend');
        const lists = Array.from({ length: TEST_USERS }, (_, u) => rowItems(result, u));
        const scores = await model.score(users, lists);
        const expected = Array.from({ length: TEST_USERS }, (_, u) => rowScores(result, u)).flat();
        expectSameScores(scores, expected, scoreTolerance, `score() of the recommended items (excludeHistory ${excludeHistory})`);
      }
    });

    test('excluded, filtered and retired items never appear', async () => {
      const model = await base();
      const full = Math.min(model.maxK, model.itemCount);
      const plain = await model.recommend(users, { k: full });
      const k = 25;
      const exclude = Array.from({ length: TEST_USERS }, (_, u) => (u % 5 === 0 ? undefined : rowItems(plain, u).filter((_, r) => r % 2 === 0 && r < 20)));
      const retired = [...new Set([...rowItems(plain, 0).slice(0, 3), ...rowItems(plain, 1).slice(0, 2)])].sort((a, b) => a - b);
      const rejected = (id: number, u: number): boolean => (id + u) % 4 === 0;
      const misuse: string[] = [];
      const filter = (id: number, u: number): boolean => {
        if (!Number.isInteger(id) || id < 1 || id > model.itemCount || !Number.isInteger(u) || u < 0 || u >= TEST_USERS) misuse.push(`filter(${id}, ${u})`);
        return !rejected(id, u);
      };
      expect(model.retiredItems.length, 'the shared model starts without retired items').toBe(0);
      model.retireItems(retired);
      model.retireItems(retired.slice(0, 1)); // retiring twice is a no-op
      try {
        expect(Array.from(model.retiredItems)).toEqual(retired);
        await expectGenrecError(() => model.retireItems([model.itemCount + 1]), 'INVALID_INPUT', 'retiring an unknown id');
        expect(Array.from(model.retiredItems), 'a failed retirement changes nothing').toEqual(retired);
        const result = await model.recommend(users, { k, exclude, filter });
        expectWellFormed(result, TEST_USERS, k, model.itemCount, 'constrained recommend');
        expect(misuse, 'filter is called with catalogue ids and batch positions').toEqual([]);
        for (let u = 0; u < TEST_USERS; u++) {
          const banned = new Set<number>([...historyOf(users, u), ...(exclude[u] ?? []), ...retired]);
          const items = rowItems(result, u);
          for (const id of items) {
            if (banned.has(id)) assert.fail(`user ${u} got item ${id}, which is in the history, the exclude list or retired`);
            if (rejected(id, u)) assert.fail(`user ${u} got item ${id}, which the filter rejects`);
          }
          // the constrained list is the unconstrained ranking with the banned items removed
          const plainItems = rowItems(plain, u);
          const kept = plainItems.map((id) => !banned.has(id) && !rejected(id, u));
          expect(items, `user ${u}: the constrained ranking`).toEqual(plainItems.filter((_, r) => kept[r]).slice(0, k));
          expectSameScores(rowScores(result, u), rowScores(plain, u).filter((_, r) => kept[r]).slice(0, k), scoreTolerance, `user ${u} scores`);
        }
      } finally {
        model.restoreItems(retired);
      }
      expect(Array.from(model.retiredItems)).toEqual([]);
      const restored = await model.recommend(users, { k: full });
      expectSameRecommendations(restored, plain, 0, 'after restoreItems');
    });

    test('an empty history gets the fallback', async () => {
      const model = await base();
      const k = 10;
      const result = await model.recommend([[], []], { k });
      expectWellFormed(result, 2, k, model.itemCount, 'empty histories');
      expect(Array.from(result.lengths)).toEqual([k, k]);
      expect(rowItems(result, 1), 'every empty history gets the same fallback').toEqual(rowItems(result, 0));
      const scores = await model.score([[]], [rowItems(result, 0)]);
      expectSameScores(scores, rowScores(result, 0), scoreTolerance, 'score() of the fallback items');
      const compressed = await model.recommend({ offsets: new Int32Array([0, 0]), items: new Int32Array(0) }, { k });
      expect(rowItems(compressed, 0)).toEqual(rowItems(result, 0));
      if (factory.emptyHistoryFallback === 'popularity') {
        expect(rowItems(result, 0), 'the fallback is the most frequent training items').toEqual(popularityRanking(small.split.train).slice(0, k));
      }
    });

    test('the same seed gives the same model', async () => {
      const first = await fitSmall({ seed: 5 });
      const second = await fitSmall({ seed: 5 });
      try {
        expect(second.describe()).toEqual(first.describe());
        expectSameRecommendations(await second.recommend(users, { k: 20 }), await first.recommend(users, { k: 20 }), reproducibility, 'same seed');
        const candidates = candidateLists(TEST_USERS, first.itemCount, 10);
        expectSameScores(await second.score(users, candidates), await first.score(users, candidates), reproducibility, 'same seed, score()');
      } finally {
        await first.dispose();
        await second.dispose();
      }
    });

    test('abort after the first epoch returns a usable model', async () => {
      const controller = new AbortController();
      const recorded = recorder((event) => {
        if (event.type === 'epoch-end') controller.abort();
      });
      const model = await fitSmall({ seed: 3, signal: controller.signal, onProgress: recorded.onProgress, earlyStopping: false });
      try {
        expect(epochEnds(recorded.events).length, 'epoch-end events after an abort at the first one').toBe(1);
        const end = fitEnd(recorded.events);
        expect(end, 'fit-end is emitted').toBeDefined();
        expect(end!.epochs).toBe(1);
        if (training) {
          expect(end!.stoppedBy).toBe('abort');
          expect(model.describe().epoch).toBe(1);
        }
        const result = await model.recommend(users, { k: 10 });
        expectWellFormed(result, TEST_USERS, 10, model.itemCount, 'aborted model');
        expect(Array.from(result.lengths).every((length) => length === 10)).toBe(true);
      } finally {
        await model.dispose();
      }
      // a signal aborted before fit starts: fit still resolves with a usable model
      const aborted = new AbortController();
      aborted.abort();
      const early = await fitSmall({ seed: 3, signal: aborted.signal });
      try {
        const result = await early.recommend(users, { k: 10 });
        expectWellFormed(result, TEST_USERS, 10, early.itemCount, 'model aborted before the first epoch');
      } finally {
        await early.dispose();
      }
    });

    test('resume from a checkpoint equals a straight run', async () => {
      expect(trainingEpochs, 'trainingEpochs must be at least 2 to resume').toBeGreaterThanOrEqual(2);
      const straight = await fitSmall({ seed: 9, earlyStopping: false, checkpointDirectory: join(temporary(), 'straight') });
      const checkpoint = join(temporary(), 'checkpoint');
      const controller = new AbortController();
      const interrupted = await fitSmall({
        seed: 9,
        earlyStopping: false,
        checkpointDirectory: checkpoint,
        signal: controller.signal,
        onProgress: (event) => {
          if (event.type === 'epoch-end') controller.abort();
        },
      });
      await interrupted.dispose();
      const recorded = recorder();
      const resumed = await fitSmall({ seed: 9, earlyStopping: false, checkpointDirectory: checkpoint, resumeFrom: checkpoint, onProgress: recorded.onProgress });
      try {
        const start = recorded.events.find((event): event is FitStartEvent => event.type === 'fit-start');
        expect(start?.startEpoch, 'fit-start.startEpoch of the resumed run').toBe(1);
        expect(epochEnds(recorded.events).map((event) => event.epoch)).toEqual(Array.from({ length: trainingEpochs - 1 }, (_, i) => i + 2));
        expectSameRecommendations(await resumed.recommend(users, { k: 20 }), await straight.recommend(users, { k: 20 }), reproducibility, 'resumed vs straight');
        const candidates = candidateLists(TEST_USERS, straight.itemCount, 10);
        expectSameScores(await resumed.score(users, candidates), await straight.score(users, candidates), reproducibility, 'resumed vs straight, score()');
      } finally {
        await straight.dispose();
        await resumed.dispose();
      }
    });

    test('early stopping keeps the best epoch', async () => {
      const recorded = recorder();
      const epochs = Math.max(trainingEpochs, 4);
      const model = await fitSmall({ seed: 4, epochs, earlyStopping: { metric: 'ndcg@10', patience: 1 }, onProgress: recorded.onProgress });
      try {
        const ends = epochEnds(recorded.events);
        expect(ends.length).toBeGreaterThanOrEqual(1);
        let bestValue = -Infinity;
        let bestEpoch = 0;
        for (const event of ends) {
          const value = event.validation?.['ndcg@10'];
          expect(Number.isFinite(value), `epoch ${event.epoch} reports validation ndcg@10`).toBe(true);
          if (event.best) {
            expect(value!, `epoch ${event.epoch} is marked best`).toBeGreaterThanOrEqual(bestValue);
            bestValue = value!;
            bestEpoch = event.epoch;
          } else {
            expect(value!, `epoch ${event.epoch} is not marked best`).toBeLessThanOrEqual(bestValue);
          }
        }
        const end = fitEnd(recorded.events)!;
        expect(end.bestEpoch).toBe(bestEpoch);
        expect(model.describe().epoch, 'describe().epoch names the kept epoch').toBe(bestEpoch);
        if (end.stoppedBy === 'early-stopping') expect(end.epochs - end.bestEpoch, 'stopped after `patience` epochs without improvement').toBe(1);
        else expect(end.epochs).toBe(epochs);
        const kept = await ndcg(model, small.split.validation, 10);
        expect(Math.abs(kept - bestValue), `the returned model's validation NDCG@10 (${kept}) is the best epoch's (${bestValue})`).toBeLessThanOrEqual(validationTolerance);
      } finally {
        await model.dispose();
      }
    });

    test('one epoch-end per epoch with a finite loss and increasing progress', async () => {
      const recorded = recorder();
      const model = await fitSmall({ seed: 2, earlyStopping: false, onProgress: recorded.onProgress }, { train: small.split.train });
      await model.dispose();
      const events = fitEvents(recorded.events);
      const start = events[0];
      expect(start?.type, 'the first fit event').toBe('fit-start');
      if (start?.type !== 'fit-start') return;
      expect(start.model).toBe(model.kind);
      expect(start.startEpoch).toBe(0);
      expect(Number.isInteger(start.stepsPerEpoch) && start.stepsPerEpoch >= 1, 'stepsPerEpoch').toBe(true);
      const expectedEpochs = training ? trainingEpochs : start.epochs;
      expect(start.epochs).toBe(expectedEpochs);
      const ends = epochEnds(events);
      expect(ends.map((event) => event.epoch)).toEqual(Array.from({ length: expectedEpochs }, (_, i) => i + 1));
      let progress = 0;
      let elapsed = 0;
      for (const event of ends) {
        expect(event.epochs).toBe(expectedEpochs);
        expect(Number.isFinite(event.loss), `epoch ${event.epoch} loss ${event.loss}`).toBe(true);
        expect(event.progress, `epoch ${event.epoch} progress`).toBeGreaterThan(progress);
        expect(event.progress).toBeLessThanOrEqual(1);
        expect(event.elapsedMs).toBeGreaterThanOrEqual(elapsed);
        expect(Number.isFinite(event.etaMs) && event.etaMs >= 0, `epoch ${event.epoch} etaMs`).toBe(true);
        expect(event.best, 'without validation every epoch is the best so far').toBe(true);
        progress = event.progress;
        elapsed = event.elapsedMs;
      }
      expect(progress, 'the last epoch-end has progress 1').toBeCloseTo(1, 9);
      const end = events.at(-1);
      expect(end?.type, 'the last fit event').toBe('fit-end');
      if (end?.type !== 'fit-end') return;
      expect(end.epochs).toBe(expectedEpochs);
      expect(end.bestEpoch).toBe(expectedEpochs);
      expect(end.stoppedBy).toBe('epochs');
    });

    test('unknown item ids are INVALID_INPUT', async () => {
      const model = await base();
      const n = model.itemCount;
      for (const bad of [0, n + 1, -3, 1.5, Number.NaN]) {
        await expectGenrecError(() => model.recommend([[1], [2, bad]], { k: 5 }), 'INVALID_INPUT', `recommend with item ${bad}`);
        await expectGenrecError(() => model.score([[1, bad]], [[1]]), 'INVALID_INPUT', `score with history item ${bad}`);
        await expectGenrecError(() => model.score([[1]], [[2, bad]]), 'INVALID_INPUT', `score with candidate ${bad}`);
      }
      await expectGenrecError(() => model.recommend({ offsets: new Int32Array([0, 1]), items: new Int32Array([n + 1]) }, { k: 5 }), 'INVALID_INPUT', 'compressed histories with an unknown id');
      await expectGenrecError(() => model.recommend([[1]], { k: 5, exclude: [[n + 1]] }), 'INVALID_INPUT', 'exclude with an unknown id');
    });

    test('k outside 1..maxK is INVALID_OPTION', async () => {
      const model = await base();
      for (const k of [0, -1, model.maxK + 1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
        await expectGenrecError(() => model.recommend([[1, 2]], { k }), 'INVALID_OPTION', `k = ${String(k)}`);
      }
      const largest = await model.recommend([[1, 2]], { k: model.maxK });
      expect(largest.k, 'k = maxK is accepted').toBe(model.maxK);
    });

    test('NaN options are INVALID_OPTION', async () => {
      await expectGenrecError(() => fitSmall({ seed: Number.NaN }), 'INVALID_OPTION', 'seed NaN');
      if (training) await expectGenrecError(() => fitSmall({ seed: 1, epochs: Number.NaN }), 'INVALID_OPTION', 'epochs NaN');
      for (const hyperParameters of factory.invalidOptions ?? []) {
        await expectGenrecError(() => fitSmall({ seed: 1, hyperParameters }), 'INVALID_OPTION', `options ${JSON.stringify(hyperParameters, (_, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value))}`);
      }
    });

    test('a model folder of another kind is FORMAT_VERSION', async () => {
      const model = await base();
      const directory = join(temporary(), 'other-kind');
      await writeModelFolder(directory, {
        model: `${model.kind}-conformance-other-kind`,
        modelFormatVersion: 1,
        description: { ...model.describe(), kind: `${model.kind}-conformance-other-kind` },
        retiredItems: [],
      });
      await expectGenrecError(() => factory.load(directory), 'FORMAT_VERSION', 'loading a folder of another kind');
    });

    test('a newer model format version is FORMAT_VERSION', async () => {
      const model = await base();
      const saved = join(temporary(), 'saved');
      await model.save(saved);
      const newer = join(temporary(), 'newer');
      await writeNewerCopy(saved, newer);
      const error = await expectGenrecError(() => factory.load(newer), 'FORMAT_VERSION', 'loading a newer model format version');
      expect(error.message).toMatch(/newer|version/i);
      // the untouched copy still loads
      const loaded = await factory.load(saved);
      await loaded.dispose();
    });
  });
}
