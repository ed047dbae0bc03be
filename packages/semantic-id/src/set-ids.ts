import { join } from 'node:path';
import {
  assertFinite,
  createMatrix,
  createTensor,
  GenrecError,
  progressReporter,
  Rng,
  writeArtifactDirectory,
  writeManifest,
  writeNpy,
  type ArtifactManifest,
  type Matrix,
  type ProgressCallback,
  type Seed,
  type SetIdTable,
  type Tensor,
} from '@genrec/core';
import { checkLoadedValues, manifestBoolean, manifestInteger, manifestIntegers, openArtifactFolder, readCheckedArray } from './artifact-folder.js';
import { assignNearest, runKMeans } from './kmeans.js';
import { squaredRowNorms, type KernelBackend } from './kernels.js';
import { fitProductQuantizer, ProductQuantizer } from './product-quantizer.js';

/** Artifact kind of a saved {@link SetIds} table. */
export const SET_IDS_KIND = 'genrec.set-ids';
/** Format version written by {@link SetIds.save}. */
export const SET_IDS_FORMAT_VERSION = 1;

interface SetIdsManifest extends ArtifactManifest {
  variant: 'continuous' | 'discrete';
  itemCount: number;
  slotCount: number;
  slotDimensions: number[];
  codebookSizes?: number[];
  subspaceOffsets?: number[];
  hasRotation?: boolean;
}

/** The discrete variant's codebooks: slot 0 (CF) and the product quantiser of slots 1..n. */
interface DiscreteParts {
  codes: Int32Array;
  cfCodebook: Matrix;
  semantic: ProductQuantizer;
}

/**
 * A {@link SetIdTable}: every item as a set of `slotCount` order-agnostic tokens, slot 0 the
 * collaborative (CF) token and slots 1.. the semantic ones. Continuous tables hold vectors per
 * slot (SETRec); discrete tables hold a code per slot and look up codewords as the slot vectors.
 * An item's score for slot queries `q_s` is `Σ_s w_s <q_s, v_s(item)>`, which {@link SetIds.flatten}
 * turns into one inner product, so an `@genrec/ann` index over the flattened rows grounds
 * generated tokens to items.
 *
 * @example
 * ```ts
 * const table = await SetIds.fitDiscrete(itemIds, textVectors, cfVectors, { semanticSlots: 4 });
 * const rows = table.flatten(); // itemCount x (cf dim + text dim), weights applied
 * ```
 */
export class SetIds implements SetIdTable {
  readonly slotCount: number;
  readonly slotDimensions: readonly number[];
  readonly itemCount: number;
  readonly codebookSizes?: readonly number[];
  private readonly rowOfItem: Map<number, number>;

  private constructor(
    readonly variant: 'continuous' | 'discrete',
    readonly itemIds: Int32Array,
    readonly slotWeights: Float32Array,
    private readonly slots: readonly Matrix[],
    private readonly discrete?: DiscreteParts,
  ) {
    this.slotCount = slots.length;
    this.slotDimensions = slots.map((slot) => slot.cols);
    // the flattened rows (w_s v_s(i), float32) must be finite too: finite weights and values whose
    // product overflows float32 would put Infinity into every grounding index built from them
    slots.forEach((slot, s) => {
      const weight = slotWeights[s]!;
      let largest = 0;
      for (const value of slot.data) largest = Math.max(largest, Math.abs(value));
      if (!Number.isFinite(largest) || !Number.isFinite(Math.fround(largest * weight))) {
        throw new GenrecError('INVALID_INPUT', `slot ${s}: its largest value ${largest} times its weight ${weight} is not a finite float32, so its flattened rows would hold Infinity`, {
          details: { field: `slot ${s}` },
        });
      }
    });
    this.itemCount = itemIds.length;
    if (discrete) this.codebookSizes = [discrete.cfCodebook.rows, ...discrete.semantic.codebookSizes];
    this.rowOfItem = new Map();
    itemIds.forEach((id, row) => {
      if (this.rowOfItem.has(id)) throw new GenrecError('INVALID_INPUT', `item ${id} appears twice in the set-id table`);
      this.rowOfItem.set(id, row);
    });
  }

