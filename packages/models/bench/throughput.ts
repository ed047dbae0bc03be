/**
 * Recommendation throughput (users/s) of saved model folders of any kind, in one window: top-10
 * with the whole history excluded on Amazon 2014 test histories, batch 1 (one call per user) and
 * batch 64, each model warmed up first. Models with `useIndex` (SASRec, SETRec) can be measured a
 * second time through an HNSW index (`--hnsw LABEL`), with the recall@10 of its lists against the
 * exact ones.
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/throughput.ts \
 *     --model sasrec=DIR --model setrec=DIR --model tiger=DIR [--hnsw setrec] [--data toys|sports] \
 *     [--users-b1 200] [--users-b64 2048]
 *
 * Prints one JSON line per measurement on stderr and a JSON summary on stdout.
 */
import { loadavg } from 'node:os';
import { HnswIndex, recallAtK } from '@genrec/ann';
import { sharedPath, type HistoryBatch, type Recommender, type VectorIndex } from '@genrec/core';
import { leaveOneOutSplit, readSequenceFile } from '@genrec/data';
import { loadRecommender } from '../src/index.js';

const args = process.argv.slice(2);
const values = (name: string): string[] => args.flatMap((a, i) => (a === `--${name}` && args[i + 1] !== undefined ? [args[i + 1]!] : []));
const option = (name: string, fallback: string): string => values(name)[0] ?? fallback;
const files: Record<string, string[]> = { toys: ['amazon2014-toys', 'Toys_and_Games.txt'], sports: ['amazon2014-sports', 'Sports_and_Outdoors.txt'] };
const which = option('data', 'toys');
const file = files[which] ? sharedPath('data', ...files[which]!) : undefined;
const models = values('model').map((spec) => {
  const at = spec.indexOf('=');
  return { label: spec.slice(0, at), directory: spec.slice(at + 1) };
});
if (file === undefined || models.length === 0 || models.some((m) => !m.label || !m.directory)) {
  console.error(file === undefined ? `skipped: ../shared/data has no ${which}` : 'usage: throughput.ts --model LABEL=DIR [--model LABEL=DIR ...] [--hnsw LABEL] [--data toys|sports]');
  process.exit(file === undefined ? 0 : 2);
}
const set = leaveOneOutSplit(await readSequenceFile(file)).test;
const usersB1 = Number(option('users-b1', '200'));
const usersB64 = Number(option('users-b64', '2048'));
if (2000 + usersB64 > set.size || 1000 + usersB1 > 2000) throw new Error(`--users-b1 must be at most 1000 and --users-b64 at most ${set.size - 2000}`);
const slice = (from: number, to: number): HistoryBatch => {
  const base = set.historyOffsets[from]!;
  return { offsets: Int32Array.from(set.historyOffsets.subarray(from, to + 1), (o) => o - base), items: set.historyItems.slice(base, set.historyOffsets[to]!) };
};

/** Users/s at batch 1 (users 1000..) and batch 64 (users 2000..), and the batch-64 lists. */
async function measure(name: string, model: Recommender): Promise<{ row: Record<string, number | string>; lists: Int32Array }> {
  // warm-up at both batch sizes (sessions of each shape, workers)
  await model.recommend(slice(0, 64), { k: 10 });
  for (let u = 0; u < 3; u++) await model.recommend(slice(64 + u, 65 + u), { k: 10 });
  let started = performance.now();
  for (let u = 0; u < usersB1; u++) await model.recommend(slice(1000 + u, 1001 + u), { k: 10 });
  const b1 = usersB1 / ((performance.now() - started) / 1000);
  const lists = new Int32Array(usersB64 * 10);
  started = performance.now();
  for (let from = 2000; from < 2000 + usersB64; from += 64) {
    const to = Math.min(2000 + usersB64, from + 64);
    lists.set((await model.recommend(slice(from, to), { k: 10 })).items, (from - 2000) * 10);
  }
  const b64 = usersB64 / ((performance.now() - started) / 1000);
  const row = { model: name, users_per_s_batch1: +b1.toFixed(1), users_per_s_batch64: +b64.toFixed(1), load: loadavg()[0]!.toFixed(1) };
  console.error(JSON.stringify(row));
  return { row, lists };
}

/** Recall@10 of the approximate lists against the exact ones (ann's `recallAtK`; the lists' 0 padding as its -1). */
function recallAgainst(approximate: Int32Array, exact: Int32Array): number {
  const padded = (lists: Int32Array) => Int32Array.from(lists, (id) => (id === 0 ? -1 : id));
  return recallAtK(padded(approximate), padded(exact), exact.length / 10, 10);
}

type Indexable = Recommender & { useIndex(index: VectorIndex | undefined): Promise<void>; indexDimension?: number };
const rows: Record<string, number | string>[] = [];
const hnswLabels = new Set(values('hnsw'));
for (const { label, directory } of models) {
  const model = await loadRecommender(directory);
  const described = model.describe();
  const exact = await measure(`${label} (${described.kind}, exact)`, model);
  rows.push(exact.row);
  if (hnswLabels.has(label)) {
    const indexable = model as Indexable;
    if (typeof indexable.useIndex !== 'function') throw new Error(`${label}: a ${described.kind} model has no useIndex`);
    const started = performance.now();
    const index = new HnswIndex({ dimension: indexDimension(model), metric: 'ip', m: 16, efConstruction: 200, ef: 128, seed: 1 });
    await indexable.useIndex(index);
    const buildSeconds = (performance.now() - started) / 1000;
    const approximate = await measure(`${label} (${described.kind}, hnsw m 16 ef 128)`, model);
    rows.push({ ...approximate.row, build_s: +buildSeconds.toFixed(1), recall_at_10_vs_exact: +recallAgainst(approximate.lists, exact.lists).toFixed(4) });
    await indexable.useIndex(undefined);
  }
  await model.dispose();
}
console.log(JSON.stringify({ data: `${which} test histories`, k: 10, excludeHistory: true, rows }));

/** The width of a model's item vectors (SETRec: (semantic tokens + the CF token) x hidden size; SASRec: its hidden size). */
function indexDimension(model: Recommender): number {
  const architecture = (model as { architecture?: { semanticTokens?: number; hiddenSize?: number } }).architecture;
  if (typeof architecture?.semanticTokens === 'number' && typeof architecture.hiddenSize === 'number') return (architecture.semanticTokens + 1) * architecture.hiddenSize;
  const h = model.describe().hyperParameters as Record<string, unknown>;
  if (typeof h.hiddenSize === 'number') return h.hiddenSize;
  throw new Error(`cannot tell the item-vector width of a ${model.kind} model`);
}
