import { join } from 'node:path';
import {
  createMatrix,
  createSemanticIdTable,
  createTensor,
  createTokenLayout,
  GenrecError,
  writeArtifactDirectory,
  writeManifest,
  writeNpy,
  type ArtifactManifest,
  type Matrix,
  type SemanticIdTable,
  type Tensor,
  type TokenLayout,
} from '@genrec/core';
import { checkLoadedValues, manifestBoolean, manifestInteger, manifestIntegers, openArtifactFolder, readCheckedArray } from './artifact-folder.js';
import { addCollisionLevel, tupleKey } from './collision-level.js';
import { fitResidualKMeans, ResidualQuantizer, type ResidualKMeansFit, type ResidualKMeansOptions } from './residual-quantizer.js';
import type { KernelBackend } from './kernels.js';

/** Artifact kind of a saved {@link SemanticIds}. */
export const SEMANTIC_IDS_KIND = 'genrec.semantic-ids';
/** Format version written by {@link SemanticIds.save}; {@link SemanticIds.load} reads exactly this. */
export const SEMANTIC_IDS_FORMAT_VERSION = 1;

/**
 * When a collision level is added: `'always'` (fixed-length ids, TIGER's choice), `'auto'` (only
 * when some items share all codes) or `'never'` (colliding items are an error).
 */
export type CollisionLevelMode = 'always' | 'auto' | 'never';

/** Options of {@link SemanticIds.fit}. */
export interface SemanticIdsFitOptions extends ResidualKMeansOptions {
  /** @defaultValue 'always' */
  collisionLevel?: CollisionLevelMode;
}

interface SemanticIdsManifest extends ArtifactManifest {
  itemCount: number;
  dimension: number;
  quantizerLevels: number;
  levels: number;
  codebookSizes: number[];
  hasCollisionLevel: boolean;
}

/**
 * Ordered semantic ids of a catalogue: a fitted {@link ResidualQuantizer} plus the table of every
 * item's codes (with the collision token when there is one). Maps item ids to codes/tokens and
 * back, encodes new vectors with the fitted codebooks, and saves/loads as a versioned folder.
 *
 * @example
 * ```ts
 * const { ids } = await SemanticIds.fit(itemIds, embeddings, { levels: 3, codebookSize: 256 });
 * const layout = ids.tokenLayout();                // pad, bos, eos, then 3 x 256 + collision codes
 * const tokens = ids.encodeTokens([42], layout);   // 4 tokens of item 42
 * ids.decodeTokens(tokens, layout);                // Int32Array [42]
 * await ids.save('artifacts/toys-semantic-ids');
 * const again = await SemanticIds.load('artifacts/toys-semantic-ids');
 * ```
 */
export class SemanticIds {
  private constructor(
    /** The fitted codebooks. */
    readonly quantizer: ResidualQuantizer,
    /** Every item's codes, both ways. */
    readonly table: SemanticIdTable,
  ) {}

  /**
   * Fits residual k-means on `vectors` (row `r` belongs to `itemIds[r]`) and builds the table.
   *
   * @throws GenrecError `SHAPE_MISMATCH` when ids and rows disagree, `INVALID_INPUT` for repeated
   * ids, non-finite vectors, fewer items than codes, or collisions with `collisionLevel: 'never'`.
   */
  static async fit(itemIds: ArrayLike<number>, vectors: Matrix, options: SemanticIdsFitOptions = {}): Promise<{ ids: SemanticIds; fit: ResidualKMeansFit }> {
    if (itemIds.length !== vectors.rows) {
      throw new GenrecError('SHAPE_MISMATCH', `${itemIds.length} item ids for ${vectors.rows} vectors`);
    }
    const fit = await fitResidualKMeans(vectors, options);
    return { ids: SemanticIds.fromCodes(fit.quantizer, itemIds, fit.codes, options.collisionLevel ?? 'always'), fit };
  }

