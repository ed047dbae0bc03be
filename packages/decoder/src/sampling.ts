import { GenrecError, Rng, type Seed, type StepModel, type StepModelInput } from '@genrec/core';
import { checkBeamCount, type BeamSearchResult, type ExcludedItems } from './beam-search.js';
import {
  composeLogitsProcessors,
  temperatureProcessor,
  topKProcessor,
  topPProcessor,
  type LogitsProcessor,
  type LogitsProcessorContext,
} from './logits-processors.js';
import type { PrefixTrie } from './prefix-trie.js';
import { createSearchResult } from './search-result.js';

/** Options of {@link sampleSequences}. */
export interface SampleOptions {
  /** Seed of the random generator; the same seed gives the same samples. */
  seed: Seed;
  /** Independent samples drawn per user (before deduplication). */
  samplesPerUser: number;
  /** Constrains every sample to the trie's ids (forbidden tokens get probability 0). */
  trie?: PrefixTrie;
  /** Tokens per sample. @defaultValue `trie.levels` (required without a trie) */
  steps?: number;
  /** Decoder start token. @defaultValue the trie layout's `bos` token */
  startToken?: number;
  /** Sampling temperature. @defaultValue 1 */
  temperature?: number;
  /** Keep only the `topK` most likely allowed tokens at each step. @defaultValue no limit */
  topK?: number;
  /** Nucleus: keep the most likely allowed tokens up to this probability mass. @defaultValue 1 */
  topP?: number;
  /** Further processors, run after the trie mask, temperature, top-k and top-p. @defaultValue [] */
  logitsProcessors?: readonly LogitsProcessor[];
  /** Per user, items never to sample (masked at the leaves; needs a trie). */
  exclude?: ExcludedItems;
  /**
   * Return each distinct sequence (item) once.
   * @defaultValue true
   */
  dedupe?: boolean;
}

/**
 * Draws sequences token by token from a {@link StepModel}: at each step, forbidden tokens (trie)
 * are set to `-Infinity`, then temperature, top-k, top-p and the extra processors edit the logits
 * in place, and one token per row is drawn from the softmax of the result. Returned per user:
 * the distinct samples (if `dedupe`), sorted by their log-probability under the unprocessed model
 * (sum of full-vocabulary log-softmax, as in {@link beamSearch}), ties by order of drawing, as a
 * {@link BeamSearchResult} with `resultCount = samplesPerUser` (`counts` says how many are filled).
 *
 * @throws GenrecError `INVALID_OPTION` for bad counts/probabilities, `INVALID_INPUT` for an empty
 *   catalogue or NaN logits, `SHAPE_MISMATCH` when the model vocabulary is smaller than the trie's.
 *
 * @example
 * ```ts
 * const samples = await sampleSequences(model, inputs, { trie, samplesPerUser: 64, temperature: 1.2, topP: 0.95, seed: 1 });
 * ```
 */
