import { Rng, type HistoryBatch, type SequenceDataset } from '@genrec/core';
import type { ItemCodeTable } from './item-codes.js';
import type { TigerArchitecture } from './options.js';

/** Label of a position without a target (ignored by the cross-entropy). */
export const IGNORE = -100n;

/** Decoding contexts of a batch of users: token rows and the users that have one. */
export interface Contexts {
  /** `users.length x length` tokens (padding 0). */
  tokens: Int32Array;
  /** Columns. */
  length: number;
  /** Batch positions of the users in `tokens` (those with at least one indexed history item). */
  users: number[];
}

/**
 * The context tokens of users `candidates` of a history batch: the code tokens of their last
 * `maxHistory` indexed items (items without a semantic id are skipped), oldest first, padded to
 * the longest context of the batch with token 0 — on the left for the decoder-only form (its last
 * column is the last token), on the right for the encoder-decoder (positions are columns from 0).
 * Users without any indexed item are left out of `users`.
 *
 * @param batch - the histories
 * @param candidates - batch positions to build contexts for
 * @param table - the items' semantic ids
 * @param maxHistory - items read per user
 * @param architecture - decides the padding side
 * @returns the contexts
 */
export function buildContexts(batch: HistoryBatch, candidates: readonly number[], table: ItemCodeTable, maxHistory: number, architecture: TigerArchitecture): Contexts {
  const width = table.contextWidth;
  const users: number[] = [];
  const counts: number[] = [];
  let longest = 0;
  for (const u of candidates) {
    let count = 0;
    for (let i = batch.offsets[u + 1]! - 1; i >= batch.offsets[u]! && count < maxHistory; i--) if (table.has(batch.items[i]!)) count++;
    if (count === 0) continue;
    users.push(u);
    counts.push(count);
    longest = Math.max(longest, count);
  }
  const length = longest * width;
  const tokens = new Int32Array(users.length * length);
  users.forEach((u, row) => {
    const count = counts[row]!;
    const start = row * length + (architecture === 'decoder-only' ? (longest - count) * width : 0);
    let slot = count - 1;
    for (let i = batch.offsets[u + 1]! - 1; i >= batch.offsets[u]! && slot >= 0; i--) {
      const item = batch.items[i]!;
      if (!table.has(item)) continue;
      table.writeContextTokens(item, tokens, start + slot * width);
      slot--;
    }
  });
  return { tokens, length, users };
}

/**
 * One training example: for the decoder-only form a window of consecutive items of a training
 * row (every item after the first is a next-item target), for the encoder-decoder one target
 * item with the items before it (at most `maxHistory`) as the source.
 */
interface Example {
  /** Offset of the first item in `items`. */
  start: number;
  /** Items in the window (decoder-only) or in the source (encoder-decoder). */
  count: number;
  /** The target item (encoder-decoder only). */
  target: number;
}

/** A training batch: the feeds of one `Trainer.step` and the bucket (graph) they fit. */
export interface TrainingBatch {
  bucket: number;
  feeds: Record<string, BigInt64Array>;
  /** Real (non-padding) examples in the batch. */
  examples: number;
}

/**
 * Builds the training examples of an epoch and their batches.
 *
 * Decoder-only: each training row (its indexed items in order) is cut into windows of at most
 * `maxHistory + 1` items that overlap by one item (the last window ends at the row's end), so
 * every next-item target of the row appears exactly once per epoch; a window's tokens are its
 * items' code tokens, the input is all of them but the last, the labels the next token at every
 * position (teacher forcing on every token, as SASRec trains every position). Bucket = input
 * length (tokens).
 *
 * Encoder-decoder: one example per target (every item of a row after the first): source = the
 * code tokens of the at most `maxHistory` items before it (right-padded), decoder input = BOS and
 * the target's first codes, labels = the target's codes. Bucket = source length (tokens).
 *
 * Batching: examples are ordered by length (ties in a seeded random order), cut into batches of
 * `batchSize`, each padded to its bucket (the smallest of `buckets` that holds its longest
 * example; the last batch is padded with empty rows), and the batches shuffled: few padded tokens,
 * a different composition every epoch.
 */
export class TrainingExamples {
  readonly architecture: TigerArchitecture;
  readonly batchSize: number;
  /** Shape buckets (token lengths), ascending. */
  readonly buckets: number[];
  readonly #examples: Example[];
  readonly #items: Int32Array;
  readonly #table: ItemCodeTable;
  readonly #maxHistory: number;