  /**
   * Builds the table from codes the quantiser produced (`itemIds.length x quantizer.levels`).
   *
   * @throws GenrecError as {@link SemanticIds.fit}.
   */
  static fromCodes(quantizer: ResidualQuantizer, itemIds: ArrayLike<number>, codes: Int32Array, collisionLevel: CollisionLevelMode = 'always'): SemanticIds {
    const levels = quantizer.levels;
    if (codes.length !== itemIds.length * levels) {
      throw new GenrecError('SHAPE_MISMATCH', `${codes.length} codes for ${itemIds.length} items x ${levels} levels`);
    }
    const withCollision = addCollisionLevel(codes, levels);
    const useCollision = collisionLevel === 'always' || (collisionLevel === 'auto' && withCollision.collidingItems > 0);
    const table = createSemanticIdTable({
      itemIds: Int32Array.from(itemIds),
      codes: useCollision ? withCollision.codes : codes,
      levels: useCollision ? levels + 1 : levels,
      codebookSizes: useCollision ? [...quantizer.codebookSizes, withCollision.collisionLevelSize] : quantizer.codebookSizes,
      hasCollisionLevel: useCollision,
    });
    return new SemanticIds(quantizer, table);
  }

  /** Number of codes per item (quantiser levels plus the collision level, if any). */
  get levels(): number {
    return this.table.levels;
  }

  /**
   * The token layout for this table (special tokens first, then each level's codes).
   *
   * @param specialTokens - names of the special tokens. @defaultValue ['pad', 'bos', 'eos']
   */
  tokenLayout(specialTokens?: readonly string[]): TokenLayout {
    return createTokenLayout({ levelSizes: this.table.codebookSizes, ...(specialTokens ? { specialTokens } : {}) });
  }

  /**
   * The codes of each item, `itemIds.length x levels`, row-major.
   *
   * @throws GenrecError `UNKNOWN_ID` for an item not in the table.
   */
  encode(itemIds: ArrayLike<number>): Int32Array {
    const levels = this.table.levels;
    const out = new Int32Array(itemIds.length * levels);
    for (let i = 0; i < itemIds.length; i++) {
      const codes = this.table.codesOf(itemIds[i]!);
      if (!codes) throw new GenrecError('UNKNOWN_ID', `item ${itemIds[i]} has no semantic id (the table has ${this.table.itemCount} items)`);
      out.set(codes, i * levels);
    }
    return out;
  }

  /**
   * The item of each code tuple (rows of `levels` codes); -1 where no item has that tuple (a
   * generated id may name no item).
   *
   * @throws GenrecError `SHAPE_MISMATCH` when `codes.length` is not a multiple of `levels`.
   */
  decode(codes: ArrayLike<number>): Int32Array {
    const levels = this.table.levels;
    if (codes.length % levels !== 0) throw new GenrecError('SHAPE_MISMATCH', `${codes.length} codes do not form rows of ${levels}`);
    const out = new Int32Array(codes.length / levels);
    const tuple = new Int32Array(levels);
    for (let i = 0; i < out.length; i++) {
      for (let l = 0; l < levels; l++) tuple[l] = codes[i * levels + l]!;
      out[i] = this.table.itemOf(tuple) ?? -1;
    }
    return out;
  }

  /**
   * The tokens of each item under `layout` (`levelOffsets[l] + code`), `itemIds.length x levels`.
   *
   * @throws GenrecError `UNKNOWN_ID` for an unknown item, `SHAPE_MISMATCH` for a layout of another table.
   */
  encodeTokens(itemIds: ArrayLike<number>, layout: TokenLayout = this.tokenLayout()): Int32Array {
    this.checkLayout(layout);
    const codes = this.encode(itemIds);
    const levels = this.table.levels;
    for (let i = 0; i < codes.length; i++) codes[i] = codes[i]! + layout.levelOffsets[i % levels]!;
    return codes;
  }

