import { assertFinite, createMatrix, GenrecError, progressReporter, Rng, type Matrix, type ProgressCallback, type Seed } from '@genrec/core';
import { matMulTransposed, squaredRowNorms, type KernelBackend } from './kernels.js';

/** Capacity-constrained assignment options (see {@link KMeansOptions.balance}). */
export interface BalanceOptions {
  /**
   * Each cluster holds at most `ceil(capacityFactor * points / clusters)` points. 1 gives
   * near-equal clusters; larger values relax the constraint. Must be at least 1.
   * @defaultValue 1
   */
  capacityFactor?: number;
  /**
   * Nearest centroids kept per point for the greedy assignment; a point whose candidates are all
   * full scans every centroid. When not set and `points x clusters` is at most 2^25, every
   * distance is kept instead (exact greedy, `4 x points x clusters` bytes).
   * @defaultValue 32 (only above 2^25 distances)
   */
  candidates?: number;
}

/** Options of {@link kMeans}. */
export interface KMeansOptions {
  /** Number of clusters (codes). */
  clusterCount: number;
  /**
   * Maximum Lloyd iterations (centroid updates). Stops earlier when no assignment changes.
   * @defaultValue 25
   */
  maxIterations?: number;
  /**
   * Initial centroids: `'kmeans++'` (D² sampling, one candidate per centre) or `'random'`
   * (distinct random points, as faiss does).
   * @defaultValue 'kmeans++'
   */
  init?: 'kmeans++' | 'random';
  /**
   * k-means++ runs on a random subset of this many points (all points when larger than the
   * data); each centre costs one `initCandidates x initSampleSize x dimension` matrix product.
   * @defaultValue 4096
   */
  initSampleSize?: number;
  /**
   * Candidates drawn per k-means++ step; the one that lowers the total squared distance most is
   * kept (greedy k-means++; 1 = plain k-means++).
   * @defaultValue 2 + floor(ln clusterCount), as scikit-learn
   */
  initCandidates?: number;
  /**
   * Capacity-constrained (balanced) assignment against collapse and collisions: each point goes,
   * in order of its distance to its nearest centroid, to the nearest centroid that still has room.
   * `true` means the default {@link BalanceOptions}.
   * @defaultValue false
   */
  balance?: boolean | BalanceOptions;
  /** Seed of the initialisation. @defaultValue 0 */
  seed?: Seed;
  /** Where the distance products run. @defaultValue 'auto' */
  backend?: KernelBackend;
  /** Progress events (`task` = {@link KMeansOptions.task}, one `progress` per iteration). */
  onProgress?: ProgressCallback;
  /** Task name of the progress events. @defaultValue 'kmeans' */
  task?: string;
}

/** What {@link kMeans} returns. */
export interface KMeansResult {
  /** `clusterCount x dimension` centroids. */
  centroids: Matrix;
  /** Nearest centroid (or balanced assignment) of each point, consistent with `centroids`. */
  labels: Int32Array;
  /** Centroid updates done. */
  iterations: number;
  /** True when the last assignment changed no label. */
  converged: boolean;
  /** Empty clusters moved onto far points over all iterations. */
  emptyClustersRepaired: number;
  /** Sum of squared distances of the points to their centroids (from the product form, float32 rounding). */
  inertia: number;
  /** Distance computations (rows x centroids) skipped by the triangle-inequality bounds, as a fraction. */
  skippedFraction: number;
}

/** Rows per distance product: outputs of a few MB are reused by the allocator instead of page-faulted in afresh. */
const ROW_CHUNK = 2048;


