import { GenrecError, createMatrix, type FitData, type Matrix, progressReporter, type ProgressCallback } from '@genrec/core';
import { fitSasrec, resolveSasrecSpec } from '@genrec/model-sasrec';
import { collaborativeEmbeddings, textEmbeddings } from '@genrec/semantic-id';
import type { ItemVectorSource, TigerSpec } from './options.js';

/** Per source, how many columns it gave (the concatenation's layout). */
export interface ItemVectorReport {
  source: ItemVectorSource;
  dimension: number;
  /** Wall time of building this source, ms (SASRec's training included for `'sasrec'`). */
  elapsedMs: number;
}

/**
 * Row `j` of a matrix for item `j + 1` from an `itemIds`/`vectors` pair in any order (items
 * missing from it get a zero row).
 */
function byItemId(itemCount: number, itemIds: Int32Array, vectors: Matrix): Matrix {
  const out = createMatrix(itemCount, vectors.cols);
  for (let r = 0; r < itemIds.length; r++) {
    const id = itemIds[r]!;
    if (id >= 1 && id <= itemCount) out.data.set(vectors.data.subarray(r * vectors.cols, (r + 1) * vectors.cols), (id - 1) * vectors.cols);
  }
  return out;
}

/** L2-normalises every non-zero row in place, then multiplies it by `weight` (skipped at 1). */
function normalize(matrix: Matrix, weight: number): Matrix {
  const { rows, cols, data } = matrix;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += data[r * cols + c]! ** 2;
    if (sum === 0) continue;
    const scale = 1 / Math.sqrt(sum);
    for (let c = 0; c < cols; c++) {
      data[r * cols + c]! *= scale;
      if (weight !== 1) data[r * cols + c]! *= weight;
    }
  }
  return matrix;
}

/**
 * Builds the item vectors of `spec.itemVectors` for items `1 .. itemCount` (row `j` = item `j + 1`):
 * each source L2-normalised per row (a zero row stays zero), multiplied by its
 * `spec.itemVectorWeights` entry, then concatenated.
 *
 * @param data - the fit data (`train`, `catalog` for `'text'`, `itemVectors` for `'given'`)
 * @param spec - the resolved hyper-parameters
 * @param onProgress - progress of the sources that report it
 * @param signal - aborts SASRec's training for the `'sasrec'` source
 * @returns the concatenated vectors and what each source gave
 * @throws GenrecError `INVALID_INPUT` when a source's input is missing (no catalogue for `'text'`,
 * no `itemVectors` for `'given'`) or has the wrong shape.
 */
export async function buildItemVectors(
  data: FitData,
  spec: TigerSpec,
  onProgress: ProgressCallback | undefined,
  signal: AbortSignal | undefined,
): Promise<{ vectors: Matrix; report: ItemVectorReport[] }> {
  const itemCount = data.train.itemCount;
  const parts: Matrix[] = [];
  const report: ItemVectorReport[] = [];
  for (const source of spec.itemVectors) {
    const started = performance.now();
    let part: Matrix;
    if (source === 'text') {
      if (data.catalog === undefined) throw new GenrecError('INVALID_INPUT', "itemVectors 'text' needs data.catalog (item titles or other text fields)", { details: { field: 'catalog' } });
      const text = textEmbeddings(data.catalog, { fields: spec.textFields, dimension: spec.vectorDimension, seed: spec.seed, ...(onProgress ? { onProgress } : {}) });
      part = byItemId(itemCount, text.itemIds, text.vectors);
    } else if (source === 'collaborative') {
      const cf = collaborativeEmbeddings(data.train, { dimension: spec.vectorDimension, window: spec.collaborativeWindow, seed: spec.seed });
      part = byItemId(itemCount, cf.itemIds, cf.vectors);
    } else if (source === 'sasrec') {
      // SASRec's epochs reported as one task, like SETRec's pre-training (minutes on Toys)
      const sasrecProgress = progressReporter(onProgress, 'sasrec-pretraining', { unit: 'epochs', total: resolveSasrecSpec({ ...spec.sasrecOptions }).epochs });
      sasrecProgress.start();
      let sasrec;
      try {
        sasrec = await fitSasrec(
          { train: data.train },
          {
            threads: spec.threads,
            ...spec.sasrecOptions,
            seed: spec.seed,
            earlyStopping: false,
            ...(signal ? { signal } : {}),
            onProgress: (event) => {
              if (event.type === 'epoch-end') sasrecProgress.update(event.epoch, { metrics: { loss: event.loss } });
            },
          },
        );
      } finally {
        sasrecProgress.end(); // also when SASRec's training fails or is aborted: no bar is left open
      }
      try {
        part = sasrec.itemEmbeddings();
      } finally {
        await sasrec.dispose();
      }
    } else {
      const given = data.itemVectors;
      if (given === undefined) throw new GenrecError('INVALID_INPUT', "itemVectors 'given' needs data.itemVectors (one row per item, row j = item j + 1)", { details: { field: 'itemVectors' } });
      if (given.rows !== itemCount || !(given.data instanceof Float32Array) || given.data.length !== given.rows * given.cols) {
        throw new GenrecError('INVALID_INPUT', `data.itemVectors must be a float32 matrix of ${itemCount} rows (one per item), got ${given.rows} x ${given.cols}`, { details: { field: 'itemVectors' } });
      }
      for (let i = 0; i < given.data.length; i++) {
        if (!Number.isFinite(given.data[i]!)) {
          throw new GenrecError('INVALID_INPUT', `data.itemVectors holds ${given.data[i]} at row ${Math.floor(i / given.cols)}, column ${i % given.cols}`, { details: { field: 'itemVectors' } });
        }
      }
      part = createMatrix(given.rows, given.cols, given.data.slice());
    }
    parts.push(normalize(part, spec.itemVectorWeights[parts.length]!));
    report.push({ source, dimension: part.cols, elapsedMs: performance.now() - started });
  }
  if (parts.length === 1) return { vectors: parts[0]!, report };
  const cols = parts.reduce((sum, part) => sum + part.cols, 0);
  const out = createMatrix(itemCount, cols);
  for (let r = 0; r < itemCount; r++) {
    let offset = r * cols;
    for (const part of parts) {
      out.data.set(part.data.subarray(r * part.cols, (r + 1) * part.cols), offset);
      offset += part.cols;
    }
  }
  return { vectors: out, report };
}
