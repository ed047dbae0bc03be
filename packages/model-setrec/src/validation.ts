import { createMatrix, GenrecError, userMetricValue, type ValidationMetric, type ValidationUsers } from '@genrec/core';
import { matMul } from '@genrec/nn';
import type { SetrecRunner } from './runner.js';
import { slotCount } from './setrec-graph.js';

/**
 * Adds one user's value of every metric for every β of `grid` to `sums` (`sums[g · metrics.length +
 * m]`): the score of item `j + 1` is `(1 − β) cf[base + j] + β semantic[base + j]`, items whose
 * `stamp` is `u` (the history) are excluded, ties go to the lower id, and each target's rank is the
 * number of candidates above it (counting stops at the largest K of `metrics`).
 */
export function addBetaRanks(
  cf: ArrayLike<number>,
  semantic: ArrayLike<number>,
  base: number,
  itemCount: number,
  stamp: Int32Array,
  u: number,
  targets: readonly number[],
  grid: readonly number[],
  metrics: readonly ValidationMetric[],
  sums: Float64Array,
): void {
  const depth = Math.max(...metrics.map((m) => m.k));
  grid.forEach((beta, g) => {
    const ranks = targets.map((target) => {
      if (stamp[target] === u) return undefined; // a history item is never recommended
      const t = target - 1;
      const score = (1 - beta) * cf[base + t]! + beta * semantic[base + t]!;
      if (!Number.isFinite(score)) return undefined; // a non-finite score is never recommended
      let above = 0;
      for (let j = 0; j < itemCount; j++) {
        if (stamp[j + 1] === u || j === t) continue;
        const other = (1 - beta) * cf[base + j]! + beta * semantic[base + j]!;
        if (other > score || (other === score && j < t)) {
          // ranks at or beyond the largest K count nothing
          if (++above >= depth) break;
        }
      }
      return above;
    });
    metrics.forEach((metric, m) => {
      sums[g * metrics.length + m]! += userMetricValue(metric, ranks);
    });
  });
}

/** One β of a search: the selection metric's `value` and every metric's mean (`metrics`). */
export interface BetaCandidate {
  beta: number;
  /** The selection metric (the one β is chosen by). */
  value: number;
  /** Every metric of the search by name (`ndcg@10`, `recall@10`, the early-stopping one). */
  metrics: Record<string, number>;
  /** Users averaged over (those with a history; the others are left out). */
  users: number;
}

/**
 * Every metric of every β of `grid` on the validation users with a history: the ranking of
 * `(1 − β) <q_0, v_0> + β Σ_{s≥1} <q_s, v_s>` (the order of the weighted log-softmax score, whose
 * per-user constant does not change it), history excluded, ties to the lower id. Float64 sums of
 * the two float32 products. One pass gives the β search and the chosen β's validation metrics
 * (`validateRecommender`'s values on the same model, to float rounding of near ties, when every
 * user has a history).
 *
 * @returns one candidate per grid entry, in grid order (`value` = `selection`)
 */
export async function searchBeta(
  runner: SetrecRunner,
  parameters: ReadonlyMap<string, Float32Array>,
  tokens: Float32Array,
  users: ValidationUsers,
  grid: readonly number[],
  metrics: readonly ValidationMetric[],
  selection: ValidationMetric,
  threads: number,
): Promise<BetaCandidate[]> {
  const a = runner.architecture;
  const d = a.hiddenSize;
  const slots = slotCount(a);
  const width = slots * d;
  const n = a.itemCount;
  const cfTable = createMatrix(n, d);
  const semanticTable = createMatrix(n, width - d);
  for (let i = 0; i < n; i++) {
    cfTable.data.set(tokens.subarray(i * width, i * width + d), i * d);
    semanticTable.data.set(tokens.subarray(i * width + d, (i + 1) * width), i * (width - d));
  }
  const batch = users.histories;
  const withHistory: number[] = [];
  for (let u = 0; u < users.targetOffsets.length - 1; u++) if (batch.offsets[u + 1]! > batch.offsets[u]!) withHistory.push(u);
  const sums = new Float64Array(grid.length * metrics.length);
  const stamp = new Int32Array(n + 1).fill(-1);
  const blocks: { positions: readonly number[]; queries: Float32Array }[] = [];
  await runner.run(batch, withHistory, parameters, tokens, undefined, (block) => blocks.push({ positions: block.positions, queries: block.queries }));
  const run = { transposeB: true, intraOpNumThreads: threads };
  for (const block of blocks) {
    const rows = block.positions.length;
    const cfQueries = createMatrix(rows, d);
    const semanticQueries = createMatrix(rows, width - d);
    for (let r = 0; r < rows; r++) {
      cfQueries.data.set(block.queries.subarray(r * width, r * width + d), r * d);
      semanticQueries.data.set(block.queries.subarray(r * width + d, (r + 1) * width), r * (width - d));
    }
    const cf = (await matMul(cfQueries, cfTable, run)).data;
    const semantic = (await matMul(semanticQueries, semanticTable, run)).data;
    block.positions.forEach((p, r) => {
      const u = withHistory[p]!;
      for (let i = batch.offsets[u]!; i < batch.offsets[u + 1]!; i++) stamp[batch.items[i]!] = u;
      const targets = Array.from(users.targetItems.subarray(users.targetOffsets[u]!, users.targetOffsets[u + 1]!));
      addBetaRanks(cf, semantic, r * n, n, stamp, u, targets, grid, metrics, sums);
    });
  }
  return betaCandidates(grid, metrics, selection, sums, withHistory.length);
}

/** The candidates of a search from `addBetaRanks`' sums over `users` users. */
export function betaCandidates(grid: readonly number[], metrics: readonly ValidationMetric[], selection: ValidationMetric, sums: Float64Array, users: number): BetaCandidate[] {
  const at = metrics.findIndex((m) => m.name === selection.name);
  if (at < 0) throw new GenrecError('RUNTIME_ERROR', `the β selection metric ${selection.name} is not among the validation metrics`);
  const count = Math.max(1, users);
  return grid.map((beta, g) => {
    const values = Object.fromEntries(metrics.map((m, i) => [m.name, sums[g * metrics.length + i]! / count]));
    return { beta, value: values[selection.name]!, metrics: values, users };
  });
}

/** The best candidate by `value` (the first of equals, i.e. the lowest β of the grid order). */
export function bestBeta(candidates: readonly BetaCandidate[]): BetaCandidate {
  return candidates.reduce((found, entry) => (entry.value > found.value ? entry : found));
}

/**
 * The β of the best candidate, the search as a fit records it (`{ beta, value }` per grid entry)
 * and, when the search ranked every one of `userCount` validation users, the chosen β's metrics as
 * the validation (`beta` added); `undefined` when some user was left out (no history: the model's
 * fallback answers it, so the model must measure the epoch).
 */
export function chooseBeta(candidates: readonly BetaCandidate[], userCount: number): { beta: number; search: { beta: number; value: number }[]; validation: Record<string, number> | undefined } {
  const chosen = bestBeta(candidates);
  return {
    beta: chosen.beta,
    search: candidates.map(({ beta, value }) => ({ beta, value })),
    validation: chosen.users === userCount ? { ...chosen.metrics, beta: chosen.beta } : undefined,
  };
}