/**
 * Lloyd's k-means with squared Euclidean distance. Distances are computed as matrix products
 * (`||x||² - 2 x·c + ||c||²`, through `@genrec/nn` when available); points whose nearest centroid
 * provably did not change (Hamerly's bounds: distance to the own centroid plus its shift below
 * the second-nearest distance minus the largest other shift) are skipped, which gives the same
 * result as plain Lloyd with far fewer products once the clustering settles. Empty clusters are
 * moved onto the points farthest from their centroids. Deterministic for a seed.
 *
 * @throws GenrecError `INVALID_INPUT` for non-finite points or fewer points than clusters,
 * `INVALID_OPTION` for bad options.
 * @example
 * ```ts
 * const { centroids, labels } = await kMeans(points, { clusterCount: 256, seed: 1 });
 * ```
 */
export async function kMeans(points: Matrix, options: KMeansOptions): Promise<KMeansResult> {
  return runKMeans(points, options, undefined, true);
}

/**
 * {@link kMeans} with precomputed squared row norms; `validate: false` skips the finiteness scan
 * (for callers that already checked their input, such as residual k-means on its own residuals).
 * @internal
 */
export async function runKMeans(points: Matrix, options: KMeansOptions, knownNorms: Float64Array | undefined, validate: boolean): Promise<KMeansResult> {
  const clusterCount = options.clusterCount;
  const maxIterations = options.maxIterations ?? 25;
  const n = points.rows;
  const d = points.cols;
  if (!Number.isInteger(clusterCount) || clusterCount < 1) {
    throw new GenrecError('INVALID_OPTION', `clusterCount must be a positive integer, got ${clusterCount}`, { details: { field: 'clusterCount' } });
  }
  if (!Number.isInteger(maxIterations) || maxIterations < 0) {
    throw new GenrecError('INVALID_OPTION', `maxIterations must be a non-negative integer, got ${maxIterations}`, { details: { field: 'maxIterations' } });
  }
  if (n < clusterCount) {
    throw new GenrecError('INVALID_INPUT', `k-means with ${clusterCount} clusters needs at least ${clusterCount} points, got ${n}`);
  }
  if (d === 0) throw new GenrecError('INVALID_INPUT', 'k-means needs points with at least one dimension');
  if (validate) assertFinite(points, 'k-means input');
  const balance = options.balance === true ? {} : options.balance || undefined;
  const capacityFactor = balance?.capacityFactor ?? 1;
  if (balance && !(capacityFactor >= 1)) {
    throw new GenrecError('INVALID_OPTION', `balance.capacityFactor must be at least 1, got ${capacityFactor}`, { details: { field: 'balance.capacityFactor' } });
  }
  const backend = options.backend ?? 'auto';
  const rng = new Rng(options.seed ?? 0);
  const progress = progressReporter(options.onProgress, options.task ?? 'kmeans', { total: maxIterations, unit: 'iterations' });
  progress.start();

  const centroids =
    options.init === 'random' ? randomInit(points, clusterCount, rng) : await kMeansPlusPlusInit(points, clusterCount, options.initSampleSize ?? 4096, rng, backend, options.initCandidates ?? 2 + Math.floor(Math.log(clusterCount)));
  const pointNorms = knownNorms ?? squaredRowNorms(points);
  const labels = new Int32Array(n).fill(-1);
  // Squared distance to the own centroid (exact) and a lower bound of the squared distance to every other one.
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const owner = new Int32Array(n).fill(-1);
  const counts = new Int32Array(clusterCount);
  const sums = new Float64Array(clusterCount * d);
  const touched = new Int32Array(clusterCount);
  const allRows = new Int32Array(n);
  for (let i = 0; i < n; i++) allRows[i] = i;
  const uncertain = new Int32Array(n);
  const balanced = balance
    ? {
        capacity: Math.max(1, Math.ceil((capacityFactor * n) / clusterCount)),
        candidates: Math.min(clusterCount, Math.max(1, balance.candidates ?? 32)),
        keepAll: balance.candidates === undefined && n * clusterCount <= 1 << 25,
      }
    : undefined;
  const assignAll = (): Promise<number> =>
    balanced
      ? assignBalanced(points, pointNorms, centroids, labels, upper, balanced.capacity, balanced.keepAll ? 0 : balanced.candidates, backend)
      : assignNearest(points, pointNorms, allRows, n, centroids, labels, upper, lower, backend);

  await assignAll();
  let iterations = 0;
  let converged = false;
  let repaired = 0;
  let evaluated = n * clusterCount;
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const update = updateCentroids(points, labels, owner, centroids, counts, sums, upper, lower, touched);
    repaired += update.repaired;
    iterations = iteration;
    if (update.touchedCount === 0) {
      converged = true;
      break;
    }
    let changed: number;
    let recomputedRows = n;
    if (balanced || update.touchedCount * 2 >= clusterCount) {
      changed = await assignAll();
      evaluated += n * clusterCount;
    } else {
      // Only the touched centroids moved: distances to them decide, unless a point's bound on
      // the unmoved centroids is too close to call (then its row is recomputed in full).
      const moved = touched.subarray(0, update.touchedCount);
      const partial = await assignToMoved(points, pointNorms, centroids, moved, labels, upper, lower, uncertain, backend);
      changed = partial.changed;
      evaluated += n * moved.length;
      recomputedRows = partial.uncertainCount;
      if (partial.uncertainCount > 0) {
        changed += await assignNearest(points, pointNorms, uncertain, partial.uncertainCount, centroids, labels, upper, lower, backend);
        evaluated += partial.uncertainCount * clusterCount;
      }
    }
    progress.update(iteration, { metrics: { changed, movedCentroids: update.touchedCount, recomputedRows } });
    if (changed === 0) {
      converged = true;
      break;
    }
  }
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += upper[i]!;
  progress.end(iterations, { metrics: { iterations, inertia } });
  return {
    inertia,
    centroids,
    labels,
    iterations,
    converged,
    emptyClustersRepaired: repaired,
    skippedFraction: 1 - evaluated / (n * clusterCount * (iterations + 1)),
  };
}