export async function sampleSequences(model: StepModel, inputs: StepModelInput, options: SampleOptions): Promise<BeamSearchResult> {
  const trie = options.trie;
  const vocabularySize = model.vocabularySize;
  const samples = options.samplesPerUser;
  if (!Number.isInteger(inputs.batchSize) || inputs.batchSize <= 0) {
    throw new GenrecError('SHAPE_MISMATCH', `inputs.batchSize must be a positive integer, got ${inputs.batchSize}`, { details: { field: 'inputs' } });
  }
  // checked before anything is allocated: every step holds batchSize x samplesPerUser rows of logits
  checkBeamCount(samples, 'samplesPerUser', inputs.batchSize, vocabularySize);
  if (trie) {
    if (vocabularySize < trie.vocabularySize) {
      throw new GenrecError('SHAPE_MISMATCH', `the model's vocabulary has ${vocabularySize} tokens, fewer than the trie's token layout (${trie.vocabularySize})`);
    }
    if (trie.itemCount === 0) throw new GenrecError('INVALID_INPUT', 'the catalogue is empty: the trie has no item to sample');
    if (options.steps !== undefined && options.steps !== trie.levels) throw new GenrecError('INVALID_OPTION', `steps ${options.steps} differs from the trie's id length ${trie.levels}`, { details: { field: 'steps' } });
  }
  const steps = options.steps ?? trie?.levels;
  if (steps === undefined || !Number.isInteger(steps) || steps <= 0) throw new GenrecError('INVALID_OPTION', `steps must be a positive integer, got ${steps}`, { details: { field: 'steps' } });
  const startToken = options.startToken ?? trie?.layout.specialTokens.bos;
  if (startToken === undefined || !Number.isInteger(startToken) || startToken < 0 || startToken >= vocabularySize) {
    throw new GenrecError('INVALID_OPTION', `startToken must be a token id in 0..${vocabularySize - 1}, got ${startToken}`, { details: { field: 'startToken' } });
  }
  const batchSize = inputs.batchSize;
  if (inputs.tokens.length !== batchSize * inputs.length) throw new GenrecError('SHAPE_MISMATCH', `inputs.tokens has ${inputs.tokens.length} values, expected ${batchSize} x ${inputs.length}`);
  if (options.exclude && !trie) throw new GenrecError('INVALID_OPTION', 'exclude needs a trie', { details: { field: 'exclude' } });
  if (options.exclude && options.exclude.length !== batchSize) throw new GenrecError('SHAPE_MISMATCH', `exclude has ${options.exclude.length} entries, expected ${batchSize}`);
  const excludeSets = options.exclude?.map((entry) => (entry === undefined ? undefined : entry instanceof Set ? (entry as ReadonlySet<number>) : new Set(Array.from(entry as ArrayLike<number>))));
  const processors: LogitsProcessor[] = [];
  if (options.temperature !== undefined) processors.push(temperatureProcessor(options.temperature));
  if (options.topK !== undefined) processors.push(topKProcessor(options.topK));
  if (options.topP !== undefined) processors.push(topPProcessor(options.topP));
  processors.push(...(options.logitsProcessors ?? []));
  const process = composeLogitsProcessors(processors);

  const rng = new Rng(options.seed);
  const rows = batchSize * samples;
  const tokens = new Int32Array(rows * steps).fill(-1);
  const logProbs = new Float64Array(rows);
  const nodes = new Int32Array(rows).fill(trie ? trie.root : -1);
  const inputTokens = new Int32Array(rows).fill(startToken);
  const parents = new Int32Array(rows);
  for (let row = 0; row < rows; row++) parents[row] = Math.floor(row / samples);
  const raw = new Float32Array(rows * vocabularySize);
  const work = new Float32Array(rows * vocabularySize);
  const context: { -readonly [K in keyof LogitsProcessorContext]: LogitsProcessorContext[K] } = { step: 0, rows, vocabularySize, beamsPerUser: samples, generated: tokens, generatedStride: steps };

  const session = await model.encode(inputs);
  try {
    for (let step = 0; step < steps; step++) {
      const first = step === 0;
      const stepRows = first ? batchSize : rows;
      const logits = await session.step(inputTokens.subarray(0, stepRows), first ? null : parents, first ? 1 : samples, step === steps - 1);
      if (logits.length < stepRows * vocabularySize) throw new GenrecError('SHAPE_MISMATCH', `the model returned ${logits.length} logits, expected ${stepRows} x ${vocabularySize}`);
      // Expand to one row per sample (at step 0 all samples of a user share the start row).
      for (let row = 0; row < rows; row++) {
        const source = first ? Math.floor(row / samples) : row;
        raw.set(logits.subarray(source * vocabularySize, (source + 1) * vocabularySize), row * vocabularySize);
      }
      work.set(raw);
      const last = step === steps - 1;
      if (trie) {
        // Trie mask (and history exclusion at the leaves) before any other processor.
        for (let row = 0; row < rows; row++) {
          const node = nodes[row]!;
          if (node < 0 || logProbs[row] === Number.NEGATIVE_INFINITY) continue;
          const excluded = last ? excludeSets?.[Math.floor(row / samples)] : undefined;
          const offset = row * vocabularySize;
          for (let token = 0; token < vocabularySize; token++) {
            if (!trie.isAllowed(node, token)) work[offset + token] = Number.NEGATIVE_INFINITY;
            else if (excluded && excluded.has(trie.itemAt(trie.child(node, token)))) work[offset + token] = Number.NEGATIVE_INFINITY;
          }
        }
      }
      context.step = step;
      process(work, context);
      for (let row = 0; row < rows; row++) {
        const offset = row * vocabularySize;
        if (logProbs[row] === Number.NEGATIVE_INFINITY) continue;
        const token = drawToken(work, offset, vocabularySize, rng);
        if (token < 0) {
          logProbs[row] = Number.NEGATIVE_INFINITY;
          continue;
        }
        logProbs[row]! += logSoftmaxAt(raw, offset, vocabularySize, token, step, row);
        tokens[row * steps + step] = token;
        inputTokens[row] = token;
        if (trie) nodes[row] = trie.child(nodes[row]!, token);
      }
      // From the second step on, every row continues itself.
      if (!first) for (let row = 0; row < rows; row++) parents[row] = row;
    }
  } finally {
    session.dispose();
  }
  return collectSamples(batchSize, samples, steps, tokens, logProbs, nodes, trie, options.dedupe ?? true);
}