  /**
   * The item of each token tuple under `layout`; -1 where a token is outside its level or no item
   * has the tuple.
   */
  decodeTokens(tokens: ArrayLike<number>, layout: TokenLayout = this.tokenLayout()): Int32Array {
    this.checkLayout(layout);
    const levels = this.table.levels;
    if (tokens.length % levels !== 0) throw new GenrecError('SHAPE_MISMATCH', `${tokens.length} tokens do not form rows of ${levels}`);
    const codes = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const level = i % levels;
      const code = tokens[i]! - layout.levelOffsets[level]!;
      codes[i] = code >= 0 && code < layout.levelSizes[level]! ? code : -1;
    }
    const items = this.decode(codes);
    for (let i = 0; i < items.length; i++) {
      for (let l = 0; l < levels; l++) if (codes[i * levels + l]! < 0) items[i] = -1;
    }
    return items;
  }

  /**
   * Codes of new vectors under the fitted codebooks (`rows x quantizer.levels`, no collision token).
   *
   * @throws GenrecError `SHAPE_MISMATCH` for another dimension, `INVALID_INPUT` for non-finite values.
   */
  encodeVectors(vectors: Matrix, options: { backend?: KernelBackend } = {}): Promise<Int32Array> {
    return this.quantizer.encode(vectors, options);
  }

  /**
   * A new table with more items: their vectors are encoded with the fitted codebooks and colliding
   * ones get the next free collision token (the collision level grows when needed).
   *
   * @throws GenrecError `INVALID_INPUT` for an item already in the table, or for a collision in a
   * table without a collision level.
   */
  async extend(itemIds: ArrayLike<number>, vectors: Matrix, options: { backend?: KernelBackend } = {}): Promise<SemanticIds> {
    if (itemIds.length !== vectors.rows) throw new GenrecError('SHAPE_MISMATCH', `${itemIds.length} item ids for ${vectors.rows} vectors`);
    const prefix = this.quantizer.levels;
    const levels = this.table.levels;
    const newCodes = await this.quantizer.encode(vectors, options);
    const count = this.table.itemCount + itemIds.length;
    const ids = new Int32Array(count);
    ids.set(this.table.itemIds);
    const codes = new Int32Array(count * levels);
    codes.set(this.table.codes);
    const nextIndex = new Map<string, number>();
    for (let row = 0; row < this.table.itemCount; row++) {
      const key = tupleKey(this.table.codes, row * levels, prefix);
      const used = this.table.hasCollisionLevel ? this.table.codes[row * levels + prefix]! + 1 : 1;
      nextIndex.set(key, Math.max(nextIndex.get(key) ?? 0, used));
    }
    let collisionSize = this.table.hasCollisionLevel ? this.table.codebookSizes[prefix]! : 0;
    for (let i = 0; i < itemIds.length; i++) {
      const row = this.table.itemCount + i;
      ids[row] = itemIds[i]!;
      const key = tupleKey(newCodes, i * prefix, prefix);
      const index = nextIndex.get(key) ?? 0;
      nextIndex.set(key, index + 1);
      codes.set(newCodes.subarray(i * prefix, (i + 1) * prefix), row * levels);
      if (this.table.hasCollisionLevel) {
        codes[row * levels + prefix] = index;
        collisionSize = Math.max(collisionSize, index + 1);
      }
    }
    const sizes = [...this.quantizer.codebookSizes];
    if (this.table.hasCollisionLevel) sizes.push(collisionSize);
    const table = createSemanticIdTable({ itemIds: ids, codes, levels, codebookSizes: sizes, hasCollisionLevel: this.table.hasCollisionLevel });
    return new SemanticIds(this.quantizer, table);
  }

  /**
   * Saves a versioned folder atomically: `manifest.json` (kind, format version, shapes),
   * `codebook-<l>.npy` (float32), `item-ids.npy` and `codes.npy` (int32).
   */
  async save(directory: string): Promise<void> {
    const { table, quantizer } = this;
    await writeArtifactDirectory(directory, (temporary) => {
      quantizer.codebooks.forEach((codebook, level) =>
        writeNpy(join(temporary, `codebook-${level}.npy`), createTensor(codebook.data, [codebook.rows, codebook.cols])),
      );
      writeNpy(join(temporary, 'item-ids.npy'), createTensor(table.itemIds, [table.itemCount]));
      writeNpy(join(temporary, 'codes.npy'), createTensor(table.codes, [table.itemCount, table.levels]));
      const manifest: SemanticIdsManifest = {
        kind: SEMANTIC_IDS_KIND,
        formatVersion: SEMANTIC_IDS_FORMAT_VERSION,
        itemCount: table.itemCount,
        dimension: quantizer.dimension,
        quantizerLevels: quantizer.levels,
        levels: table.levels,
        codebookSizes: [...table.codebookSizes],
        hasCollisionLevel: table.hasCollisionLevel,
      };
      writeManifest(join(temporary, 'manifest.json'), manifest);
    });
  }

  /**
   * Loads a folder written by {@link SemanticIds.save}. Every file is covered by the folder's
   * checksum list; the manifest's fields, the arrays' dtypes and shapes, the codebooks (finite
   * values only: NaN or ±Infinity never load), the item ids (non-negative, unique) and the codes
   * (inside their levels, one item per tuple) are all checked before the object is built.
   *
   * Asynchronous since 1.0, like `@genrec/ann`'s loaders.
   *
   * @throws GenrecError `NOT_FOUND` without a manifest, `FORMAT_VERSION` for another kind or
   * version, `CORRUPT_ARTIFACT` when a file was changed after the save, a field is malformed, the
   * arrays disagree with the manifest, or a value is not finite.
   * @example
   * ```ts
   * const ids = await SemanticIds.load('artifacts/toys-semantic-ids');
   * ```
   */
  static async load(directory: string): Promise<SemanticIds> {
    const { manifest, manifestPath, artifact } = openArtifactFolder<SemanticIdsManifest>(directory, 'semantic-id', SEMANTIC_IDS_KIND, SEMANTIC_IDS_FORMAT_VERSION);
    const fields = manifest as unknown as Record<string, unknown>;
    const itemCount = manifestInteger(fields, 'itemCount', manifestPath, 0);
    const dimension = manifestInteger(fields, 'dimension', manifestPath, 1);
    const quantizerLevels = manifestInteger(fields, 'quantizerLevels', manifestPath, 1, 255);
    const levels = manifestInteger(fields, 'levels', manifestPath, 1, 256);
    const hasCollisionLevel = manifestBoolean(fields, 'hasCollisionLevel', manifestPath);
    // a collision level may be empty (no item collides); a quantiser level never is
    const codebookSizes = manifestIntegers(fields, 'codebookSizes', manifestPath, levels, 0);
    const where = (file: string): string => join(artifact.directory, file);
    const corrupt = (file: string, message: string, cause?: unknown): GenrecError =>
      new GenrecError('CORRUPT_ARTIFACT', message, cause === undefined ? { details: { file: where(file) } } : { cause, details: { file: where(file) } });
    if (levels !== quantizerLevels + (hasCollisionLevel ? 1 : 0)) {
      throw corrupt('manifest.json', `inconsistent levels: ${quantizerLevels} quantiser levels, ${levels} levels, collision level ${hasCollisionLevel}`);
    }
    if (codebookSizes.slice(0, quantizerLevels).some((size) => size < 1)) throw corrupt('manifest.json', `a quantiser level has an empty codebook: [${codebookSizes.join(', ')}]`);
    const expect = <D extends Tensor['dtype']>(file: string, dtype: D, shape: number[]): Tensor<D> => readCheckedArray(artifact, file, dtype, shape);
    const codebooks: Matrix[] = [];
    for (let level = 0; level < quantizerLevels; level++) {
      const file = `codebook-${level}.npy`;
      const tensor = expect(file, 'float32', [codebookSizes[level]!, dimension]);
      checkLoadedValues(tensor.data, where(file), 'finite');
      codebooks.push(createMatrix(codebookSizes[level]!, dimension, tensor.data));
    }
    const itemIds = expect('item-ids.npy', 'int32', [itemCount]).data;
    checkLoadedValues(itemIds, where('item-ids.npy'), 'item-ids');
    const codes = expect('codes.npy', 'int32', [itemCount, levels]).data;
    let table: SemanticIdTable;
    try {
      table = createSemanticIdTable({ itemIds, codes, levels, codebookSizes, hasCollisionLevel });
    } catch (error) {
      throw corrupt('codes.npy', `the saved table is invalid: ${(error as Error).message}`, error);
    }
    return new SemanticIds(new ResidualQuantizer(codebooks), table);
  }

  private checkLayout(layout: TokenLayout): void {
    const sizes = this.table.codebookSizes;
    if (layout.levelSizes.length !== sizes.length || layout.levelSizes.some((size, level) => size < sizes[level]!)) {
      throw new GenrecError('SHAPE_MISMATCH', `the token layout's levels [${layout.levelSizes.join(', ')}] do not hold this table's levels [${sizes.join(', ')}]`);
    }
  }
}
