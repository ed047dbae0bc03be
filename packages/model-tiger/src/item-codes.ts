import { GenrecError, createMatrix, createSemanticIdTable, createTokenLayout, type Matrix, type ProgressCallback, type TokenLayout } from '@genrec/core';
import { PrefixTrie } from '@genrec/decoder';
import { ResidualQuantizer, fitResidualKMeans, fitRqVae } from '@genrec/semantic-id';
import type { TigerSpec } from './options.js';

/** What fitting the codes measured. */
export interface CodeFitReport {
  /** Items that got a semantic id. */
  indexedItems: number;
  /** `sum ||x - x̂||² / sum ||x||²` of the quantiser (k-means) or the RQ-VAE's last reconstruction error. */
  relativeError: number;
  /** Items that share all quantiser codes with another item (they differ only by the collision token). */
  collidingItems: number;
  /** The largest group of items sharing all quantiser codes. */
  largestCollisionGroup: number;
  /** Distinct codes used per quantiser level. */
  usedCodesPerLevel: number[];
  /** Wall time, ms. */
  elapsedMs: number;
}

/**
 * Every item's semantic id: `quantizerLevels` codes plus a collision code, as tokens of one
 * {@link TokenLayout} (PAD 0, BOS 1, EOS 2, then each level's codes; the collision level has
 * `collisionCodes` tokens, spare ones included). Items without an id (not indexed yet) have none.
 * Keeps the quantiser so items added later get codes from their vectors.
 *
 * @example
 * ```ts
 * const table = model.codes;
 * table.tokensOf(42);      // Int32Array of 4 tokens (3 codes + the collision code)
 * await table.add([7], v); // an item without an id gets codes from its vector
 * ```
 */
export class ItemCodeTable {
  /** Catalogue size (ids `1 .. itemCount`). */
  readonly itemCount: number;
  /** Quantiser levels (the id has one more token). */
  readonly quantizerLevels: number;
  /** Tokens per item: `quantizerLevels + 1`. */
  readonly tokensPerItem: number;
  /** Codes per level, the collision level's capacity last. */
  readonly levelSizes: readonly number[];
  /** The token layout. */
  readonly layout: TokenLayout;
  /** The quantiser (undefined for RQ-VAE codes: their encoder is not kept). */
  readonly quantizer: ResidualQuantizer | undefined;
  /** `codes[id * tokensPerItem + l]`: code of item `id` at level `l`, -1 when the item has no id. */
  readonly codes: Int32Array;
  /**
   * Item tokens appended to each history item in the model's input (0: none): exact ids when at
   * least `itemCount`, otherwise a hash of the id into this many buckets. They follow the layout's
   * tokens in the model vocabulary and are never generated (their labels are ignored in training).
   */
  readonly itemTokens: number;
  /** Used collision codes per prefix of quantiser codes. */
  readonly #used = new Map<string, number>();
  #indexed = 0;

  /** What the id's last token is: a collision code, or the item itself (`lastLevel: 'item'`). */
  readonly lastLevel: 'collision' | 'item';

  constructor(
    itemCount: number,
    quantizerLevels: number,
    levelSizes: readonly number[],
    codes: Int32Array,
    quantizer: ResidualQuantizer | undefined,
    itemTokens = 0,
    lastLevel: 'collision' | 'item' = 'collision',
  ) {
    this.itemCount = itemCount;
    this.itemTokens = itemTokens;
    this.lastLevel = lastLevel;
    this.quantizerLevels = quantizerLevels;
    this.tokensPerItem = quantizerLevels + 1;
    this.levelSizes = [...levelSizes];
    this.layout = createTokenLayout({ levelSizes: this.levelSizes });
    this.quantizer = quantizer;
    this.codes = codes;
    const width = this.tokensPerItem;
    for (let id = 1; id <= itemCount; id++) {
      if (codes[id * width]! < 0) continue;
      this.#indexed++;
      const key = this.#prefixKey(codes, id * width);
      this.#used.set(key, Math.max(this.#used.get(key) ?? 0, codes[id * width + quantizerLevels]! + 1));
    }
  }