/**
 * Re-assigns every point when only the centroids `moved` changed. A point keeps exact squared
 * distances to its own centroid (`upper`) and a lower bound for all others (`lower`); the
 * distances to the moved centroids are computed (one product with `moved.length` columns), and
 * when the best exact candidate beats the bound on the unmoved ones, the point is settled.
 * Otherwise it is listed in `uncertain` for a full row. Returns changes and the uncertain count.
 */
async function assignToMoved(
  points: Matrix,
  pointNorms: Float64Array,
  centroids: Matrix,
  moved: Int32Array,
  labels: Int32Array,
  upper: Float64Array,
  lower: Float64Array,
  uncertain: Int32Array,
  backend: KernelBackend,
): Promise<{ changed: number; uncertainCount: number }> {
  const n = points.rows;
  const d = points.cols;
  const m = moved.length;
  const subset = createMatrix(m, d);
  const positionOf = new Int32Array(centroids.rows).fill(-1);
  for (let p = 0; p < m; p++) {
    subset.data.set(centroids.data.subarray(moved[p]! * d, moved[p]! * d + d), p * d);
    positionOf[moved[p]!] = p;
  }
  const movedNorms = squaredRowNorms(subset);
  let changed = 0;
  let uncertainCount = 0;
  // Blocks with outputs of at most ROW_CHUNK x 256 values.
  const chunk = Math.max(ROW_CHUNK, Math.floor((ROW_CHUNK * 256) / m));
  for (let start = 0; start < n; start += chunk) {
    const count = Math.min(chunk, n - start);
    const dots = (await matMulTransposed(createMatrix(count, d, points.data.subarray(start * d, (start + count) * d)), subset, backend)).data;
    for (let r = 0; r < count; r++) {
      const i = start + r;
      const norm = pointNorms[i]!;
      const own = labels[i]!;
      const ownPosition = positionOf[own]!;
      let best = ownPosition >= 0 ? Math.max(0, norm + movedNorms[ownPosition]! - 2 * dots[r * m + ownPosition]!) : upper[i]!;
      let bestIndex = own;
      let second = Infinity;
      for (let p = 0; p < m; p++) {
        if (p === ownPosition) continue;
        const value = Math.max(0, norm + movedNorms[p]! - 2 * dots[r * m + p]!);
        if (value < best) {
          second = best;
          best = value;
          bestIndex = moved[p]!;
        } else if (value < second) second = value;
      }
      const bound = lower[i]!;
      // float32 rounding of the product form: only a clear win settles the point.
      if (best < bound - 1e-5 * (norm + best) - 1e-12) {
        upper[i] = best;
        lower[i] = Math.min(second, bound);
        if (bestIndex !== own) {
          labels[i] = bestIndex;
          changed++;
        }
      } else uncertain[uncertainCount++] = i;
    }
  }
  return { changed, uncertainCount };
}