  /**
   * A continuous table from given per-slot vectors (slot 0 = CF).
   *
   * @param slots - one `items x d_s` matrix per slot.
   * @param slotWeights - weight per slot. @defaultValue all 1
   * @throws GenrecError `SHAPE_MISMATCH` when slots disagree on the item count, `INVALID_INPUT`
   * for non-finite values or repeated ids.
   */
  static continuous(itemIds: ArrayLike<number>, slots: readonly Matrix[], slotWeights?: ArrayLike<number>): SetIds {
    if (slots.length < 1) throw new GenrecError('INVALID_INPUT', 'a set-id table needs at least one slot');
    slots.forEach((slot, s) => {
      if (slot.rows !== itemIds.length) throw new GenrecError('SHAPE_MISMATCH', `slot ${s} has ${slot.rows} rows for ${itemIds.length} items`);
      assertFinite(slot, `slot ${s}`);
    });
    return new SetIds('continuous', Int32Array.from(itemIds), weightsOf(slotWeights, slots.length), slots.map(copyOf));
  }

  /**
   * Fits the discrete variant: k-means codes for the CF vectors (slot 0) and a product quantiser
   * over `semanticSlots` subspaces of the semantic vectors (slots 1..n), optionally OPQ-rotated.
   * Long on real catalogues (about 17 s on Toys): progress goes to `options.onProgress`.
   *
   * @throws GenrecError `SHAPE_MISMATCH` when the inputs disagree on the items, `INVALID_INPUT`
   * for non-finite vectors or fewer items than codes.
   */
  static async fitDiscrete(itemIds: ArrayLike<number>, semanticVectors: Matrix, cfVectors: Matrix, options: DiscreteSetIdOptions = {}): Promise<SetIds> {
    if (semanticVectors.rows !== itemIds.length || cfVectors.rows !== itemIds.length) {
      throw new GenrecError('SHAPE_MISMATCH', `${itemIds.length} items, ${semanticVectors.rows} semantic rows, ${cfVectors.rows} CF rows`);
    }
    const backend = options.backend ?? 'auto';
    const rng = new Rng(options.seed ?? 0);
    const semanticSlots = options.semanticSlots ?? 4;
    const onProgress = options.onProgress;
    // two stages: the product quantiser of the semantic slots, then the CF codebook
    const progress = progressReporter(onProgress, 'set-ids-discrete', { total: 2, unit: 'stages' });
    progress.start();
    const pq = await fitProductQuantizer(semanticVectors, {
      subspaces: semanticSlots,
      codebookSize: options.codebookSize ?? 256,
      rotation: options.rotation ?? 'none',
      seed: rng.nextUint32(),
      backend,
      ...(onProgress ? { onProgress } : {}),
    });
    progress.update(1, { message: 'product quantiser fitted', metrics: { relativeError: pq.relativeError } });
    const cfSize = options.cfCodebookSize ?? options.codebookSize ?? 256;
    if (cfVectors.rows < cfSize) throw new GenrecError('INVALID_INPUT', `the CF codebook has ${cfSize} codes but there are only ${cfVectors.rows} items`);
    assertFinite(cfVectors, 'CF vectors');
    const cf = await runKMeans(cfVectors, { clusterCount: cfSize, seed: rng.nextUint32(), backend, task: 'set-ids-cf-kmeans', ...(onProgress ? { onProgress } : {}) }, undefined, false);
    const n = itemIds.length;
    const slotCount = semanticSlots + 1;
    const codes = new Int32Array(n * slotCount);
    for (let i = 0; i < n; i++) {
      codes[i * slotCount] = cf.labels[i]!;
      for (let s = 0; s < semanticSlots; s++) codes[i * slotCount + 1 + s] = pq.codes[i * semanticSlots + s]!;
    }
    const table = SetIds.fromCodes(itemIds, codes, cf.centroids, pq.quantizer, options.slotWeights);
    progress.end(2, { message: 'CF codebook fitted' });
    return table;
  }