/** Draws a token from softmax(logits[offset .. offset + width)); -1 when every logit is -Infinity. */
function drawToken(logits: Float32Array, offset: number, width: number, rng: Rng): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let token = 0; token < width; token++) {
    const value = logits[offset + token]!;
    if (value !== value) throw new GenrecError('INVALID_INPUT', `NaN logit at token ${token} after the logits processors`);
    if (value > max) max = value;
  }
  if (max === Number.NEGATIVE_INFINITY) return -1;
  let total = 0;
  for (let token = 0; token < width; token++) total += Math.exp(logits[offset + token]! - max);
  let target = rng.uniform() * total;
  let lastFinite = -1;
  for (let token = 0; token < width; token++) {
    const weight = Math.exp(logits[offset + token]! - max);
    if (weight === 0) continue;
    lastFinite = token;
    target -= weight;
    if (target < 0) return token;
  }
  return lastFinite;
}

function logSoftmaxAt(logits: Float32Array, offset: number, width: number, token: number, step: number, row: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < width; i++) {
    const value = logits[offset + i]!;
    if (value !== value || value === Number.POSITIVE_INFINITY) {
      throw new GenrecError('INVALID_INPUT', `the model returned a ${value} logit at step ${step}, row ${row}, token ${i}`, { details: { step, row, token: i } });
    }
    if (value > max) max = value;
  }
  let sum = 0;
  for (let i = 0; i < width; i++) sum += Math.exp(logits[offset + i]! - max);
  return logits[offset + token]! - max - Math.log(sum);
}

function collectSamples(
  batchSize: number,
  samples: number,
  steps: number,
  tokens: Int32Array,
  logProbs: Float64Array,
  nodes: Int32Array,
  trie: PrefixTrie | undefined,
  dedupe: boolean,
): BeamSearchResult {
  const itemIds = new Int32Array(batchSize * samples).fill(-1);
  const outTokens = new Int32Array(batchSize * samples * steps).fill(-1);
  const outLogProbs = new Float64Array(batchSize * samples).fill(Number.NEGATIVE_INFINITY);
  const counts = new Int32Array(batchSize);
  for (let user = 0; user < batchSize; user++) {
    const rows: number[] = [];
    for (let j = 0; j < samples; j++) if (logProbs[user * samples + j]! > Number.NEGATIVE_INFINITY) rows.push(user * samples + j);
    rows.sort((a, b) => logProbs[b]! - logProbs[a]! || a - b);
    const seen = new Set<string>();
    let count = 0;
    for (const row of rows) {
      const sequence = tokens.subarray(row * steps, (row + 1) * steps);
      const item = trie ? trie.itemAt(nodes[row]!) : -1;
      const key = item >= 0 ? `i${item}` : `t${sequence.join(',')}`;
      if (dedupe && seen.has(key)) continue;
      seen.add(key);
      const slot = user * samples + count;
      itemIds[slot] = item;
      outTokens.set(sequence, slot * steps);
      outLogProbs[slot] = logProbs[row]!;
      count++;
    }
    counts[user] = count;
  }
  const scores = outLogProbs.slice();
  return createSearchResult(batchSize, samples, steps, itemIds, outTokens, outLogProbs, scores, counts);
}
