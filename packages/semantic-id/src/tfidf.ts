import type { SparseMatrix } from './sparse-matrix.js';

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', reg: '\u00ae', trade: '\u2122', copy: '\u00a9',
  eacute: '\u00e9', egrave: '\u00e8', ecirc: '\u00ea', euml: '\u00eb', aacute: '\u00e1', agrave: '\u00e0', acirc: '\u00e2',
  auml: '\u00e4', aring: '\u00e5', atilde: '\u00e3', iacute: '\u00ed', igrave: '\u00ec', icirc: '\u00ee', iuml: '\u00ef',
  oacute: '\u00f3', ograve: '\u00f2', ocirc: '\u00f4', ouml: '\u00f6', otilde: '\u00f5', oslash: '\u00f8', uacute: '\u00fa',
  ugrave: '\u00f9', ucirc: '\u00fb', uuml: '\u00fc', ntilde: '\u00f1', ccedil: '\u00e7', szlig: '\u00df', Eacute: '\u00c9',
  Aacute: '\u00c1', Ouml: '\u00d6', Uuml: '\u00dc', Auml: '\u00c4', Ntilde: '\u00d1', deg: '\u00b0', frac12: '\u00bd',
  frac14: '\u00bc', frac34: '\u00be', times: '\u00d7', hellip: '\u2026', mdash: '\u2014', ndash: '\u2013', lsquo: '\u2018',
  rsquo: '\u2019', ldquo: '\u201c', rdquo: '\u201d', bull: '\u2022', middot: '\u00b7', euro: '\u20ac', pound: '\u00a3',
  cent: '\u00a2', yen: '\u00a5', sup2: '\u00b2', sup3: '\u00b3', micro: '\u00b5', para: '\u00b6', sect: '\u00a7',
  uml: '\u00a8', macr: '\u00af', acute: '\u00b4', cedil: '\u00b8', ordf: '\u00aa', ordm: '\u00ba', laquo: '\u00ab',
  raquo: '\u00bb', iexcl: '\u00a1', iquest: '\u00bf', shy: '\u00ad', not: '\u00ac', plusmn: '\u00b1', divide: '\u00f7',
  sup1: '\u00b9', curren: '\u00a4', brvbar: '\u00a6', dagger: '\u2020', permil: '\u2030', prime: '\u2032', larr: '\u2190',
  rarr: '\u2192', hearts: '\u2665', star: '\u2606', check: '\u2713',
};

/** Python's `html.unescape` maps these numeric references (Windows-1252 bytes) to other characters. */
const WINDOWS_1252: Readonly<Record<number, string>> = {
  0x80: '\u20ac', 0x82: '\u201a', 0x83: '\u0192', 0x84: '\u201e', 0x85: '\u2026', 0x86: '\u2020', 0x87: '\u2021', 0x88: '\u02c6',
  0x89: '\u2030', 0x8a: '\u0160', 0x8b: '\u2039', 0x8c: '\u0152', 0x8e: '\u017d', 0x91: '\u2018', 0x92: '\u2019', 0x93: '\u201c',
  0x94: '\u201d', 0x95: '\u2022', 0x96: '\u2013', 0x97: '\u2014', 0x98: '\u02dc', 0x99: '\u2122', 0x9a: '\u0161', 0x9b: '\u203a',
  0x9c: '\u0153', 0x9e: '\u017e', 0x9f: '\u0178',
};

const LEGACY_WITHOUT_SEMICOLON = new Set(['amp', 'lt', 'gt', 'quot', 'nbsp', 'copy', 'reg']);

/**
 * Replaces HTML character references (`&amp;`, `&#39;`, `&#x27;` and the common named entities)
 * by their characters, as Python's `html.unescape` does for these; unknown names stay as written.
 */
export function unescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
      return WINDOWS_1252[code] ?? String.fromCodePoint(code);
    }
    const named = NAMED_ENTITIES[body];
    if (named === undefined) return whole;
    // Without the semicolon only the legacy entities are decoded.
    return whole.endsWith(';') || LEGACY_WITHOUT_SEMICOLON.has(body) ? named : whole;
  });
}

const WORD = /[\p{L}\p{N}_]+/gu;

/**
 * Tokens as scikit-learn's default `TfidfVectorizer` finds them: lowercased text, token pattern
 * `(?u)\b\w\w+\b` (runs of two or more letters, digits or underscores).
 *
 * @example
 * ```ts
 * tokenize('LEGO Star Wars 75000 - a X-wing'); // ['lego', 'star', 'wars', '75000', 'wing']
 * ```
 */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const match of text.toLowerCase().matchAll(WORD)) {
    const token = match[0];
    // Count code points, not UTF-16 units (a single astral letter is one character).
    if (token.length >= 2 && (token.length > 2 || [...token].length >= 2)) out.push(token);
  }
  return out;
}

/** A fitted TF-IDF model (vocabulary and idf weights). */
export interface TfidfModel {
  /** Vocabulary in column order (sorted, as scikit-learn). */
  vocabulary: string[];
  /** `ln((1 + documents) / (1 + df)) + 1` per column (smooth idf). */
  idf: Float64Array;
}

/**
 * TF-IDF of documents as scikit-learn's `TfidfVectorizer()` defaults compute it: raw term counts
 * times smooth idf, rows L2-normalised (an empty row stays 0). Columns are the sorted vocabulary.
 *
 * @example
 * ```ts
 * const { matrix, model } = tfidf(['red ball', 'blue ball']);
 * model.vocabulary; // ['ball', 'blue', 'red']
 * ```
 */
export function tfidf(documents: readonly string[]): { matrix: SparseMatrix; model: TfidfModel } {
  const tokenized = documents.map(tokenize);
  const documentFrequency = new Map<string, number>();
  for (const tokens of tokenized) for (const token of new Set(tokens)) documentFrequency.set(token, (documentFrequency.get(token) ?? 0) + 1);
  const vocabulary = [...documentFrequency.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const column = new Map(vocabulary.map((word, index) => [word, index]));
  const idf = new Float64Array(vocabulary.length);
  vocabulary.forEach((word, index) => (idf[index] = Math.log((1 + documents.length) / (1 + documentFrequency.get(word)!)) + 1));
  return { matrix: transformTfidf(tokenized, column, idf), model: { vocabulary, idf } };
}

/** TF-IDF rows of new documents under a fitted model (unknown words are dropped). */
export function applyTfidf(model: TfidfModel, documents: readonly string[]): SparseMatrix {
  const column = new Map(model.vocabulary.map((word, index) => [word, index]));
  return transformTfidf(documents.map(tokenize), column, model.idf);
}

function transformTfidf(tokenized: string[][], column: Map<string, number>, idf: Float64Array): SparseMatrix {
  const indptr = new Int32Array(tokenized.length + 1);
  const indices: number[] = [];
  const values: number[] = [];
  tokenized.forEach((tokens, row) => {
    const counts = new Map<number, number>();
    for (const token of tokens) {
      const index = column.get(token);
      if (index !== undefined) counts.set(index, (counts.get(index) ?? 0) + 1);
    }
    const entries = [...counts.entries()].sort((a, b) => a[0] - b[0]);
    let norm = 0;
    for (const [index, count] of entries) norm += (count * idf[index]!) ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (const [index, count] of entries) {
      indices.push(index);
      values.push(count * idf[index]! * scale);
    }
    indptr[row + 1] = indices.length;
  });
  return { rows: tokenized.length, cols: idf.length, indptr, indices: Int32Array.from(indices), values: Float64Array.from(values) };
}