/**
 * Moves every point whose label changed between the running per-cluster sums (so later
 * iterations cost only what changed), gives every empty cluster the point farthest from its
 * centroid (by `upper`) among clusters with more than one point, and recomputes the centroids of
 * the touched clusters as means. Lists the touched clusters in `touched`.
 */
function updateCentroids(
  points: Matrix,
  labels: Int32Array,
  owner: Int32Array,
  centroids: Matrix,
  counts: Int32Array,
  sums: Float64Array,
  upper: Float64Array,
  lower: Float64Array,
  touched: Int32Array,
): { repaired: number; touchedCount: number } {
  const d = points.cols;
  const n = points.rows;
  const k = counts.length;
  const x = points.data;
  const isTouched = new Uint8Array(k);
  const move = (i: number, to: number): void => {
    const from = owner[i]!;
    const row = i * d;
    if (from >= 0) {
      counts[from] = counts[from]! - 1;
      isTouched[from] = 1;
      const base = from * d;
      for (let t = 0; t < d; t++) sums[base + t] = sums[base + t]! - x[row + t]!;
    }
    counts[to] = counts[to]! + 1;
    isTouched[to] = 1;
    const base = to * d;
    for (let t = 0; t < d; t++) sums[base + t] = sums[base + t]! + x[row + t]!;
    owner[i] = to;
  };
  for (let i = 0; i < n; i++) if (owner[i] !== labels[i]) move(i, labels[i]!);
  let repaired = 0;
  for (let cluster = 0; cluster < k; cluster++) {
    if (counts[cluster] !== 0) continue;
    let far = -1;
    let farDistance = -1;
    for (let i = 0; i < n; i++) {
      if (counts[labels[i]!]! > 1 && upper[i]! > farDistance) {
        farDistance = upper[i]!;
        far = i;
      }
    }
    if (far < 0) break;
    // Start the empty cluster from exactly this point (clear drift in its running sum).
    sums.fill(0, cluster * d, cluster * d + d);
    labels[far] = cluster;
    move(far, cluster);
    upper[far] = 0;
    lower[far] = 0;
    repaired++;
  }
  const c = centroids.data;
  let touchedCount = 0;
  for (let cluster = 0; cluster < k; cluster++) {
    if (!isTouched[cluster]) continue;
    touched[touchedCount++] = cluster;
    const count = counts[cluster]!;
    if (count === 0) continue;
    const inverse = 1 / count;
    for (let t = cluster * d, end = t + d; t < end; t++) c[t] = sums[t]! * inverse;
  }
  return { repaired, touchedCount };
}

/**
 * Assigns `rows[0..rowCount)` to their nearest centroid, storing squared distances to the nearest
 * (`upper`) and second-nearest (`lower`) centroid. Returns how many labels changed.
 */