  private static fromCodes(itemIds: ArrayLike<number>, codes: Int32Array, cfCodebook: Matrix, semantic: ProductQuantizer, slotWeights?: ArrayLike<number>): SetIds {
    const slotCount = semantic.subspaces + 1;
    const n = itemIds.length;
    if (codes.length !== n * slotCount) throw new GenrecError('SHAPE_MISMATCH', `${codes.length} codes for ${n} items x ${slotCount} slots`);
    const codebooks = [cfCodebook, ...semantic.codebooks];
    const slots = codebooks.map((codebook, s) => {
      const out = createMatrix(n, codebook.cols);
      for (let i = 0; i < n; i++) {
        const code = codes[i * slotCount + s]!;
        if (!Number.isInteger(code) || code < 0 || code >= codebook.rows) {
          throw new GenrecError('INVALID_INPUT', `item ${itemIds[i]}: code ${code} of slot ${s} is outside 0..${codebook.rows - 1}`);
        }
        out.data.set(codebook.data.subarray(code * codebook.cols, (code + 1) * codebook.cols), i * codebook.cols);
      }
      return out;
    });
    return new SetIds('discrete', Int32Array.from(itemIds), weightsOf(slotWeights, slotCount), slots, { codes, cfCodebook, semantic });
  }

  /** The vectors of slot `slot` (`itemCount x slotDimensions[slot]`, a view: do not modify). */
  slotVectors(slot: number): Matrix {
    const matrix = this.slots[slot];
    if (!matrix) throw new GenrecError('INVALID_INPUT', `slot ${slot} is outside 0..${this.slotCount - 1}`);
    return matrix;
  }

