import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTensor, GenrecError, Rng, writeNpy, writeSafetensors, type ItemCatalog, type ItemRecord, type ProgressEvent, type SequenceDataset } from '@genrec/core';
import { afterAll, describe, expect, it } from 'vitest';
import { collaborativeEmbeddings } from './collaborative-encoder.js';
import { alignEmbeddings, loadEmbeddings } from './embedding-source.js';
import { orthonormalizeColumns, randomizedSvd, symmetricEigen } from './randomized-svd.js';
import type { SparseMatrix } from './sparse-matrix.js';
import { applyTfidf, tfidf, tokenize, unescapeHtml } from './tfidf.js';
import { defaultTextFields, textEmbeddings } from './text-encoder.js';

const scratch = mkdtempSync(join(tmpdir(), 'genrec-embeddings-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const hasCode = (code: string) => (error: unknown) => GenrecError.isInstance(error) && error.code === code;

function denseToSparse(rows: number, cols: number, dense: Float64Array): SparseMatrix {
  const indptr = new Int32Array(rows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (dense[r * cols + c] !== 0) {
        indices.push(c);
        values.push(dense[r * cols + c]!);
      }
    }
    indptr[r + 1] = indices.length;
  }
  return { rows, cols, indptr, indices: Int32Array.from(indices), values: Float64Array.from(values) };
}

describe('tokenize and unescapeHtml', () => {
  it('splits like scikit-learn (?u)\\b\\w\\w+\\b on lowercased text', () => {
    expect(tokenize("LEGO Star-Wars 75000: a X_wing, Café's 3D")).toEqual(['lego', 'star', 'wars', '75000', 'x_wing', 'café', '3d']);
  });
  it('unescapes named, numeric and Windows-1252 references', () => {
    expect(unescapeHtml('Tom &amp; Jerry&reg; &#39;x&#x27; &eacute;t&eacute; a&#151;b &bogus; &uml;')).toBe("Tom & Jerry\u00ae 'x' \u00e9t\u00e9 a\u2014b &bogus; \u00a8");
  });
});

describe('tfidf', () => {
  it('matches hand-computed smooth-idf, L2-normalised weights', () => {
    const { matrix, model } = tfidf(['red ball ball', 'blue ball', 'x']);
    expect(model.vocabulary).toEqual(['ball', 'blue', 'red']);
    const idfBall = Math.log(4 / 3) + 1;
    const idfRare = Math.log(4 / 2) + 1;
    expect(Array.from(model.idf)).toEqual([idfBall, idfRare, idfRare].map((v) => expect.closeTo(v, 12)));
    const norm0 = Math.hypot(2 * idfBall, idfRare);
    expect(Array.from(matrix.indices.subarray(0, 2))).toEqual([0, 2]);
    expect(matrix.values[0]).toBeCloseTo((2 * idfBall) / norm0, 12);
    expect(matrix.values[1]).toBeCloseTo(idfRare / norm0, 12);
    // 'x' has no token of two characters: an empty row.
    expect(matrix.indptr[3]! - matrix.indptr[2]!).toBe(0);
    const applied = applyTfidf(model, ['ball green']);
    expect(Array.from(applied.indices)).toEqual([0]);
    expect(applied.values[0]).toBeCloseTo(1, 12);
  });
});

describe('linear algebra', () => {
  it('symmetricEigen satisfies A v = λ v', () => {
    const rng = new Rng(3);
    const size = 7;
    const a = new Float64Array(size * size);
    for (let i = 0; i < size; i++) for (let j = i; j < size; j++) a[i * size + j] = a[j * size + i] = rng.normal();
    const { values, vectors } = symmetricEigen(a, size);
    for (let k = 0; k < size; k++) {
      for (let i = 0; i < size; i++) {
        let av = 0;
        for (let j = 0; j < size; j++) av += a[i * size + j]! * vectors[j * size + k]!;
        expect(av).toBeCloseTo(values[k]! * vectors[i * size + k]!, 9);
      }
    }
  });

  it('orthonormalizeColumns gives orthonormal columns', () => {
    const rng = new Rng(4);
    const m = Float64Array.from({ length: 50 * 6 }, () => rng.normal());
    orthonormalizeColumns(m, 50, 6);
    for (let p = 0; p < 6; p++) {
      for (let q = 0; q < 6; q++) {
        let dot = 0;
        for (let r = 0; r < 50; r++) dot += m[r * 6 + p]! * m[r * 6 + q]!;
        expect(dot).toBeCloseTo(p === q ? 1 : 0, 10);
      }
    }
  });

  it('randomizedSvd recovers a planted low-rank matrix exactly', () => {
    const rng = new Rng(5);
    const rows = 40;
    const cols = 30;
    const sigmas = [9, 5, 2, 1];
    const left = Float64Array.from({ length: rows * 4 }, () => rng.normal());
    const right = Float64Array.from({ length: cols * 4 }, () => rng.normal());
    orthonormalizeColumns(left, rows, 4);
    orthonormalizeColumns(right, cols, 4);
    const dense = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) for (let k = 0; k < 4; k++) dense[r * cols + c] = dense[r * cols + c]! + sigmas[k]! * left[r * 4 + k]! * right[c * 4 + k]!;
    const svd = randomizedSvd(denseToSparse(rows, cols, dense), { rank: 3, seed: 1 });
    expect(Array.from(svd.singularValues)).toEqual([9, 5, 2].map((v) => expect.closeTo(v, 9)));
    // Columns match the planted singular vectors up to sign.
    for (let k = 0; k < 3; k++) {
      let dot = 0;
      for (let r = 0; r < rows; r++) dot += svd.u[r * 3 + k]! * left[r * 4 + k]!;
      expect(Math.abs(dot)).toBeCloseTo(1, 9);
    }
    expect(() => randomizedSvd(denseToSparse(rows, cols, dense), { rank: 31 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

describe('textEmbeddings', () => {
  const records: ItemRecord[] = [
    { id: 3, title: 'red wooden train set', fields: {} },
    { id: 1, title: 'wooden train tracks', categories: [['Toys', 'Trains']], fields: { brand: 'Brio' } },
    { id: 2, title: 'plush teddy bear', fields: {} },
    { id: 4, title: 'teddy bear &amp; friends', fields: {} },
    { id: 5, title: '!', fields: {} },
  ];
  it('keeps TF-IDF cosines at full rank, gives unit rows in id order and a zero row for an empty title, deterministic by seed', () => {
    // 4 non-empty documents: rank 4 keeps every inner product of the TF-IDF rows.
    const a = textEmbeddings(records, { dimension: 4, seed: 2 });
    expect(Array.from(a.itemIds)).toEqual([1, 2, 3, 4, 5]);
    const { matrix } = tfidf(['wooden train tracks', 'plush teddy bear', 'red wooden train set', 'teddy bear & friends', '!']);
    const sparseRow = (r: number) => {
      const out = new Map<number, number>();
      for (let p = matrix.indptr[r]!; p < matrix.indptr[r + 1]!; p++) out.set(matrix.indices[p]!, matrix.values[p]!);
      return out;
    };
    const row = (i: number) => Array.from(a.vectors.data.subarray(i * 4, i * 4 + 4));
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let expected = 0;
        for (const [column, value] of sparseRow(i)) expected += value * (sparseRow(j).get(column) ?? 0);
        const found = row(i).reduce((sum, v, t) => sum + v * row(j)[t]!, 0);
        expect(found).toBeCloseTo(expected, 5);
      }
    }
    expect(row(4).map(Math.abs)).toEqual([0, 0, 0, 0]);
    expect(Array.from(textEmbeddings(records, { dimension: 4, seed: 2 }).vectors.data)).toEqual(Array.from(a.vectors.data));
    expect(textEmbeddings(records, { dimension: 3, fields: ['title', 'categories', 'brand'] }).vocabularySize).toBe(a.vocabularySize + 3);
    expect(() => textEmbeddings(records, { dimension: 50 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  it('reports progress through onProgress: 3 stages, and one SVD pass per power iteration; the result does not change (issue 11)', () => {
    const events: ProgressEvent[] = [];
    const withProgress = textEmbeddings(records, { dimension: 4, seed: 2, powerIterations: 3, onProgress: (event) => events.push(event) });
    const without = textEmbeddings(records, { dimension: 4, seed: 2, powerIterations: 3 });
    expect(Array.from(withProgress.vectors.data)).toEqual(Array.from(without.vectors.data));
    const summary = events.map((event) => (event.type.startsWith('task-') ? `${(event as { task: string }).task}:${event.type.slice(5)}:${(event as { done: number }).done}` : event.type));
    expect(summary).toEqual([
      'text-embeddings:start:0',
      'text-embeddings:progress:1',
      'randomized-svd:start:0',
      'randomized-svd:progress:1',
      'randomized-svd:progress:2',
      'randomized-svd:progress:3',
      'randomized-svd:progress:4',
      'randomized-svd:end:5',
      'text-embeddings:progress:2',
      'text-embeddings:end:3',
    ]);
    expect(events.every((event) => event.type !== 'task-progress' || event.total === (event.task === 'text-embeddings' ? 3 : 5))).toBe(true);
    expect(events[1]).toMatchObject({ metrics: { items: 5, vocabulary: withProgress.vocabularySize } });
  });

  it('rejects fields that hold no word (INVALID_INPUT naming the fields), not a dimension out of 1..0', () => {
    expect(() => textEmbeddings(records, { dimension: 2, fields: ['attributes'] })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/fields \[attributes\] of the 5 records hold no word/) as unknown }),
    );
  });
});

describe('defaultTextFields', () => {
  const catalog = (records: ItemRecord[]): ItemCatalog => ({ itemCount: records.length, records: [undefined, ...records] });
  const titled = catalog([
    { id: 1, title: 'wooden train', fields: { attributes: 'a1 a2' } },
    { id: 2, fields: {} },
  ]);
  const attributesOnly = catalog([
    { id: 1, fields: { attributes: 'a1 a2' } },
    { id: 2, title: '  ', fields: { attributes: '' } },
  ]);
  const bare = catalog([{ id: 1, fields: {} }]);
  it('keeps the given fields when one record has text in one of them', () => {
    expect(defaultTextFields(titled, ['title'])).toEqual(['title']);
    expect(defaultTextFields(titled, ['categories', 'title'])).toEqual(['categories', 'title']);
  });
  it('takes the attribute ids of a catalogue without such text (Sports), blank titles included', () => {
    expect(defaultTextFields(attributesOnly, ['title', 'categories'])).toEqual(['attributes']);
    expect(textEmbeddings(attributesOnly, { dimension: 1, fields: defaultTextFields(attributesOnly, ['title']) }).vocabularySize).toBe(2);
  });
  it('keeps the given fields when there are no attribute ids either, or no catalogue, and returns a new array', () => {
    const fields = ['title'];
    expect(defaultTextFields(bare, fields)).toEqual(['title']);
    expect(defaultTextFields(undefined, fields)).not.toBe(fields);
  });
});

describe('collaborativeEmbeddings', () => {
  it('places items that co-occur in sequences close together', () => {
    // Items 1-3 always appear together, items 4-6 together, never across groups.
    const sequences = [
      [1, 2, 3, 1, 2],
      [3, 2, 1],
      [4, 5, 6, 4],
      [6, 5, 4, 5],
      [2, 3, 1, 3],
      [5, 6, 4],
    ];
    const offsets = new Int32Array(sequences.length + 1);
    sequences.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length));
    const dataset: SequenceDataset = {
      name: 'toy',
      userCount: sequences.length,
      itemCount: 6,
      offsets,
      items: Int32Array.from(sequences.flat()),
      userIds: Int32Array.from(sequences, (_, i) => i + 1),
    };
    const { itemIds, vectors } = collaborativeEmbeddings(dataset, { dimension: 2, window: 2, seed: 1 });
    expect(Array.from(itemIds)).toEqual([1, 2, 3, 4, 5, 6]);
    const dot = (a: number, b: number) => vectors.data[a * 2]! * vectors.data[b * 2]! + vectors.data[a * 2 + 1]! * vectors.data[b * 2 + 1]!;
    expect(dot(0, 1)).toBeGreaterThan(0.9);
    expect(dot(3, 5)).toBeGreaterThan(0.9);
    expect(Math.abs(dot(0, 4))).toBeLessThan(0.1);
    expect(() => collaborativeEmbeddings(dataset, { window: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

describe('loadEmbeddings', () => {
  const vectors = Float32Array.from([1, 2, 3, 4, 5, 6]);
  it('reads .npy, safetensors (with ids) and JSONL, and aligns to an id order', async () => {
    writeNpy(join(scratch, 'e.npy'), createTensor(vectors, [3, 2]));
    const npy = await loadEmbeddings(join(scratch, 'e.npy'), { dimension: 2, requiredItemIds: [1, 3] });
    expect(Array.from(npy.itemIds)).toEqual([1, 2, 3]);
    writeSafetensors(join(scratch, 'e.safetensors'), { embeddings: createTensor(vectors, [3, 2]), ids: createTensor(Int32Array.from([30, 10, 20]), [3]) });
    const st = await loadEmbeddings(join(scratch, 'e.safetensors'));
    expect(Array.from(st.itemIds)).toEqual([30, 10, 20]);
    expect(Array.from(alignEmbeddings(st, [10, 30]).data)).toEqual([3, 4, 1, 2]);
    writeFileSync(join(scratch, 'e.jsonl'), '{"id": 7, "vector": [1, 2]}\n\n{"id": 9, "vector": [3.5, 4]}\n');
    const jsonl = await loadEmbeddings(join(scratch, 'e.jsonl'));
    expect(Array.from(jsonl.itemIds)).toEqual([7, 9]);
    expect(Array.from(jsonl.vectors.data)).toEqual([1, 2, 3.5, 4]);
    expect(() => alignEmbeddings(jsonl, [8])).toThrow(expect.objectContaining({ code: 'UNKNOWN_ID' }));
    // lines longer than one read, no trailing newline, CRLF
    const long = Array.from({ length: 3 }, (_, i) => JSON.stringify({ id: i + 1, vector: Array.from({ length: 60_000 }, (_, c) => (c % 7) / 8) })).join('\r\n');
    writeFileSync(join(scratch, 'long.jsonl'), long);
    const wide = await loadEmbeddings(join(scratch, 'long.jsonl'));
    expect(wide.vectors.rows).toBe(3);
    expect(wide.vectors.cols).toBe(60_000);
    expect(wide.vectors.data[60_000 + 13]).toBe(6 / 8);
  });

  it('reports bad files with a GenrecError naming the problem', async () => {
    writeNpy(join(scratch, 'd.npy'), createTensor(vectors, [3, 2]));
    await expect(loadEmbeddings(join(scratch, 'd.npy'), { dimension: 3 })).rejects.toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    await expect(loadEmbeddings(join(scratch, 'd.npy'), { requiredItemIds: [1, 4] })).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    writeFileSync(join(scratch, 'bad.jsonl'), '{"id": 1, "vector": [1, 2]}\n{"id": 2, "vector": [1]}\n');
    await expect(loadEmbeddings(join(scratch, 'bad.jsonl'))).rejects.toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH', details: expect.objectContaining({ line: 2 }) }));
    writeFileSync(join(scratch, 'broken.jsonl'), '{"id": 1, "vector": [1, 2]}\n{"id": 2, "vector": [1, \n');
    await expect(loadEmbeddings(join(scratch, 'broken.jsonl'))).rejects.toThrow(expect.objectContaining({ code: 'PARSE_ERROR', details: expect.objectContaining({ line: 2 }) }));
    writeFileSync(join(scratch, 'dup.jsonl'), '{"id": 1, "vector": [1, 2]}\n{"id": 1, "vector": [3, 4]}\n');
    await expect(loadEmbeddings(join(scratch, 'dup.jsonl'))).rejects.toThrow(expect.objectContaining({ code: 'DUPLICATE_ID' }));
    writeNpy(join(scratch, 'nan.npy'), createTensor(Float32Array.from([1, Number.NaN]), [1, 2]));
    await expect(loadEmbeddings(join(scratch, 'nan.npy'))).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    await expect(loadEmbeddings(join(scratch, 'missing.npy'))).rejects.toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    await expect(loadEmbeddings(join(scratch, 'missing.jsonl'))).rejects.toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    await expect(loadEmbeddings(join(scratch, 'x.csv'))).rejects.toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(hasCode('X')(new Error('no'))).toBe(false);
  });

  it('ids above 2^31 never wrap (2^53 is not item 0), and 1e39 is not a float32 (issue 11)', async () => {
    for (const [name, text, line] of [
      ['id-2-53.jsonl', '{"id": 1, "vector": [1, 2]}\n{"id": 9007199254740992, "vector": [1, 2]}\n', 2],
      ['id-2-31.jsonl', '{"id": 2147483648, "vector": [1, 2]}\n', 1],
      ['id-negative.jsonl', '{"id": -3, "vector": [1, 2]}\n', 1],
      ['not-object.jsonl', '[1, 2]\n', 1],
      ['empty-vector.jsonl', '{"id": 1, "vector": []}\n', 1],
    ] as const) {
      writeFileSync(join(scratch, name), text);
      await expect(loadEmbeddings(join(scratch, name))).rejects.toThrow(expect.objectContaining({ code: 'PARSE_ERROR', details: expect.objectContaining({ line }) }));
    }
    writeFileSync(join(scratch, 'overflow.jsonl'), '{"id": 1, "vector": [1e39, 2]}\n');
    await expect(loadEmbeddings(join(scratch, 'overflow.jsonl'))).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    writeSafetensors(join(scratch, 'big-ids.safetensors'), { embeddings: createTensor(vectors, [3, 2]), ids: createTensor(BigInt64Array.from([1n, 2n ** 53n, 3n]), [3]) });
    await expect(loadEmbeddings(join(scratch, 'big-ids.safetensors'))).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    writeSafetensors(join(scratch, 'wrapping-ids.safetensors'), { embeddings: createTensor(vectors, [3, 2]), ids: createTensor(BigInt64Array.from([1n, 2n ** 32n + 2n, 3n]), [3]) });
    await expect(loadEmbeddings(join(scratch, 'wrapping-ids.safetensors'))).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    writeNpy(join(scratch, 'ids.npy'), createTensor(vectors, [3, 2]));
    await expect(loadEmbeddings({ format: 'npy', path: join(scratch, 'ids.npy'), itemIds: [1, 2 ** 53, 3] })).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('a line longer than maxLineBytes is a PARSE_ERROR "line too long" with file and line, inside the promise', async () => {
    writeFileSync(join(scratch, 'long-line.jsonl'), `{"id": 1, "vector": [1, 2]}\n{"id": 2, "vector": [${'1, '.repeat(400_000)}1]}\n`);
    const rejection = loadEmbeddings({ format: 'jsonl', path: join(scratch, 'long-line.jsonl'), maxLineBytes: 1 << 20 });
    await expect(rejection).rejects.toThrow(expect.objectContaining({ code: 'PARSE_ERROR', message: expect.stringContaining('line too long'), details: expect.objectContaining({ line: 2, file: join(scratch, 'long-line.jsonl') }) }));
    // with room for the line, it is read (and then refused for its 400,001 values)
    await expect(loadEmbeddings({ format: 'jsonl', path: join(scratch, 'long-line.jsonl'), maxLineBytes: 2 << 20 })).rejects.toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH', details: expect.objectContaining({ line: 2 }) }));
  });
});
