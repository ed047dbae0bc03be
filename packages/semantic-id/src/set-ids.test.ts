import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMatrix, createTensor, decodeNpy, encodeNpy, GenrecError, matrixFromArrays, Rng, type Matrix, type ProgressEvent } from '@genrec/core';
import { afterAll, describe, expect, it } from 'vitest';
import { fitProductQuantizer, procrustes } from './product-quantizer.js';
import { SetIds } from './set-ids.js';
import { gaussianMatrix, readArtifactFile, rewriteArtifactFile } from './test-helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'genrec-set-ids-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const hasCode = (code: string) => (error: unknown) => GenrecError.isInstance(error) && error.code === code;

/** Vectors whose every subspace takes one of `values` planted codewords. */
function plantedProductData(n: number, subspaces: number, width: number, codewords: number, seed: number): { vectors: Matrix; codes: Int32Array } {
  const rng = new Rng(seed);
  const books = Array.from({ length: subspaces }, (_, s) => gaussianMatrix(codewords, width, seed + 10 + s, 10));
  const vectors = createMatrix(n, subspaces * width);
  const codes = new Int32Array(n * subspaces);
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < subspaces; s++) {
      const code = i < codewords ? i : rng.int(codewords);
      codes[i * subspaces + s] = code;
      vectors.data.set(books[s]!.data.subarray(code * width, (code + 1) * width), i * subspaces * width + s * width);
    }
  }
  return { vectors, codes };
}

describe('product quantiser', () => {
  it('round-trips vectors built from planted codewords: encode(decode(codes)) = codes, zero error', async () => {
    const { vectors } = plantedProductData(300, 3, 4, 8, 1);
    const { quantizer, codes, relativeError } = await fitProductQuantizer(vectors, { subspaces: 3, codebookSize: 8, seed: 2, backend: 'js' });
    expect(relativeError).toBeLessThan(1e-10);
    const decoded = await quantizer.decode(codes, { backend: 'js' });
    for (let i = 0; i < vectors.data.length; i++) expect(decoded.data[i]).toBeCloseTo(vectors.data[i]!, 4);
    expect(Array.from(await quantizer.encode(decoded, { backend: 'js' }))).toEqual(Array.from(codes));
    expect(quantizer.offsets).toEqual([0, 4, 8, 12]);
  });

  it('OPQ learns an orthogonal rotation and does not quantise worse than plain PQ on correlated data', async () => {
    // Correlated dimensions: x = z M with a random mixing matrix, so subspaces are not independent.
    const z = gaussianMatrix(800, 8, 3);
    const mixing = gaussianMatrix(8, 8, 4);
    const x = createMatrix(800, 8);
    for (let i = 0; i < 800; i++) for (let c = 0; c < 8; c++) for (let t = 0; t < 8; t++) x.data[i * 8 + c] = x.data[i * 8 + c]! + z.data[i * 8 + t]! * mixing.data[t * 8 + c]! * (t < 2 ? 5 : 0.2);
    const plain = await fitProductQuantizer(x, { subspaces: 2, codebookSize: 16, seed: 1, backend: 'js' });
    const opq = await fitProductQuantizer(x, { subspaces: 2, codebookSize: 16, seed: 1, rotation: 'opq', opqIterations: 4, backend: 'js' });
    const r = opq.quantizer.rotation!;
    for (let p = 0; p < 8; p++) {
      for (let q = 0; q < 8; q++) {
        let dot = 0;
        for (let t = 0; t < 8; t++) dot += r.data[t * 8 + p]! * r.data[t * 8 + q]!;
        expect(dot).toBeCloseTo(p === q ? 1 : 0, 4);
      }
    }
    expect(opq.relativeError).toBeLessThan(plain.relativeError);
    // Round trip through the rotation: decode(encode) reconstructs the same as the training codes.
    const codes = await opq.quantizer.encode(x, { backend: 'js' });
    expect(Array.from(codes)).toEqual(Array.from(opq.codes));
  });

  it('procrustes gives the rotation that maps X onto X R for a known R', () => {
    const angle = 0.7;
    const rotation = matrixFromArrays([
      [Math.cos(angle), -Math.sin(angle), 0],
      [Math.sin(angle), Math.cos(angle), 0],
      [0, 0, 1],
    ]);
    // M = Xᵀ (X R) with X = I gives M = R: the polar factor of a rotation is itself.
    const found = procrustes(rotation);
    for (let i = 0; i < 9; i++) expect(found.data[i]).toBeCloseTo(rotation.data[i]!, 5);
  });

  it('rejects fewer vectors than codes and bad subspace counts', async () => {
    await expect(fitProductQuantizer(gaussianMatrix(10, 4, 1), { subspaces: 2, codebookSize: 16 })).rejects.toSatisfy(hasCode('INVALID_INPUT'));
    await expect(fitProductQuantizer(gaussianMatrix(40, 4, 1), { subspaces: 5, codebookSize: 4 })).rejects.toSatisfy(hasCode('INVALID_OPTION'));
  });
});