  /** Discrete variant: the code of every item in slot `slot`. */
  slotCodes(slot: number): Int32Array {
    if (!this.discrete) throw new GenrecError('UNSUPPORTED', 'a continuous set-id table has no codes');
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slotCount) throw new GenrecError('INVALID_INPUT', `slot ${slot} is outside 0..${this.slotCount - 1}`);
    const out = new Int32Array(this.itemCount);
    for (let i = 0; i < this.itemCount; i++) out[i] = this.discrete.codes[i * this.slotCount + slot]!;
    return out;
  }

  /**
   * Discrete variant: the codes of each item, `itemIds.length x slotCount` (slot 0 = CF).
   *
   * @throws GenrecError `UNKNOWN_ID` for an item not in the table.
   */
  encode(itemIds: ArrayLike<number>): Int32Array {
    if (!this.discrete) throw new GenrecError('UNSUPPORTED', 'a continuous set-id table has no codes');
    const out = new Int32Array(itemIds.length * this.slotCount);
    for (let i = 0; i < itemIds.length; i++) {
      const row = this.rowOfItem.get(itemIds[i]!);
      if (row === undefined) throw new GenrecError('UNKNOWN_ID', `item ${itemIds[i]} is not in the set-id table`);
      out.set(this.discrete.codes.subarray(row * this.slotCount, (row + 1) * this.slotCount), i * this.slotCount);
    }
    return out;
  }

  /**
   * Discrete variant: codes of new items from their vectors with the fitted codebooks.
   *
   * @throws GenrecError `SHAPE_MISMATCH` for other dimensions or row counts.
   */
  async encodeVectors(semanticVectors: Matrix, cfVectors: Matrix, options: { backend?: KernelBackend } = {}): Promise<Int32Array> {
    if (!this.discrete) throw new GenrecError('UNSUPPORTED', 'a continuous set-id table has no codebooks');
    const { cfCodebook, semantic } = this.discrete;
    if (cfVectors.cols !== cfCodebook.cols || semanticVectors.rows !== cfVectors.rows) {
      throw new GenrecError('SHAPE_MISMATCH', `expected ${cfCodebook.cols}-d CF vectors for each of ${semanticVectors.rows} items, got ${cfVectors.rows} x ${cfVectors.cols}`);
    }
    assertFinite(cfVectors, 'CF vectors');
    const semanticCodes = await semantic.encode(semanticVectors, options);
    const n = cfVectors.rows;
    const labels = new Int32Array(n).fill(-1);
    await assignNearest(cfVectors, squaredRowNorms(cfVectors), Int32Array.from({ length: n }, (_, i) => i), n, cfCodebook, labels, new Float64Array(n), new Float64Array(n), options.backend ?? 'auto');
    const out = new Int32Array(n * this.slotCount);
    for (let i = 0; i < n; i++) {
      out[i * this.slotCount] = labels[i]!;
      for (let s = 1; s < this.slotCount; s++) out[i * this.slotCount + s] = semanticCodes[i * (this.slotCount - 1) + s - 1]!;
    }
    return out;
  }

  /**
   * Discrete variant: items whose codes equal `codes` in every slot (several when items share
   * all codes; empty when none).
   */
  itemsWithCodes(codes: ArrayLike<number>): number[] {
    if (!this.discrete) throw new GenrecError('UNSUPPORTED', 'a continuous set-id table has no codes');
    const found: number[] = [];
    const all = this.discrete.codes;
    for (let row = 0; row < this.itemCount; row++) {
      let same = true;
      for (let s = 0; s < this.slotCount && same; s++) same = all[row * this.slotCount + s] === codes[s];
      if (same) found.push(this.itemIds[row]!);
    }
    return found;
  }

  /** Row `i`: `w_0 v_0(i) ‖ w_1 v_1(i) ‖ …`, so `Σ_s w_s <q_s, v_s(i)>` = `<q_0 ‖ q_1 ‖ …, row i>`. */
  flatten(): Matrix {
    const width = this.slotDimensions.reduce((sum, d) => sum + d, 0);
    const out = createMatrix(this.itemCount, width);
    let offset = 0;
    this.slots.forEach((slot, s) => {
      const weight = this.slotWeights[s]!;
      for (let i = 0; i < this.itemCount; i++) {
        for (let c = 0; c < slot.cols; c++) out.data[i * width + offset + c] = weight * slot.data[i * slot.cols + c]!;
      }
      offset += slot.cols;
    });
    return out;
  }

  /** Scores of every item for per-slot queries (`queries[s]` of length `slotDimensions[s]`): `Σ_s w_s <q_s, v_s(i)>`. */
  scores(queries: readonly ArrayLike<number>[]): Float64Array {
    if (queries.length !== this.slotCount) throw new GenrecError('SHAPE_MISMATCH', `${queries.length} slot queries for ${this.slotCount} slots`);
    const out = new Float64Array(this.itemCount);
    this.slots.forEach((slot, s) => {
      const query = queries[s]!;
      if (query.length !== slot.cols) throw new GenrecError('SHAPE_MISMATCH', `query ${s} has ${query.length} values, slot ${s} has ${slot.cols}`);
      const weight = this.slotWeights[s]!;
      for (let i = 0; i < this.itemCount; i++) {
        let sum = 0;
        for (let c = 0; c < slot.cols; c++) sum += query[c]! * slot.data[i * slot.cols + c]!;
        out[i] = out[i]! + weight * sum;
      }
    });
    return out;
  }

  /**
   * Saves a versioned folder atomically: `manifest.json`, `item-ids.npy`, `slot-weights.npy`, and
   * `slot-<s>.npy` (continuous) or `codes.npy`, `codebook-<s>.npy` and `rotation.npy` (discrete).
   */
  async save(directory: string): Promise<void> {
    await writeArtifactDirectory(directory, (temporary) => {
      writeNpy(join(temporary, 'item-ids.npy'), createTensor(this.itemIds, [this.itemCount]));
      writeNpy(join(temporary, 'slot-weights.npy'), createTensor(this.slotWeights, [this.slotCount]));
      const manifest: SetIdsManifest = {
        kind: SET_IDS_KIND,
        formatVersion: SET_IDS_FORMAT_VERSION,
        variant: this.variant,
        itemCount: this.itemCount,
        slotCount: this.slotCount,
        slotDimensions: [...this.slotDimensions],
      };
      if (this.discrete) {
        const { codes, cfCodebook, semantic } = this.discrete;
        writeNpy(join(temporary, 'codes.npy'), createTensor(codes, [this.itemCount, this.slotCount]));
        [cfCodebook, ...semantic.codebooks].forEach((codebook, s) => writeNpy(join(temporary, `codebook-${s}.npy`), createTensor(codebook.data, [codebook.rows, codebook.cols])));
        if (semantic.rotation) writeNpy(join(temporary, 'rotation.npy'), createTensor(semantic.rotation.data, [semantic.dimension, semantic.dimension]));
        manifest.codebookSizes = [...this.codebookSizes!];
        manifest.subspaceOffsets = [...semantic.offsets];
        manifest.hasRotation = semantic.rotation !== undefined;
      } else {
        this.slots.forEach((slot, s) => writeNpy(join(temporary, `slot-${s}.npy`), createTensor(slot.data, [slot.rows, slot.cols])));
      }
      writeManifest(join(temporary, 'manifest.json'), manifest);
    });
  }

  /**
   * Loads a folder written by {@link SetIds.save}. Every file is covered by the folder's checksum
   * list; the manifest's fields, every array's dtype and shape, every float (finite only: NaN or
   * ±Infinity never load into weights, slot vectors, codebooks or the rotation), the item ids
   * (non-negative, unique) and the codes are checked before the table is built.
   *
   * Asynchronous since 1.0, like `@genrec/ann`'s loaders.
   *
   * @throws GenrecError `NOT_FOUND` without a manifest, `FORMAT_VERSION` for another kind or
   * version, `CORRUPT_ARTIFACT` when a file was changed after the save, a field is malformed,
   * arrays disagree with the manifest, or a value is not finite.
   * @example
   * ```ts
   * const table = await SetIds.load('artifacts/toys-set-ids');
   * ```
   */
  static async load(directory: string): Promise<SetIds> {
    const { manifest, manifestPath, artifact } = openArtifactFolder<SetIdsManifest>(directory, 'set-id', SET_IDS_KIND, SET_IDS_FORMAT_VERSION);
    const fields = manifest as unknown as Record<string, unknown>;
    const where = (file: string): string => join(artifact.directory, file);
    const corrupt = (file: string, message: string, cause?: unknown): GenrecError =>
      new GenrecError('CORRUPT_ARTIFACT', message, cause === undefined ? { details: { file: where(file) } } : { cause, details: { file: where(file) } });
    const variant = manifest.variant;
    if (variant !== 'continuous' && variant !== 'discrete') throw corrupt('manifest.json', `manifest field variant must be 'continuous' or 'discrete', found ${JSON.stringify(variant)}`);
    const itemCount = manifestInteger(fields, 'itemCount', manifestPath, 0);
    const slotCount = manifestInteger(fields, 'slotCount', manifestPath, 1, 4096);
    const slotDimensions = manifestIntegers(fields, 'slotDimensions', manifestPath, slotCount, 1);
    const read = <D extends Tensor['dtype']>(file: string, dtype: D, shape: number[]): Tensor<D> => readCheckedArray(artifact, file, dtype, shape);
    const readFloats = (file: string, shape: number[]): Float32Array => {
      const data = read(file, 'float32', shape).data;
      checkLoadedValues(data, where(file), 'finite');
      return data;
    };
    const itemIds = read('item-ids.npy', 'int32', [itemCount]).data;
    checkLoadedValues(itemIds, where('item-ids.npy'), 'item-ids');
    const weights = readFloats('slot-weights.npy', [slotCount]);
    if (variant === 'continuous') {
      const slots = slotDimensions.map((d, s) => createMatrix(itemCount, d, readFloats(`slot-${s}.npy`, [itemCount, d])));
      try {
        return new SetIds('continuous', itemIds, weights, slots);
      } catch (error) {
        throw corrupt('item-ids.npy', `the saved set-id table is invalid: ${(error as Error).message}`, error);
      }
    }
    if (slotCount < 2) throw corrupt('manifest.json', `a discrete set-id table has a CF slot and at least one semantic slot, found ${slotCount} slot(s)`);
    const sizes = manifestIntegers(fields, 'codebookSizes', manifestPath, slotCount, 1);
    const offsets = manifestIntegers(fields, 'subspaceOffsets', manifestPath, slotCount, 0);
    const hasRotation = manifestBoolean(fields, 'hasRotation', manifestPath, false);
    // the semantic slots cut one vector into consecutive pieces: offsets 0 < o_1 < ... < total
    const total = offsets[offsets.length - 1]!;
    for (let s = 1; s < slotCount; s++) {
      if (offsets[0] !== 0 || offsets[s - 1]! + slotDimensions[s]! !== offsets[s]) {
        throw corrupt('manifest.json', `subspaceOffsets [${offsets.join(', ')}] do not match the semantic slot dimensions [${slotDimensions.slice(1).join(', ')}]`);
      }
    }
    const codebooks = slotDimensions.map((d, s) => createMatrix(sizes[s]!, d, readFloats(`codebook-${s}.npy`, [sizes[s]!, d])));
    const rotation = hasRotation ? createMatrix(total, total, readFloats('rotation.npy', [total, total])) : undefined;
    const codes = read('codes.npy', 'int32', [itemCount, slotCount]).data;
    try {
      return SetIds.fromCodes(itemIds, codes, codebooks[0]!, new ProductQuantizer(codebooks.slice(1), offsets, rotation), weights);
    } catch (error) {
      throw corrupt('codes.npy', `the saved set-id table is invalid: ${(error as Error).message}`, error);
    }
  }
}