  /** Items that have a semantic id. */
  get indexedCount(): number {
    return this.#indexed;
  }

  /** Vocabulary size of the layout (the tokens ids are made of). */
  get vocabularySize(): number {
    return this.layout.vocabularySize;
  }

  /** Vocabulary of the model: the layout's tokens, then the item tokens. */
  get modelVocabularySize(): number {
    return this.layout.vocabularySize + this.itemTokens;
  }

  /** Tokens per history item in a model input: the id's tokens, plus the item token when there are item tokens. */
  get contextWidth(): number {
    return this.tokensPerItem + (this.itemTokens > 0 ? 1 : 0);
  }

  /** The item token of `id` (only with item tokens). */
  itemToken(id: number): number {
    const buckets = this.itemTokens;
    const bucket = buckets >= this.itemCount ? id - 1 : Math.imul(id, 0x9e3779b1) >>> 0;
    return this.layout.vocabularySize + (buckets >= this.itemCount ? bucket : bucket % buckets);
  }

  /** Writes item `id`'s input tokens (its id's tokens, then its item token if any) into `out` at `offset`. */
  writeContextTokens(id: number, out: Int32Array | BigInt64Array, offset: number): void {
    this.writeTokens(id, out, offset);
    if (this.itemTokens > 0) {
      const token = this.itemToken(id);
      if (out instanceof BigInt64Array) out[offset + this.tokensPerItem] = BigInt(token);
      else out[offset + this.tokensPerItem] = token;
    }
  }

  /** Whether `id` has a semantic id. */
  has(id: number): boolean {
    return id >= 1 && id <= this.itemCount && this.codes[id * this.tokensPerItem]! >= 0;
  }

  /** Writes item `id`'s tokens into `out` at `offset` (the item must have an id). */
  writeTokens(id: number, out: Int32Array | BigInt64Array, offset: number): void {
    const width = this.tokensPerItem;
    const offsets = this.layout.levelOffsets;
    if (out instanceof BigInt64Array) for (let l = 0; l < width; l++) out[offset + l] = BigInt(offsets[l]! + this.codes[id * width + l]!);
    else for (let l = 0; l < width; l++) out[offset + l] = offsets[l]! + this.codes[id * width + l]!;
  }

  /** The tokens of item `id` (a fresh array), or undefined when it has no id. */
  tokensOf(id: number): Int32Array | undefined {
    if (!this.has(id)) return undefined;
    const out = new Int32Array(this.tokensPerItem);
    this.writeTokens(id, out, 0);
    return out;
  }

  /** The trie of the indexed items except `excluded` (retired ones). */
  buildTrie(excluded: (id: number) => boolean = () => false): PrefixTrie {
    const ids: number[] = [];
    for (let id = 1; id <= this.itemCount; id++) if (this.has(id) && !excluded(id)) ids.push(id);
    const width = this.tokensPerItem;
    const codes = new Int32Array(ids.length * width);
    ids.forEach((id, row) => codes.set(this.codes.subarray(id * width, (id + 1) * width), row * width));
    const table = createSemanticIdTable({ itemIds: ids, codes, levels: width, codebookSizes: this.levelSizes, hasCollisionLevel: true });
    return PrefixTrie.fromTable(table, this.layout);
  }

