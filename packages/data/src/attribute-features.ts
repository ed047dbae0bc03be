import { checkBooleanOption, checkKnownOptions, GenrecError, type ItemCatalog, type ItemRecord } from '@genrec/core';
import type { ItemAttributes } from './item-attributes.js';

/** Options of {@link attributeCatalog}. */
export interface AttributeCatalogOptions {
  /**
   * Prefix of each attribute token: attribute 17 becomes `a17`. Letters, digits and `_` only,
   * starting with a letter or `_`, so that a word tokenizer (`@genrec/semantic-id`'s, scikit-learn's
   * `\w\w+`) keeps each token whole.
   *
   * @defaultValue `'a'`
   */
  prefix?: string;
  /** Name of the record field (in `record.fields`) that receives the tokens. @defaultValue `'attributes'` */
  field?: string;
  /**
   * A catalogue to extend (e.g. Toys' titles): its records are copied with the attribute field
   * added; items it lacks get a new record.
   */
  base?: ItemCatalog;
}

const ATTRIBUTE_CATALOG_OPTIONS = ['prefix', 'field', 'base'] as const;

/**
 * Turns attribute ids into item text, so that text encoders that read item records (such as
 * `@genrec/semantic-id`'s `textEmbeddings`, TF-IDF + SVD) use them as words: every item
 * `1..itemCount` gets a record whose `fields[field]` is its attribute ids as space-separated
 * tokens in file order, repeats kept (`'a17 a2 a33'`; `''` for an item without attributes).
 * With `base`, its records (title, categories, fields) are copied and the field added.
 *
 * Use: `textEmbeddings(attributeCatalog(sports), { fields: ['attributes'] })` for Sports, which
 * has no titles; `textEmbeddings(attributeCatalog(toys, { base: toysCatalog }), { fields:
 * ['title', 'attributes'] })` for titles and attributes together.
 *
 * @param attributes - what {@link readItemAttributes} returned.
 * @param options - see {@link AttributeCatalogOptions}.
 * @returns a catalogue of `max(attributes.itemCount, base.itemCount)` items, a record for every id.
 * @throws GenrecError `INVALID_OPTION` for an unknown option, a prefix a tokenizer would split,
 *   an empty field name or one of the reserved names `id`, `title`, `categories`.
 * @example
 * ```ts
 * const catalog = attributeCatalog(await readItemAttributes('shared/data/amazon2014-sports/items.tsv'));
 * catalog.records[1]?.fields.attributes; // 'a1 a2 a3 a4 a5 a6'
 * ```
 */
export function attributeCatalog(attributes: ItemAttributes, options: AttributeCatalogOptions = {}): ItemCatalog {
  checkKnownOptions(options, ATTRIBUTE_CATALOG_OPTIONS, 'attributeCatalog');
  const prefix = options.prefix ?? 'a';
  if (typeof prefix !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) {
    throw new GenrecError('INVALID_OPTION', `prefix must be letters, digits or "_" starting with a letter or "_", got ${JSON.stringify(prefix)}`, {
      details: { field: 'prefix' },
    });
  }
  const field = options.field ?? 'attributes';
  if (typeof field !== 'string' || field === '' || field === 'id' || field === 'title' || field === 'categories') {
    throw new GenrecError('INVALID_OPTION', `field must be a non-empty name other than id, title and categories, got ${JSON.stringify(field)}`, {
      details: { field: 'field' },
    });
  }
  const base = options.base;
  const itemCount = Math.max(attributes.itemCount, base?.itemCount ?? 0);
  const records: (ItemRecord | undefined)[] = [undefined];
  const { offsets, values } = attributes;
  for (let item = 1; item <= itemCount; item++) {
    let text = '';
    if (item <= attributes.itemCount) {
      for (let p = offsets[item]!; p < offsets[item + 1]!; p++) text += (p === offsets[item] ? '' : ' ') + prefix + values[p]!;
    }
    const existing = base?.records[item];
    const fields: Record<string, unknown> = {};
    if (existing) for (const key of Object.keys(existing.fields)) defineField(fields, key, existing.fields[key]);
    defineField(fields, field, text);
    const record: { -readonly [K in keyof ItemRecord]: ItemRecord[K] } = { id: item, fields };
    if (existing?.title !== undefined) record.title = existing.title;
    if (existing?.categories !== undefined) record.categories = existing.categories;
    records.push(record);
  }
  return { itemCount, records };
}

/** Sets a field by definition, so that a key such as `__proto__` stays an ordinary field. */
function defineField(fields: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A sparse matrix in compressed-row form, the same shape as `@genrec/semantic-id`'s
 * `SparseMatrix`: row `r` holds columns `indices[indptr[r] .. indptr[r+1])` (ascending) with
 * `values` at the same positions.
 */
export interface AttributeMatrix {
  /** Number of rows: items `1..itemCount` (row `r` = item `r + 1`). */
  readonly rows: number;
  /** Number of columns: attributes `1..attributeCount` (column `c` = attribute `c + 1`). */
  readonly cols: number;
  /** Row offsets, length `rows + 1`. */
  readonly indptr: Int32Array;
  /** Column of each stored value, ascending within a row. */
  readonly indices: Int32Array;
  /** Stored values (float64): occurrence counts, or 1 with `binary`. */
  readonly values: Float64Array;
}

/** Options of {@link attributeCountMatrix}. */
export interface AttributeCountMatrixOptions {
  /** Store 1 for every attribute an item has, instead of how often its list names it. @defaultValue `false` */
  binary?: boolean;
}

/**
 * The item x attribute count matrix: entry (item `i`, attribute `a`) = how often item `i`'s list
 * names `a` (or 1 with `binary`), rows = items `1..itemCount` (row `r` = item `r + 1`), columns =
 * attributes `1..attributeCount` (column `c` = attribute `c + 1`), columns ascending within a row,
 * items without attributes as empty rows. It has the shape of `@genrec/semantic-id`'s
 * `SparseMatrix` (it passes its `checkSparseMatrix`), for term weighting (TF-IDF) or an SVD
 * without going through text.
 *
 * @param attributes - what {@link readItemAttributes} returned.
 * @param options - see {@link AttributeCountMatrixOptions}.
 * @returns the count matrix.
 * @throws GenrecError `INVALID_OPTION` for an unknown or invalid option.
 * @example
 * ```ts
 * const counts = attributeCountMatrix(sports); // 18,357 x 2,277
 * ```
 */
export function attributeCountMatrix(attributes: ItemAttributes, options: AttributeCountMatrixOptions = {}): AttributeMatrix {
  checkKnownOptions(options, ['binary'], 'attributeCountMatrix');
  const binary = checkBooleanOption(options.binary ?? false, 'binary');
  const { itemCount, attributeCount, offsets, values } = attributes;
  const indptr = new Int32Array(itemCount + 1);
  const indices: number[] = [];
  const counts: number[] = [];
  const sorted: number[] = [];
  for (let item = 1; item <= itemCount; item++) {
    sorted.length = 0;
    for (let p = offsets[item]!; p < offsets[item + 1]!; p++) sorted.push(values[p]!);
    sorted.sort((a, b) => a - b);
    for (let i = 0; i < sorted.length; i++) {
      const column = sorted[i]! - 1;
      if (i > 0 && sorted[i] === sorted[i - 1]) {
        if (!binary) counts[counts.length - 1] = counts[counts.length - 1]! + 1;
        continue;
      }
      indices.push(column);
      counts.push(1);
    }
    indptr[item] = indices.length;
  }
  return { rows: itemCount, cols: attributeCount, indptr, indices: Int32Array.from(indices), values: Float64Array.from(counts) };
}