/** Options of {@link SetIds.fitDiscrete}. */
export interface DiscreteSetIdOptions {
  /** Semantic slots n (product-quantisation subspaces). @defaultValue 4 */
  semanticSlots?: number;
  /** Codes per semantic slot. @defaultValue 256 */
  codebookSize?: number;
  /** Codes of the CF slot. @defaultValue codebookSize */
  cfCodebookSize?: number;
  /** `'opq'` learns a rotation of the semantic space first. @defaultValue 'none' */
  rotation?: 'none' | 'opq';
  /** Weight per slot (slot 0 = CF). @defaultValue all 1 */
  slotWeights?: ArrayLike<number>;
  /** Seed. @defaultValue 0 */
  seed?: Seed;
  /** Where the products run. @defaultValue 'auto' */
  backend?: KernelBackend;
  /**
   * Progress (task events): `'set-ids-discrete'` (2 stages: product quantiser, CF codebook), inside
   * it `'product-quantizer'` (one step per subspace k-means, OPQ alternations included) with each
   * k-means' iterations as `'pq-kmeans'`, then the CF k-means' iterations as `'set-ids-cf-kmeans'`.
   */
  onProgress?: ProgressCallback;
}

function weightsOf(weights: ArrayLike<number> | undefined, count: number): Float32Array {
  if (weights === undefined) return new Float32Array(count).fill(1);
  if (weights.length !== count) throw new GenrecError('SHAPE_MISMATCH', `${weights.length} slot weights for ${count} slots`);
  const out = Float32Array.from(weights);
  for (const weight of out) if (!Number.isFinite(weight)) throw new GenrecError('INVALID_INPUT', `slot weights must be finite, got ${weight}`);
  return out;
}

function copyOf(matrix: Matrix): Matrix {
  return createMatrix(matrix.rows, matrix.cols, matrix.data.slice());
}