export async function assignNearest(
  points: Matrix,
  pointNorms: Float64Array,
  rows: Int32Array,
  rowCount: number,
  centroids: Matrix,
  labels: Int32Array,
  upper: Float64Array,
  lower: Float64Array,
  backend: KernelBackend,
): Promise<number> {
  const d = points.cols;
  const k = centroids.rows;
  const centroidNorms = squaredRowNorms(centroids);
  // All rows come in order (0..n-1): blocks are views; otherwise rows are gathered into a buffer.
  const whole = rowCount === points.rows;
  const gathered = whole ? undefined : new Float32Array(Math.min(ROW_CHUNK, rowCount) * d);
  let changed = 0;
  for (let start = 0; start < rowCount; start += ROW_CHUNK) {
    const count = Math.min(ROW_CHUNK, rowCount - start);
    let block: Matrix;
    if (!gathered) block = createMatrix(count, d, points.data.subarray(start * d, (start + count) * d));
    else {
      const x = points.data;
      for (let r = 0; r < count; r++) {
        const from = rows[start + r]! * d;
        const to = r * d;
        for (let t = 0; t < d; t++) gathered[to + t] = x[from + t]!;
      }
      block = createMatrix(count, d, gathered.subarray(0, count * d));
    }
    const dots = (await matMulTransposed(block, centroids, backend)).data;
    changed += nearestOfBlock(dots, count, k, rows, start, centroidNorms, pointNorms, labels, upper, lower);
  }
  return changed;
}

/** The argmin part of {@link assignNearest} for one block of products (sync, so it optimises well). */
function nearestOfBlock(
  dots: Float32Array,
  count: number,
  k: number,
  rows: Int32Array,
  start: number,
  centroidNorms: Float64Array,
  pointNorms: Float64Array,
  labels: Int32Array,
  upper: Float64Array,
  lower: Float64Array,
): number {
  let changed = 0;
  for (let r = 0; r < count; r++) {
    const i = rows[start + r]!;
    let best = Infinity;
    let second = Infinity;
    let bestIndex = 0;
    const base = r * k;
    for (let j = 0; j < k; j++) {
      const value = centroidNorms[j]! - 2 * dots[base + j]!;
      if (value < second) {
        if (value < best) {
          second = best;
          best = value;
          bestIndex = j;
        } else second = value;
      }
    }
    const norm = pointNorms[i]!;
    upper[i] = Math.max(0, norm + best);
    lower[i] = k > 1 ? Math.max(0, norm + second) : Infinity;
    if (labels[i] !== bestIndex) {
      labels[i] = bestIndex;
      changed++;
    }
  }
  return changed;
}

/**
 * Capacity-constrained greedy assignment: points in order of their nearest-centroid distance take
 * their nearest centroid with room left (among `candidates` nearest, else by a full scan).
 * Returns how many labels changed.
 */