  /**
   * Gives semantic ids to items that have none, from their vectors (the fitted quantiser's codes
   * plus the next free collision code of that prefix). Checks everything before changing anything.
   *
   * @returns the new codes, `itemIds.length x tokensPerItem`
   * @throws GenrecError `UNSUPPORTED` without a quantiser (RQ-VAE codes); `INVALID_INPUT` for an
   * id outside the catalogue, repeated or already indexed, or when a collision group is full (the
   * collision level holds `levelSizes.at(-1)` codes: refit with a larger `collisionCodes`);
   * `SHAPE_MISMATCH` for vectors of another dimension.
   */
  async add(itemIds: ArrayLike<number>, vectors: Matrix): Promise<Int32Array> {
    const quantizer = this.quantizer;
    if (quantizer === undefined) throw new GenrecError('UNSUPPORTED', 'items cannot be added to RQ-VAE semantic ids (the encoder is not kept); fit with the k-means quantisers', { details: { field: 'quantizer' } });
    if (vectors.rows !== itemIds.length) throw new GenrecError('SHAPE_MISMATCH', `${itemIds.length} item ids for ${vectors.rows} vectors`, { details: { field: 'vectors' } });
    if (vectors.cols !== quantizer.dimension) {
      throw new GenrecError('SHAPE_MISMATCH', `the vectors have ${vectors.cols} columns, the model's item vectors ${quantizer.dimension}`, { details: { field: 'vectors' } });
    }
    const seen = new Set<number>();
    for (let i = 0; i < itemIds.length; i++) {
      const id = itemIds[i]!;
      if (!Number.isInteger(id) || id < 1 || id > this.itemCount) {
        throw new GenrecError('INVALID_INPUT', `addItems: position ${i} holds item id ${String(id)}, outside the catalogue 1..${this.itemCount}`, { details: { field: 'itemIds', position: i } });
      }
      if (seen.has(id)) throw new GenrecError('INVALID_INPUT', `addItems: item ${id} is listed twice`, { details: { field: 'itemIds', position: i } });
      if (this.has(id)) throw new GenrecError('INVALID_INPUT', `addItems: item ${id} already has a semantic id`, { details: { field: 'itemIds', position: i } });
      seen.add(id);
    }
    for (let i = 0; i < vectors.data.length; i++) {
      if (!Number.isFinite(vectors.data[i]!)) throw new GenrecError('INVALID_INPUT', `addItems: vector ${Math.floor(i / vectors.cols)} holds ${vectors.data[i]}`, { details: { field: 'vectors' } });
    }
    const prefixes = await quantizer.encode(vectors);
    const q = this.quantizerLevels;
    const width = this.tokensPerItem;
    const capacity = this.levelSizes[q]!;
    const out = new Int32Array(itemIds.length * width);
    const pending = new Map<string, number>();
    for (let i = 0; i < itemIds.length; i++) {
      const key = this.#prefixKey(prefixes, i * q, q);
      const next = this.lastLevel === 'item' ? itemIds[i]! - 1 : (pending.get(key) ?? this.#used.get(key) ?? 0);
      if (this.lastLevel === 'collision' && next >= capacity) {
        throw new GenrecError('INVALID_INPUT', `addItems: item ${itemIds[i]} would be the ${next + 1}th item of its code prefix, but the collision level holds ${capacity} codes (fit with a larger collisionCodes)`, {
          details: { field: 'itemIds', position: i },
        });
      }
      if (this.lastLevel === 'collision') pending.set(key, next + 1);
      out.set(prefixes.subarray(i * q, (i + 1) * q), i * width);
      out[i * width + q] = next;
    }
    for (let i = 0; i < itemIds.length; i++) {
      const id = itemIds[i]!;
      this.codes.set(out.subarray(i * width, (i + 1) * width), id * width);
      this.#indexed++;
    }
    for (const [key, next] of pending) this.#used.set(key, next);
    return out;
  }

  #prefixKey(codes: Int32Array, offset: number, levels = this.quantizerLevels): string {
    let key = '';
    for (let l = 0; l < levels; l++) key += `${codes[offset + l]},`;
    return key;
  }
}

/**
 * Fits semantic ids for the indexed items: residual k-means (plain or balanced) or an RQ-VAE on
 * their vectors, then a collision code per item (0, 1, 2… among items sharing every quantiser
 * code, in decreasing `popularity` — training interactions, index `j` = item `j + 1` — then id
 * order), with `collisionCodes` codes on that level (0: twice the largest group, at least 4).
 *
 * @param vectors - row `j` = item `j + 1`
 * @param indexed - `indexed[id]` = 1 for the items that get an id
 * @param spec - the resolved hyper-parameters
 * @param onProgress - the quantiser's progress
 * @param popularity - training interactions per item (the collision codes' order); id order without it
 * @returns the table and what was measured
 * @throws GenrecError `INVALID_OPTION` when `codebookSize` exceeds the indexed items or
 * `collisionCodes` is below the largest collision group.
 */
