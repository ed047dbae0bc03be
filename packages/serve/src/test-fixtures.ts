// Test fixtures (not exported): small models fitted on @genrec/data's synthetic default and saved
// as model folders, built once per test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Recommender } from '@genrec/core';
import { generateSyntheticDataset, leaveOneOutSplit, type DatasetSplit } from '@genrec/data';
import { fitMarkov, fitPopularity, fitSasrec, loadMarkov } from '@genrec/models';

/** The synthetic default split and a few test users' histories. */
export interface Fixture {
  split: DatasetSplit;
  root: string;
  /** Markov order 1, with external ids (`item-<id>`) and titles. */
  markovDir: string;
  /** Popularity, with titles and no external ids. */
  popularityDir: string;
  /** Histories of the first test users. */
  histories: number[][];
  cleanup(): void;
}

let cached: Fixture | undefined;

/** External id of item `id` in the fixture folders. */
export const externalIdOf = (id: number): string => `item-${id}`;

/** Fits and saves the baseline models (cached per process). */
export async function baselineFixture(): Promise<Fixture> {
  if (cached) return cached;
  const synthetic = generateSyntheticDataset();
  const split = leaveOneOutSplit(synthetic.dataset, { maxHistoryLength: 50 });
  const root = mkdtempSync(join(tmpdir(), 'genrec-serve-'));
  const markovDir = join(root, 'markov');
  const popularityDir = join(root, 'popularity');
  try {
    const externalItemIds = ['', ...Array.from({ length: split.train.itemCount }, (_, i) => externalIdOf(i + 1))];
    const markov = await fitMarkov({ train: { ...split.train, externalItemIds }, catalog: synthetic.catalog });
    await markov.save(markovDir);
    const popularity = await fitPopularity({ train: split.train, catalog: synthetic.catalog });
    await popularity.save(popularityDir);
  } catch (error) {
    // no fixture, so no cleanup() for the caller's afterAll to call
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  const histories: number[][] = [];
  for (let u = 0; u < 64; u++) histories.push(Array.from(split.test.historyItems.subarray(split.test.historyOffsets[u]!, split.test.historyOffsets[u + 1]!)));
  cached = { split, root, markovDir, popularityDir, histories, cleanup: () => rmSync(root, { recursive: true, force: true }) };
  return cached;
}

/** A tiny SASRec (d 16, 1 block, 1 epoch) fitted on the fixture's split and saved. */
export async function sasrecFolder(fixture: Fixture): Promise<string> {
  const model = await fitSasrec({ train: fixture.split.train }, { hiddenSize: 16, blocks: 1, heads: 1, maxLength: 20, epochs: 1, batchSize: 256, threads: 1, seed: 1, earlyStopping: false });
  const directory = join(fixture.root, 'sasrec');
  await model.save(directory);
  await model.dispose();
  return directory;
}

/** Wraps a model so that every `recommend` waits `delayMs` first, and counts calls and disposals. */
export function slowed(model: Recommender, delayMs: number): Recommender & { calls: number; disposed: boolean } {
  const wrapper = Object.create(model) as Recommender & { calls: number; disposed: boolean };
  wrapper.calls = 0;
  wrapper.disposed = false;
  wrapper.recommend = async (histories, options) => {
    wrapper.calls++;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return model.recommend(histories, options);
  };
  wrapper.dispose = async () => {
    wrapper.disposed = true;
    await model.dispose();
  };
  return wrapper;
}

/** A loader for Markov folders that slows the model down (see {@link slowed}); records what it made. */
export function slowMarkovLoader(delayMs: number, made: (Recommender & { calls: number; disposed: boolean })[] = []) {
  return {
    made,
    loaders: {
      markov: async (directory: string) => {
        const model = slowed(await loadMarkov(directory), delayMs);
        made.push(model);
        return model;
      },
    },
  };
}

/** POSTs JSON and returns the status and parsed body. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}
