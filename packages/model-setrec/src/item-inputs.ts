import { GenrecError, createMatrix, type FitData, type ItemRecord, type Matrix, type ProgressCallback } from '@genrec/core';
import { matMul } from '@genrec/nn';
import { itemDocument, textEmbeddings, tfidf } from '@genrec/semantic-id';
import type { ColdCfToken } from './options.js';

/** Item content vectors: row `j` = item `j + 1`. */
export interface ContentVectors {
  data: Float32Array;
  dimension: number;
  /** Where they came from. */
  source: 'itemVectors' | 'catalog';
}

function checkFiniteRows(matrix: Matrix, rows: number, what: string, field: string): void {
  if (typeof matrix !== 'object' || matrix === null || !(matrix.data instanceof Float32Array) || matrix.rows !== rows || matrix.cols < 1 || matrix.data.length !== rows * matrix.cols) {
    throw new GenrecError('SHAPE_MISMATCH', `${what} must be a float32 Matrix of ${rows} rows (row j = item j + 1), got ${matrix?.rows} x ${matrix?.cols}`, { details: { field } });
  }
  for (let i = 0; i < matrix.data.length; i++) {
    if (!Number.isFinite(matrix.data[i]!)) {
      throw new GenrecError('INVALID_INPUT', `${what} holds ${matrix.data[i]} at item ${Math.floor(i / matrix.cols) + 1}, column ${i % matrix.cols}`, { details: { field } });
    }
  }
}

/**
 * The content vectors SETRec's autoencoder reads: `data.itemVectors` when given, otherwise
 * `@genrec/semantic-id`'s `textEmbeddings` (TF-IDF + SVD, L2 rows) of the catalogue's `fields`, at
 * `min(dimension, items with a record, vocabulary)` dimensions. Items without a record get a zero
 * row.
 *
 * @throws GenrecError `INVALID_INPUT` when neither item vectors nor a catalogue is given or the
 * vectors are not finite; `SHAPE_MISMATCH` for vectors of another row count.
 */
export function contentVectors(data: FitData, itemCount: number, fields: readonly string[], dimension: number, onProgress: ProgressCallback | undefined): ContentVectors {
  if (data.itemVectors !== undefined) {
    checkFiniteRows(data.itemVectors, itemCount, 'data.itemVectors', 'itemVectors');
    return { data: data.itemVectors.data, dimension: data.itemVectors.cols, source: 'itemVectors' };
  }
  const catalog = data.catalog;
  if (catalog === undefined) {
    throw new GenrecError('INVALID_INPUT', 'SETRec needs item content: give data.itemVectors (one row per item) or data.catalog (titles/categories to embed)', { details: { field: 'catalog' } });
  }
  const records = catalog.records.filter((record): record is ItemRecord => record !== undefined && record.id >= 1 && record.id <= itemCount).sort((a, b) => a.id - b.id);
  if (records.length === 0) throw new GenrecError('INVALID_INPUT', `the catalogue has no record for items 1..${itemCount}`, { details: { field: 'catalog' } });
  const vocabulary = tfidf(records.map((record) => itemDocument(record, fields))).matrix.cols;
  if (vocabulary === 0) throw new GenrecError('INVALID_INPUT', `the catalogue's fields [${fields.join(', ')}] hold no word to embed`, { details: { field: 'contentFields' } });
  const used = Math.min(dimension, records.length, vocabulary);
  const embedded = textEmbeddings(records, { fields, dimension: used, ...(onProgress ? { onProgress } : {}) });
  const out = new Float32Array(itemCount * used);
  embedded.itemIds.forEach((id, row) => out.set(embedded.vectors.data.subarray(row * used, (row + 1) * used), (id - 1) * used));
  return { data: out, dimension: used, source: 'catalog' };
}

/**
 * The frozen CF vectors as SETRec uses them: warm items keep theirs; each cold item (no training
 * interaction) gets a zero row (`'zero'`), or the mean CF vector of the `neighbors` warm items
 * whose content vectors have the highest cosine similarity to its own (`'imputed'`; a cold item
 * without content falls back to zero).
 *
 * @param cf - `itemCount x cfDimension` (copied, not modified)
 * @param popularity - training interactions per item (0 = cold)
 * @returns the CF vectors and the cold item ids
 */
export async function coldReadyCf(
  cf: Float32Array,
  cfDimension: number,
  content: ContentVectors,
  popularity: Int32Array,
  mode: ColdCfToken,
  neighbors: number,
): Promise<{ vectors: Float32Array; coldItems: number[] }> {
  const itemCount = popularity.length;
  const vectors = cf.slice();
  const cold: number[] = [];
  const warm: number[] = [];
  for (let j = 0; j < itemCount; j++) (popularity[j] === 0 ? cold : warm).push(j);
  if (cold.length === 0) return { vectors, coldItems: [] };
  for (const j of cold) vectors.fill(0, j * cfDimension, (j + 1) * cfDimension);
  if (mode === 'zero' || warm.length === 0) return { vectors, coldItems: cold.map((j) => j + 1) };
  const d = content.dimension;
  const unit = (rows: number[]): Matrix => {
    const m = createMatrix(rows.length, d);
    rows.forEach((j, r) => {
      let norm = 0;
      for (let c = 0; c < d; c++) norm += content.data[j * d + c]! ** 2;
      const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let c = 0; c < d; c++) m.data[r * d + c] = content.data[j * d + c]! * scale;
    });
    return m;
  };
  const warmUnit = unit(warm);
  const take = Math.min(neighbors, warm.length);
  const block = Math.max(1, Math.floor((1 << 22) / warm.length));
  for (let from = 0; from < cold.length; from += block) {
    const part = cold.slice(from, from + block);
    const similarities = await matMul(unit(part), warmUnit, { transposeB: true });
    part.forEach((j, r) => {
      let norm = 0;
      for (let c = 0; c < d; c++) norm += content.data[j * d + c]! ** 2;
      if (norm === 0) return;
      const row = similarities.data.subarray(r * warm.length, (r + 1) * warm.length);
      // the `take` most similar warm items, ties to the lower item id
      const order = Array.from({ length: warm.length }, (_, i) => i).sort((p, q) => row[q]! - row[p]! || p - q).slice(0, take);
      for (const w of order) {
        const source = warm[w]! * cfDimension;
        for (let c = 0; c < cfDimension; c++) vectors[j * cfDimension + c]! += cf[source + c]! / take;
      }
    });
  }
  return { vectors, coldItems: cold.map((j) => j + 1) };
}
