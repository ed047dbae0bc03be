/**
 * Trie-constrained beam search throughput of {@link CausalTransformerStepModel} (the decoder-only
 * form) on a Toys-sized model with random weights (nn's initialisation, seeded): 4 layers, d 128,
 * 4 heads, FFN 512, vocabulary 3 special tokens + 4 levels x 256 codes = 1,027, a catalogue of
 * 11,924 random distinct 4-code ids, histories of 20 items = 80 tokens (each the concatenated codes
 * of 20 random catalogue items), beam 20, top-10. users/s = users / sum of call times (as
 * `bench/tiger-beam.ts` and the peer compute it), after warm-up calls.
 *
 * Usage: tsx --conditions=@genrec/source bench/causal-beam.ts [--workers 2] [--users-b1 64] [--calls-b64 4]
 *        [--warmup 2] [--history 20] [--sub-batch U]
 * Prints a table and one JSON line (stdout).
 */
import { cpus } from 'node:os';
import { createSemanticIdTable, createTokenLayout, Rng, tokenOf } from '@genrec/core';
import { Graph, nn } from '@genrec/nn';
import { beamSearch, createBeamSearchStats } from '../src/beam-search.js';
import { PrefixTrie } from '../src/prefix-trie.js';
import { CausalTransformerStepModel } from '../src/transformer/causal-transformer-step-model.js';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] !== undefined ? process.argv[index + 1]! : fallback;
}
const workers = Number(argument('workers', '2'));
const usersB1 = Number(argument('users-b1', '64'));
const callsB64 = Number(argument('calls-b64', '4'));
const warmupCalls = Number(argument('warmup', '2'));
const historyItems = Number(argument('history', '20'));
const subBatch = process.argv.includes('--sub-batch') ? Number(argument('sub-batch', '8')) : undefined;

const levels = 4;
const codebook = 256;
const itemCount = 11924;
const layout = createTokenLayout({ levelSizes: [codebook, codebook, codebook, codebook] });
const length = historyItems * levels;
const config: nn.CausalTransformerConfig = {
  vocabularySize: layout.vocabularySize,
  modelDimension: 128,
  heads: 4,
  feedForwardDimension: 512,
  layers: 4,
  maxLength: length + levels - 1,
};

// random weights with nn's initialisation
const graph = new Graph({ seed: 7, training: false });
nn.causalTransformer(graph, config, graph.input('tokens', 'int64', [1, length]));
const weights = new Map(graph.parameters.map((p) => [p.tensor.name, p.initial as Float32Array]));

// a catalogue of distinct random 4-code ids and the histories
const rng = new Rng(42);
const seen = new Set<number>();
const codes: number[] = [];
while (seen.size < itemCount) {
  const id = [rng.int(codebook), rng.int(codebook), rng.int(codebook), rng.int(codebook)];
  const key = ((id[0]! * codebook + id[1]!) * codebook + id[2]!) * codebook + id[3]!;
  if (seen.has(key)) continue;
  seen.add(key);
  codes.push(...id);
}
const itemIds = Array.from({ length: itemCount }, (_, i) => i + 1);
const trie = PrefixTrie.fromTable(createSemanticIdTable({ itemIds, codes, levels, codebookSizes: [codebook, codebook, codebook, codebook] }), layout);
const maxUsers = Math.max(usersB1, 64 * callsB64) + 64 * warmupCalls;
const histories = new Int32Array(maxUsers * length);
for (let user = 0; user < maxUsers; user++) {
  for (let h = 0; h < historyItems; h++) {
    const item = rng.int(itemCount);
    for (let level = 0; level < levels; level++) histories[user * length + h * levels + level] = tokenOf(layout, level, codes[item * levels + level]!);
  }
}
const batchOf = (first: number, count: number) => ({ tokens: histories.subarray(first * length, (first + count) * length), batchSize: count, length });

const model = await CausalTransformerStepModel.create({ spec: config, weights, workers, ...(subBatch !== undefined ? { subBatchUsers: subBatch } : {}) });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function measure(batch: number, calls: number): Promise<Record<string, number>> {
  for (let c = 0; c < warmupCalls; c++) await beamSearch(model, batchOf(maxUsers - (c + 1) * batch, batch), { trie, beamWidth: 20, resultCount: 10 });
  const times: number[] = [];
  const stats = createBeamSearchStats();
  let valid = 0;
  let returned = 0;
  for (let c = 0; c < calls; c++) {
    const started = performance.now();
    const result = await beamSearch(model, batchOf(c * batch, batch), { trie, beamWidth: 20, resultCount: 10, stats });
    times.push(performance.now() - started);
    for (const id of result.itemIds) {
      returned++;
      if (id >= 1 && id <= itemCount) valid++;
    }
  }
  const total = times.reduce((a, b) => a + b, 0);
  return {
    batch,
    calls,
    users: batch * calls,
    users_per_s: (batch * calls) / (total / 1000),
    ms_per_call_median: median(times),
    ms_per_call_mean: total / calls,
    model_ms_per_call: stats.modelMs / calls,
    search_ms_per_call: stats.searchMs / calls,
    valid_fraction: valid / returned,
  };
}

const started = performance.now();
const b1 = await measure(1, usersB1);
const b64 = await measure(64, callsB64);
await model.dispose();
const result = {
  workload: 'causal_beam',
  model: 'CausalTransformerStepModel',
  config: { ...config, catalogue: itemCount, history_items: historyItems, context_tokens: length, beam: 20, k: 10 },
  workers,
  cpus: cpus().length,
  runs: { b1, b64 },
  wall_s: (performance.now() - started) / 1000,
};
console.log(`batch  users/s  median ms/call  valid`);
for (const run of [b1, b64]) console.log(`${String(run.batch).padStart(5)}  ${run.users_per_s!.toFixed(1).padStart(7)}  ${run.ms_per_call_median!.toFixed(1).padStart(14)}  ${run.valid_fraction}`);
console.log(JSON.stringify(result));