async function assignBalanced(
  points: Matrix,
  pointNorms: Float64Array,
  centroids: Matrix,
  labels: Int32Array,
  upper: Float64Array,
  capacity: number,
  candidates: number,
  backend: KernelBackend,
): Promise<number> {
  const n = points.rows;
  const d = points.cols;
  const k = centroids.rows;
  const centroidNorms = squaredRowNorms(centroids);
  // candidates = 0: keep every distance (each choice is a row scan). Else keep the nearest
  // `candidates` per point and fall back to computing distances from the vectors.
  const keepAll = candidates === 0;
  const width = keepAll ? k : candidates;
  const candidateIndex = keepAll ? new Int32Array(0) : new Int32Array(n * width);
  const candidateDistance = new Float32Array(n * width);
  const nearest = new Float64Array(n);
  for (let start = 0; start < n; start += ROW_CHUNK) {
    const count = Math.min(ROW_CHUNK, n - start);
    const dots = (await matMulTransposed(createMatrix(count, d, points.data.subarray(start * d, (start + count) * d)), centroids, backend)).data;
    for (let r = 0; r < count; r++) {
      const i = start + r;
      const base = i * width;
      const norm = pointNorms[i]!;
      let best = Infinity;
      if (keepAll) {
        for (let j = 0; j < k; j++) {
          const value = norm + centroidNorms[j]! - 2 * dots[r * k + j]!;
          candidateDistance[base + j] = value;
          if (value < best) best = value;
        }
        nearest[i] = best;
        continue;
      }
      let filled = 0;
      for (let j = 0; j < k; j++) {
        const value = norm + centroidNorms[j]! - 2 * dots[r * k + j]!;
        if (filled === width && value >= candidateDistance[base + filled - 1]!) continue;
        let position = filled < width ? filled++ : filled - 1;
        while (position > 0 && candidateDistance[base + position - 1]! > value) {
          candidateDistance[base + position] = candidateDistance[base + position - 1]!;
          candidateIndex[base + position] = candidateIndex[base + position - 1]!;
          position--;
        }
        candidateDistance[base + position] = value;
        candidateIndex[base + position] = j;
      }
      nearest[i] = candidateDistance[base]!;
    }
  }
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((p, q) => nearest[p]! - nearest[q]! || p - q);
  const load = new Int32Array(k);
  let changed = 0;
  for (const i of order) {
    let chosen = -1;
    let chosenDistance = Infinity;
    if (keepAll) {
      const base = i * k;
      for (let j = 0; j < k; j++) {
        if (load[j]! < capacity && candidateDistance[base + j]! < chosenDistance) {
          chosenDistance = candidateDistance[base + j]!;
          chosen = j;
        }
      }
    } else {
      for (let c = 0; c < width; c++) {
        const j = candidateIndex[i * width + c]!;
        if (load[j]! < capacity) {
          chosen = j;
          chosenDistance = candidateDistance[i * width + c]!;
          break;
        }
      }
      if (chosen < 0) {
        for (let j = 0; j < k; j++) {
          if (load[j]! >= capacity) continue;
          let sum = 0;
          for (let t = 0; t < d; t++) {
            const delta = points.data[i * d + t]! - centroids.data[j * d + t]!;
            sum += delta * delta;
          }
          if (sum < chosenDistance) {
            chosenDistance = sum;
            chosen = j;
          }
        }
      }
    }
    upper[i] = Math.max(0, chosenDistance);
    load[chosen]!++;
    if (labels[i] !== chosen) {
      labels[i] = chosen;
      changed++;
    }
  }
  return changed;
}

function randomInit(points: Matrix, k: number, rng: Rng): Matrix {
  const n = points.rows;
  const d = points.cols;
  const picks = partialPermutation(n, k, rng);
  const out = createMatrix(k, d);
  for (let j = 0; j < k; j++) out.data.set(points.data.subarray(picks[j]! * d, picks[j]! * d + d), j * d);
  return out;
}

/**
 * Squared distances from every sampled point to the nearest centre once `centre` is added (from
 * the centre's inner products `products[offset + s]`), written to `target`; returns their sum.
 */
function nearestAfterAdding(products: Float32Array, offset: number, norms: Float64Array, size: number, centre: number, nearest: Float64Array, target: Float64Array, first: boolean): number {
  const own = norms[centre]!;
  let potential = 0;
  for (let s = 0; s < size; s++) {
    const scale = norms[s]! + own;
    let distance = scale - 2 * products[offset + s]!;
    // float32 rounding of the expansion: treat near-zero as a coincident point.
    if (distance < 1e-6 * scale || s === centre) distance = 0;
    const previous = nearest[s]!;
    const value = first || distance < previous ? distance : previous;
    target[s] = value;
    potential += value;
  }
  return potential;
}

/** The first `count` entries of a random permutation of `0 .. n-1` (partial Fisher–Yates). */
function partialPermutation(n: number, count: number, rng: Rng): Int32Array {
  const values = new Int32Array(n);
  for (let i = 0; i < n; i++) values[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(n - i);
    const tmp = values[i]!;
    values[i] = values[j]!;
    values[j] = tmp;
  }
  return values.subarray(0, count);
}