export async function fitItemCodes(
  vectors: Matrix,
  indexed: Uint8Array,
  spec: TigerSpec,
  onProgress?: ProgressCallback,
  popularity?: ArrayLike<number>,
): Promise<{ table: ItemCodeTable; report: CodeFitReport }> {
  const started = performance.now();
  const itemCount = vectors.rows;
  const ids: number[] = [];
  for (let id = 1; id <= itemCount; id++) if (indexed[id]) ids.push(id);
  if (ids.length < spec.codebookSize) {
    throw new GenrecError('INVALID_OPTION', `codebookSize ${spec.codebookSize} exceeds the ${ids.length} items to index: choose a codebookSize of at most ${ids.length}`, { details: { field: 'codebookSize' } });
  }
  const d = vectors.cols;
  const points = createMatrix(ids.length, d);
  ids.forEach((id, row) => points.data.set(vectors.data.subarray((id - 1) * d, id * d), row * d));
  const q = spec.levels;
  let codes: Int32Array;
  let quantizer: ResidualQuantizer | undefined;
  let relativeError: number;
  if (spec.quantizer === 'rq-vae') {
    const fit = await fitRqVae(points, { levels: q, codebookSize: spec.codebookSize, seed: spec.seed, ...(onProgress ? { onProgress } : {}) });
    codes = fit.codes;
    quantizer = undefined;
    relativeError = fit.reconstructionErrors.at(-1) ?? Number.NaN;
  } else {
    const fit = await fitResidualKMeans(points, {
      levels: q,
      codebookSize: spec.codebookSize,
      seed: spec.seed,
      ...(spec.quantizer === 'balanced-kmeans' ? { balance: true } : {}),
      ...(onProgress ? { onProgress } : {}),
    });
    codes = fit.codes;
    quantizer = fit.quantizer;
    relativeError = fit.relativeError;
  }
  const width = q + 1;
  const table = new Int32Array((itemCount + 1) * width).fill(-1);
  const groups = new Map<string, number>();
  let largest = 0;
  // collision codes in decreasing training popularity (ties: lower id first), so code 0 is the
  // most frequent item of every group and the collision level carries a consistent prior
  const order = ids.map((_, row) => row);
  if (popularity !== undefined) order.sort((a, b) => popularity[ids[b]! - 1]! - popularity[ids[a]! - 1]! || ids[a]! - ids[b]!);
  order.forEach((row) => {
    const id = ids[row]!;
    let key = '';
    for (let l = 0; l < q; l++) key += `${codes[row * q + l]},`;
    const index = groups.get(key) ?? 0;
    groups.set(key, index + 1);
    largest = Math.max(largest, index + 1);
    table.set(codes.subarray(row * q, (row + 1) * q), id * width);
    table[id * width + q] = spec.lastLevel === 'item' ? id - 1 : index;
  });
  let colliding = 0;
  for (const size of groups.values()) if (size > 1) colliding += size;
  const collisionCodes = spec.lastLevel === 'item' ? itemCount : spec.collisionCodes === 0 ? Math.max(4, 2 * largest) : spec.collisionCodes;
  if (spec.lastLevel === 'collision' && collisionCodes < largest) {
    throw new GenrecError('INVALID_OPTION', `collisionCodes ${collisionCodes} is below the largest group of items sharing all codes (${largest})`, { details: { field: 'collisionCodes' } });
  }
  const usedCodesPerLevel = Array.from({ length: q }, (_, l) => new Set(Array.from({ length: ids.length }, (_, row) => codes[row * q + l])).size);
  const levelSizes = [...Array.from({ length: q }, () => spec.codebookSize), collisionCodes];
  return {
    table: new ItemCodeTable(itemCount, q, levelSizes, table, quantizer, spec.itemTokens, spec.lastLevel),
    report: { indexedItems: ids.length, relativeError, collidingItems: colliding, largestCollisionGroup: largest, usedCodesPerLevel, elapsedMs: performance.now() - started },
  };
}