  constructor(train: SequenceDataset, table: ItemCodeTable, options: { architecture: TigerArchitecture; maxHistory: number; batchSize: number }) {
    this.architecture = options.architecture;
    this.batchSize = options.batchSize;
    this.#table = table;
    this.#maxHistory = options.maxHistory;
    const kept: number[] = [];
    const examples: Example[] = [];
    const window = options.maxHistory + 1;
    for (let row = 0; row < train.offsets.length - 1; row++) {
      const start = kept.length;
      for (let i = train.offsets[row]!; i < train.offsets[row + 1]!; i++) if (table.has(train.items[i]!)) kept.push(train.items[i]!);
      const n = kept.length - start;
      if (n < 2) continue;
      if (options.architecture === 'decoder-only') {
        // windows ending at n, n - (window - 1), …; each overlaps the next by one item
        for (let end = n; end > 1; end -= window - 1) {
          const begin = Math.max(0, end - window);
          examples.push({ start: start + begin, count: end - begin, target: -1 });
          if (begin === 0) break;
        }
      } else {
        for (let t = 1; t < n; t++) {
          const begin = Math.max(0, t - options.maxHistory);
          examples.push({ start: start + begin, count: t - begin, target: kept[start + t]! });
        }
      }
    }
    this.#items = Int32Array.from(kept);
    this.#examples = examples;
    const lengthOf = (count: number): number => this.#tokensOf(count);
    const maxCount = options.architecture === 'decoder-only' ? window : options.maxHistory;
    const minCount = options.architecture === 'decoder-only' ? 2 : 1;
    // buckets: every item count up to 6, then steps of about a quarter
    const counts = new Set<number>();
    for (let c = minCount; c <= maxCount; c = c < 6 ? c + 1 : Math.ceil(c * 1.25)) counts.add(c);
    counts.add(maxCount);
    this.buckets = [...counts].sort((a, b) => a - b).map(lengthOf);
  }

  /** Number of training examples. */
  get size(): number {
    return this.#examples.length;
  }

  /** Steps of one epoch. */
  get stepsPerEpoch(): number {
    return Math.ceil(this.#examples.length / this.batchSize);
  }

  /**
   * Input tokens of an example of `count` items: decoder-only, every item's input tokens but the
   * last item's item token, minus the last token; encoder-decoder, the source's tokens.
   */
  #tokensOf(count: number): number {
    const table = this.#table;
    return this.architecture === 'decoder-only' ? (count - 1) * table.contextWidth + table.tokensPerItem - 1 : count * table.contextWidth;
  }

  /** Token length of an example (decoder-only: input tokens; encoder-decoder: source tokens). */
  #lengthOf(example: Example): number {
    return this.#tokensOf(example.count);
  }

  /**
   * The batches of one epoch in order: lists of example indices and their bucket. Draws from `rng`
   * (the tie order and the batch order), so the same generator state gives the same epoch.
   */
  plan(rng: Rng): { examples: Int32Array; bucket: number }[] {
    const n = this.#examples.length;
    const keys = rng.permutation(n);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.#lengthOf(this.#examples[a]!) - this.#lengthOf(this.#examples[b]!) || keys[a]! - keys[b]!);
    const batches: { examples: Int32Array; bucket: number }[] = [];
    for (let from = 0; from < n; from += this.batchSize) {
      const slice = Int32Array.from(order.slice(from, from + this.batchSize));
      let longest = 0;
      for (const index of slice) longest = Math.max(longest, this.#lengthOf(this.#examples[index]!));
      batches.push({ examples: slice, bucket: this.buckets.find((b) => b >= longest)! });
    }
    const shuffle = rng.permutation(batches.length);
    return Array.from(shuffle, (i) => batches[i]!);
  }

  /** The feeds of one planned batch. */
  build(batch: { examples: Int32Array; bucket: number }): TrainingBatch {
    const width = this.#table.tokensPerItem;
    const rows = this.batchSize;
    const length = batch.bucket;
    const items = this.#items;
    const table = this.#table;
    if (this.architecture === 'decoder-only') {
      const tokens = new BigInt64Array(rows * length);
      const labels = new BigInt64Array(rows * length).fill(IGNORE);
      const contextWidth = table.contextWidth;
      const sequence = new Int32Array((this.#maxHistory + 1) * contextWidth);
      // item tokens are read, never predicted: their labels are ignored
      const firstItemToken = table.vocabularySize;
      batch.examples.forEach((index, row) => {
        const example = this.#examples[index]!;
        for (let i = 0; i < example.count; i++) table.writeContextTokens(items[example.start + i]!, sequence, i * contextWidth);
        const used = (example.count - 1) * contextWidth + width;
        for (let t = 0; t < used - 1; t++) {
          tokens[row * length + t] = BigInt(sequence[t]!);
          if (sequence[t + 1]! < firstItemToken) labels[row * length + t] = BigInt(sequence[t + 1]!);
        }
      });
      return { bucket: length, feeds: { tokens, labels }, examples: batch.examples.length };
    }
    const source = new BigInt64Array(rows * length);
    const target = new BigInt64Array(rows * width);
    const labels = new BigInt64Array(rows * width).fill(IGNORE);
    const bos = BigInt(table.layout.specialTokens.bos ?? 1);
    const code = new Int32Array(width);
    batch.examples.forEach((index, row) => {
      const example = this.#examples[index]!;
      for (let i = 0; i < example.count; i++) table.writeContextTokens(items[example.start + i]!, source, row * length + i * table.contextWidth);
      table.writeTokens(example.target, code, 0);
      target[row * width] = bos;
      for (let l = 0; l < width; l++) {
        if (l + 1 < width) target[row * width + l + 1] = BigInt(code[l]!);
        labels[row * width + l] = BigInt(code[l]!);
      }
    });
    return { bucket: length, feeds: { source, target, labels }, examples: batch.examples.length };
  }
}