/**
 * k-means++ (Arthur & Vassilvitskii): the first centre uniformly, each next one with probability
 * proportional to the squared distance to the nearest chosen centre, over a random subset of
 * `sampleSize` points; with `candidates > 1` each step draws that many candidates and keeps the one
 * that lowers the total squared distance most (greedy k-means++, as scikit-learn). The candidates'
 * distances to the subset come from one matrix product per step.
 */
export async function kMeansPlusPlusInit(
  points: Matrix,
  k: number,
  sampleSize: number,
  rng: Rng,
  backend: KernelBackend = 'auto',
  candidates = 1,
): Promise<Matrix> {
  const n = points.rows;
  const d = points.cols;
  const size = Math.max(k, Math.min(n, Math.floor(sampleSize)));
  const sample = size >= n ? Int32Array.from({ length: n }, (_, i) => i) : partialPermutation(n, size, rng).slice();
  const subset = createMatrix(size, d);
  for (let s = 0; s < size; s++) subset.data.set(points.data.subarray(sample[s]! * d, sample[s]! * d + d), s * d);
  const norms = squaredRowNorms(subset);
  const out = createMatrix(k, d);
  let nearest = new Float64Array(size);
  const chosen = new Uint8Array(size);
  const pick = rng.int(size);
  // Per step, one product gives the candidates' inner products with every sampled point.
  const candidateRows = createMatrix(candidates, d);
  const picks = new Int32Array(candidates);
  const productsOf = async (count: number): Promise<Float32Array> =>
    (await matMulTransposed(createMatrix(count, d, candidateRows.data.subarray(0, count * d)), subset, backend)).data;
  let trial = new Float64Array(size);
  let best = new Float64Array(size);
  const cumulative = new Float64Array(size);
  candidateRows.data.set(subset.data.subarray(pick * d, pick * d + d));
  nearestAfterAdding(await productsOf(1), 0, norms, size, pick, nearest, nearest, true);
  chosen[pick] = 1;
  out.data.set(subset.data.subarray(pick * d, pick * d + d), 0);
  for (let j = 1; j < k; j++) {
    let running = 0;
    for (let s = 0; s < size; s++) cumulative[s] = running += nearest[s]!;
    const potential = running;
    for (let trialIndex = 0; trialIndex < candidates; trialIndex++) {
      let candidate = -1;
      if (potential > 0) {
        // First s with cumulative[s] > target (a point of positive weight).
        const target = rng.uniform() * potential;
        let low = 0;
        let high = size - 1;
        while (low < high) {
          const middle = (low + high) >>> 1;
          if (cumulative[middle]! > target) high = middle;
          else low = middle + 1;
        }
        candidate = nearest[low]! > 0 ? low : -1;
      }
      if (candidate < 0) {
        // Every sampled point coincides with a centre: take any point not chosen yet.
        candidate = rng.int(size);
        while (chosen[candidate]) candidate = (candidate + 1) % size;
      }
      picks[trialIndex] = candidate;
      candidateRows.data.set(subset.data.subarray(candidate * d, candidate * d + d), trialIndex * d);
    }
    const products = await productsOf(candidates);
    let bestPotential = Infinity;
    let bestPick = -1;
    for (let trialIndex = 0; trialIndex < candidates; trialIndex++) {
      const value = nearestAfterAdding(products, trialIndex * size, norms, size, picks[trialIndex]!, nearest, trial, false);
      if (value < bestPotential) {
        bestPotential = value;
        bestPick = picks[trialIndex]!;
        [best, trial] = [trial, best];
      }
    }
    [nearest, best] = [best, nearest];
    chosen[bestPick] = 1;
    out.data.set(subset.data.subarray(bestPick * d, bestPick * d + d), j * d);
  }
  return out;
}
