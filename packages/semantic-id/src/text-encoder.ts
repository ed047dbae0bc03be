import { createMatrix, GenrecError, normalizeRows, progressReporter, type ItemCatalog, type ItemRecord, type Matrix, type ProgressCallback, type Seed } from '@genrec/core';
import { randomizedSvd } from './randomized-svd.js';
import { tfidf, unescapeHtml } from './tfidf.js';

/** Options of {@link textEmbeddings}. */
export interface TextEmbeddingOptions {
  /**
   * Record fields whose text is joined (in this order) into an item's document: `'title'`,
   * `'categories'` (every category path, words joined), or any other field of `record.fields`
   * (strings, or arrays of strings).
   * @defaultValue ['title']
   */
  fields?: readonly string[];
  /** Output dimension (truncated SVD rank). @defaultValue 128 */
  dimension?: number;
  /** Power iterations of the randomised SVD. @defaultValue 5 */
  powerIterations?: number;
  /** Oversampling of the randomised SVD. @defaultValue 10 */
  oversamples?: number;
  /** Seed of the randomised SVD. @defaultValue 0 */
  seed?: Seed;
  /**
   * Progress (about 10 s on Toys): task `'text-embeddings'` with 3 stages (TF-IDF, SVD,
   * normalisation), and inside the SVD task `'randomized-svd'`, one step per pass over the matrix.
   */
  onProgress?: ProgressCallback;
}

/** Item vectors with the id of each row. */
export interface ItemEmbeddings {
  /** Item id of each row. */
  itemIds: Int32Array;
  /** `itemIds.length x dimension`, float32. */
  vectors: Matrix;
}

/** What {@link textEmbeddings} returns. */
export interface TextEmbeddings extends ItemEmbeddings {
  /** Number of distinct TF-IDF words. */
  vocabularySize: number;
  /** Singular values of the TF-IDF matrix kept by the SVD. */
  singularValues: Float64Array;
}

/** The document of one record: the chosen fields, HTML entities unescaped, joined by spaces. */
export function itemDocument(record: ItemRecord, fields: readonly string[]): string {
  const parts: string[] = [];
  for (const field of fields) {
    if (field === 'title') parts.push(record.title ?? '');
    else if (field === 'categories') parts.push((record.categories ?? []).map((path) => path.join(' ')).join(' '));
    else {
      const value = record.fields[field];
      if (typeof value === 'string') parts.push(value);
      else if (Array.isArray(value)) parts.push(value.flat(3).filter((part): part is string => typeof part === 'string').join(' '));
    }
  }
  return unescapeHtml(parts.join(' '));
}

/**
 * The catalogue fields a text encoder should read when the caller names none: `fields` (a model's
 * default, e.g. `['title']`) when any record has text in one of them, else `['attributes']` when
 * records carry attribute ids (`@genrec/data`'s `attributeCatalog`: data without titles, such as
 * Amazon Sports), else `fields` ({@link textEmbeddings} then rejects them: `INVALID_INPUT`, no word to
 * embed). "Text" here is any non-blank value; TF-IDF keeps only words of two or more letters or digits.
 * `@genrec/model-tiger` (`textFields`) and `@genrec/model-setrec` (`contentFields`) resolve their
 * defaults through it.
 *
 * @param catalog - the fit data's catalogue, if any
 * @param fields - the default fields
 * @returns the fields to embed (a new array)
 * @example
 * ```ts
 * defaultTextFields(attributeCatalog(sportsAttributes), ['title', 'categories']); // ['attributes']
 * defaultTextFields(toysCatalog, ['title']); // ['title']
 * ```
 */
export function defaultTextFields(catalog: ItemCatalog | undefined, fields: readonly string[]): string[] {
  const records = catalog?.records ?? [];
  const hasField = (field: string) => records.some((record) => record !== undefined && itemDocument(record, [field]).trim() !== '');
  if (fields.some(hasField) || !hasField('attributes')) return [...fields];
  return ['attributes'];
}

/**
 * Built-in text encoder that needs no download: TF-IDF over the chosen fields (scikit-learn's
 * defaults: lowercase, token pattern `(?u)\b\w\w+\b`, smooth idf, L2 rows; HTML entities
 * unescaped), then a randomised truncated SVD to `dimension` dimensions (`U·S`, as scikit-learn's
 * `TruncatedSVD.fit_transform`), rows L2-normalised (a row without any word stays 0). Items are
 * in id order. Deterministic for a seed.
 *
 * @throws GenrecError `INVALID_INPUT` when the catalogue has no items or its fields hold no word,
 * `INVALID_OPTION` when the dimension exceeds the items or the vocabulary.
 * @example
 * ```ts
 * const { itemIds, vectors } = textEmbeddings(catalog, { dimension: 128 });
 * ```
 */
export function textEmbeddings(catalog: ItemCatalog | readonly ItemRecord[], options: TextEmbeddingOptions = {}): TextEmbeddings {
  const records = (Array.isArray(catalog) ? (catalog as readonly ItemRecord[]) : (catalog as ItemCatalog).records).filter(
    (record): record is ItemRecord => record !== undefined,
  );
  const sorted = [...records].sort((a, b) => a.id - b.id);
  if (sorted.length === 0) throw new GenrecError('INVALID_INPUT', 'text embeddings need at least one item');
  const fields = options.fields ?? ['title'];
  const progress = progressReporter(options.onProgress, 'text-embeddings', { total: 3, unit: 'stages' });
  progress.start();
  const { matrix, model } = tfidf(sorted.map((record) => itemDocument(record, fields)));
  progress.update(1, { message: 'tf-idf', metrics: { items: matrix.rows, vocabulary: matrix.cols } });
  if (matrix.cols === 0) {
    throw new GenrecError('INVALID_INPUT', `the fields [${fields.join(', ')}] of the ${matrix.rows} records hold no word to embed (TF-IDF reads words of 2+ letters or digits)`, {
      details: { field: 'fields' },
    });
  }
  const dimension = options.dimension ?? 128;
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > Math.min(matrix.rows, matrix.cols)) {
    throw new GenrecError(
      'INVALID_OPTION',
      `dimension must be an integer in 1..${Math.min(matrix.rows, matrix.cols)} (items ${matrix.rows}, vocabulary ${matrix.cols}), got ${dimension}`,
      { details: { field: 'dimension' } },
    );
  }
  const svd = randomizedSvd(matrix, {
    rank: dimension,
    oversamples: options.oversamples ?? 10,
    powerIterations: options.powerIterations ?? 5,
    seed: options.seed ?? 0,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  progress.update(2, { message: 'svd' });
  const vectors = createMatrix(matrix.rows, dimension);
  for (let r = 0; r < matrix.rows; r++) {
    for (let c = 0; c < dimension; c++) vectors.data[r * dimension + c] = svd.u[r * dimension + c]! * svd.singularValues[c]!;
  }
  normalizeRows(vectors);
  progress.end(3);
  return { itemIds: Int32Array.from(sorted, (record) => record.id), vectors, vocabularySize: model.vocabulary.length, singularValues: svd.singularValues };
}