describe('SetIds', () => {
  it('continuous: flatten is the weighted concatenation and one inner product equals the per-slot score sum', () => {
    const cf = matrixFromArrays([
      [1, 0],
      [0, 2],
    ]);
    const semantic1 = matrixFromArrays([[1], [3]]);
    const semantic2 = matrixFromArrays([[-1], [1]]);
    const table = SetIds.continuous([10, 20], [cf, semantic1, semantic2], [0.5, 1, 2]);
    expect(table.variant).toBe('continuous');
    expect(table.slotDimensions).toEqual([2, 1, 1]);
    expect(Array.from(table.flatten().data)).toEqual([0.5, 0, 1, -2, 0, 1, 3, 2]);
    const queries = [[2, 1], [1], [0.5]];
    // item 10: 0.5*(2) + 1*1 + 2*(-0.5) = 1 ; item 20: 0.5*(2) + 3 + 2*0.5 = 5
    expect(Array.from(table.scores(queries))).toEqual([1, 5]);
    const flat = table.flatten();
    const concatenated = queries.flat();
    for (let i = 0; i < 2; i++) expect(concatenated.reduce((sum, q, c) => sum + q * flat.data[i * 4 + c]!, 0)).toBeCloseTo(table.scores(queries)[i]!, 12);
    expect(() => SetIds.continuous([1, 2, 3], [cf])).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => table.slotCodes(0)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });

  it('discrete: codes per slot, codewords as slot vectors, encodeVectors reproduces the codes, save/load round trip', async () => {
    const { vectors: semantic } = plantedProductData(200, 2, 3, 8, 5);
    const { vectors: cf } = plantedProductData(200, 1, 2, 8, 6);
    const ids = Int32Array.from({ length: 200 }, (_, i) => 1000 + i);
    const table = await SetIds.fitDiscrete(ids, semantic, cf, { semanticSlots: 2, codebookSize: 8, cfCodebookSize: 8, slotWeights: [0.3, 1, 1], backend: 'js' });
    expect(table.slotCount).toBe(3);
    expect(table.codebookSizes).toEqual([8, 8, 8]);
    expect(table.slotDimensions).toEqual([2, 3, 3]);
    // Planted data: codewords reproduce the vectors exactly.
    const slot1 = table.slotVectors(1);
    for (let i = 0; i < 200; i++) for (let c = 0; c < 3; c++) expect(slot1.data[i * 3 + c]).toBeCloseTo(semantic.data[i * 6 + c]!, 4);
    const codes = table.encode(ids);
    expect(Array.from(await table.encodeVectors(semantic, cf, { backend: 'js' }))).toEqual(Array.from(codes));
    expect(Array.from(table.slotCodes(0))).toEqual(Array.from(codes).filter((_, i) => i % 3 === 0));
    expect(table.itemsWithCodes(codes.subarray(0, 3))).toContain(1000);
    expect(() => table.encode([5])).toThrow(expect.objectContaining({ code: 'UNKNOWN_ID' }));

    const directory = join(scratch, 'discrete');
    await table.save(directory);
    const loaded = await SetIds.load(directory);
    expect(Array.from(loaded.encode(ids))).toEqual(Array.from(codes));
    expect(Array.from(loaded.flatten().data)).toEqual(Array.from(table.flatten().data));
    expect(Array.from(await loaded.encodeVectors(semantic, cf, { backend: 'js' }))).toEqual(Array.from(codes));
    const manifest = JSON.parse(new TextDecoder().decode(readArtifactFile(directory, 'manifest.json'))) as Record<string, unknown>;
    rewriteArtifactFile(directory, 'manifest.json', JSON.stringify({ ...manifest, itemCount: 199 }), false);
    await expect(SetIds.load(directory)).rejects.toThrow(expect.objectContaining({ code: 'CORRUPT_ARTIFACT' }));
    rewriteArtifactFile(directory, 'manifest.json', JSON.stringify({ ...manifest, formatVersion: 2 }));
    await expect(SetIds.load(directory)).rejects.toThrow(expect.objectContaining({ code: 'FORMAT_VERSION' }));
    for (const patch of [{ variant: 'other' }, { slotCount: 0 }, { slotDimensions: [2, 3] }, { subspaceOffsets: [0, 4, 6] }, { codebookSizes: [8, 8, -1] }, { hasRotation: 1 }]) {
      rewriteArtifactFile(directory, 'manifest.json', JSON.stringify({ ...manifest, ...patch }));
      await expect(SetIds.load(directory)).rejects.toThrow(expect.objectContaining({ code: 'CORRUPT_ARTIFACT' }));
    }
  });

  it('NaN or Infinity never loads into slot weights, slot vectors or codebooks (issue 11)', async () => {
    const continuous = SetIds.continuous([1, 2, 3], [gaussianMatrix(3, 4, 1), gaussianMatrix(3, 2, 2)], [1, 0.5]);
    const path = join(scratch, 'non-finite-continuous');
    await continuous.save(path);
    const slot = continuous.slotVectors(1);
    for (const [file, bytes] of [
      ['slot-weights.npy', encodeNpy(createTensor(Float32Array.from([1, Number.NaN]), [2]))],
      ['slot-1.npy', encodeNpy(createTensor(slot.data.map((v, i) => (i === 3 ? Number.POSITIVE_INFINITY : v)), [3, 2]))],
    ] as const) {
      const original = readArtifactFile(path, file);
      rewriteArtifactFile(path, file, bytes);
      await expect(SetIds.load(path)).rejects.toThrow(expect.objectContaining({ code: 'CORRUPT_ARTIFACT' }));
      rewriteArtifactFile(path, file, original);
    }
    expect((await SetIds.load(path)).itemCount).toBe(3);
    const { vectors: semantic } = plantedProductData(40, 2, 3, 4, 5);
    const { vectors: cf } = plantedProductData(40, 1, 2, 4, 6);
    const discrete = await SetIds.fitDiscrete(Int32Array.from({ length: 40 }, (_, i) => i + 1), semantic, cf, { semanticSlots: 2, codebookSize: 4, backend: 'js' });
    const discretePath = join(scratch, 'non-finite-discrete');
    await discrete.save(discretePath);
    const codebook = decodeNpy(readArtifactFile(discretePath, 'codebook-2.npy'));
    expect(codebook.shape).toEqual([4, 3]);
    const poisoned = (codebook.data as Float32Array).slice();
    poisoned[7] = Number.NEGATIVE_INFINITY;
    rewriteArtifactFile(discretePath, 'codebook-2.npy', encodeNpy(createTensor(poisoned, [4, 3])));
    await expect(SetIds.load(discretePath)).rejects.toThrow(expect.objectContaining({ code: 'CORRUPT_ARTIFACT' }));
  });

  it('a weight and a value whose product overflows float32 never load (found by the 20,000-case fuzz run, issue 11)', async () => {
    // each finite, but 3e38 x 2 is Infinity in the flattened rows
    const slots = [gaussianMatrix(3, 4, 1), createMatrix(3, 2, Float32Array.from([1, 2, 3e38, 4, 5, 6]))];
    expect(() => SetIds.continuous([1, 2, 3], slots, [1, 2])).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/slot 1: .* not a finite float32/) }));
    const table = SetIds.continuous([1, 2, 3], slots, [1, 1]);
    expect(Array.from(table.flatten().data).every(Number.isFinite)).toBe(true);
    const path = join(scratch, 'overflowing-weight');
    await table.save(path);
    rewriteArtifactFile(path, 'slot-weights.npy', encodeNpy(createTensor(Float32Array.from([1, 2]), [2])));
    await expect(SetIds.load(path)).rejects.toThrow(expect.objectContaining({ code: 'CORRUPT_ARTIFACT' }));
  });

  it('fitDiscrete reports progress: 2 stages, one step per subspace k-means, the k-means iterations; same table with or without (issue 11)', async () => {
    const { vectors: semantic } = plantedProductData(120, 2, 3, 6, 8);
    const { vectors: cf } = plantedProductData(120, 1, 2, 6, 9);
    const ids = Int32Array.from({ length: 120 }, (_, i) => i + 1);
    const options = { semanticSlots: 2, codebookSize: 6, rotation: 'opq' as const, backend: 'js' as const, seed: 3 };
    const events: ProgressEvent[] = [];
    const observed = await SetIds.fitDiscrete(ids, semantic, cf, { ...options, onProgress: (event) => events.push(event) });
    const silent = await SetIds.fitDiscrete(ids, semantic, cf, options);
    expect(Array.from(observed.encode(ids))).toEqual(Array.from(silent.encode(ids)));
    const of = (task: string) => events.filter((event) => 'task' in event && event.task === task);
    expect(of('set-ids-discrete').map((event) => `${event.type}:${'done' in event ? event.done : ''}`)).toEqual(['task-start:0', 'task-progress:1', 'task-end:2']);
    // OPQ: 1 + 5 alternations of 2 subspace fits each
    const pq = of('product-quantizer');
    expect(pq.filter((event) => event.type === 'task-progress').map((event) => ('done' in event ? event.done : -1))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(pq.at(-1)).toMatchObject({ type: 'task-end', done: 12, total: 12 });
    expect(of('pq-kmeans').filter((event) => event.type === 'task-start')).toHaveLength(12);
    expect(of('set-ids-cf-kmeans').filter((event) => event.type === 'task-end')).toHaveLength(1);
    // the outer task starts first and ends last
    expect(events[0]).toMatchObject({ type: 'task-start', task: 'set-ids-discrete' });
    expect(events.at(-1)).toMatchObject({ type: 'task-end', task: 'set-ids-discrete' });
  });

  it('continuous tables save and load', async () => {
    const table = SetIds.continuous([1, 2, 3], [gaussianMatrix(3, 4, 1), gaussianMatrix(3, 2, 2)], [1, 0.5]);
    await table.save(join(scratch, 'continuous'));
    const loaded = await SetIds.load(join(scratch, 'continuous'));
    expect(loaded.variant).toBe('continuous');
    expect(Array.from(loaded.flatten().data)).toEqual(Array.from(table.flatten().data));
    expect(Array.from(loaded.itemIds)).toEqual([1, 2, 3]);
  });
});
