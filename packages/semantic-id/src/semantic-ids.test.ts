import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMatrix, createTensor, encodeNpy, GenrecError, Rng, type Matrix } from '@genrec/core';
import { afterAll, describe, expect, it } from 'vitest';
import { addCollisionLevel } from './collision-level.js';
import { semanticIdHealth } from './health.js';
import { fitResidualKMeans } from './residual-quantizer.js';
import { SemanticIds } from './semantic-ids.js';
import { gaussianMatrix, plantedResidualData, readArtifactFile, rewriteArtifactFile, samePartition } from './test-helpers.js';

const isGenrecError = (code: string) => (error: unknown) => GenrecError.isInstance(error) && error.code === code;
const scratch = mkdtempSync(join(tmpdir(), 'genrec-semantic-id-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Data where many items share codes: 40 distinct points, each repeated 1..5 times, plus noise-free duplicates. */
function duplicatedData(): { ids: Int32Array; vectors: Matrix } {
  const base = gaussianMatrix(40, 6, 21);
  const rows: number[] = [];
  for (let p = 0; p < 40; p++) for (let r = 0; r <= p % 5; r++) rows.push(p);
  const vectors = createMatrix(rows.length, 6);
  rows.forEach((p, i) => vectors.data.set(base.data.subarray(p * 6, p * 6 + 6), i * 6));
  return { ids: Int32Array.from(rows, (_, i) => 1000 + i), vectors };
}

describe('addCollisionLevel', () => {
  it('numbers items sharing a tuple in row order', () => {
    const result = addCollisionLevel(Int32Array.from([1, 2, 3, 4, 1, 2, 1, 2, 5, 6]), 2);
    expect(Array.from(result.codes)).toEqual([1, 2, 0, 3, 4, 0, 1, 2, 1, 1, 2, 2, 5, 6, 0]);
    expect(result.collisionLevelSize).toBe(3);
    expect(result.collidingItems).toBe(3);
    expect(result.distinctTuples).toBe(3);
  });
});

describe('fitResidualKMeans', () => {
  it('reconstructs planted two-level clusters exactly', async () => {
    const { points, coarse, fine } = plantedResidualData(8, 4, 5, 6, 31);
    for (const seed of [0, 1]) {
      const fit = await fitResidualKMeans(points, { levels: 2, codebookSize: [8, 4], seed, backend: 'js' });
      expect(fit.relativeError).toBeLessThan(1e-9);
      const level0 = fit.codes.filter((_, i) => i % 2 === 0);
      const level1 = fit.codes.filter((_, i) => i % 2 === 1);
      expect(samePartition(coarse, level0)).toBe(true);
      expect(samePartition(fine, level1)).toBe(true);
      // Encoding the training vectors with the fitted codebooks gives the training codes.
      expect(Array.from(await fit.quantizer.encode(points, { backend: 'js' }))).toEqual(Array.from(fit.codes));
    }
  });

  it('is deterministic for a seed and its error falls with more levels', async () => {
    const points = gaussianMatrix(300, 8, 4);
    const a = await fitResidualKMeans(points, { levels: 2, codebookSize: 16, seed: 9, backend: 'js' });
    const b = await fitResidualKMeans(points, { levels: 2, codebookSize: 16, seed: 9, backend: 'js' });
    expect(Array.from(a.codes)).toEqual(Array.from(b.codes));
    const three = await fitResidualKMeans(points, { levels: 3, codebookSize: 16, seed: 9, backend: 'js' });
    expect(three.relativeError).toBeLessThan(a.relativeError);
    // The reported error equals the error of decoding the codes.
    const decoded = three.quantizer.decode(three.codes);
    let top = 0;
    let bottom = 0;
    for (let i = 0; i < points.data.length; i++) {
      top += (points.data[i]! - decoded.data[i]!) ** 2;
      bottom += points.data[i]! ** 2;
    }
    expect(three.relativeError).toBeCloseTo(top / bottom, 5);
  });

  it('rejects NaN vectors, fewer items than codes and bad levels', async () => {
    const points = gaussianMatrix(50, 4, 1);
    await expect(fitResidualKMeans(points, { codebookSize: 64 })).rejects.toSatisfy(isGenrecError('INVALID_INPUT'));
    await expect(fitResidualKMeans(points, { levels: 0 })).rejects.toSatisfy(isGenrecError('INVALID_OPTION'));
    await expect(fitResidualKMeans(points, { levels: 2, codebookSize: [4] })).rejects.toSatisfy(isGenrecError('INVALID_OPTION'));
    points.data[13] = Number.POSITIVE_INFINITY;
    await expect(fitResidualKMeans(points, { codebookSize: 4 })).rejects.toSatisfy(isGenrecError('INVALID_INPUT'));
  });
});

describe('SemanticIds', () => {
  it('the collision token makes every id unique and lookups work both ways', async () => {
    const { ids, vectors } = duplicatedData();
    const { ids: semanticIds } = await SemanticIds.fit(ids, vectors, { levels: 2, codebookSize: 8, seed: 2, backend: 'js' });
    const table = semanticIds.table;
    expect(table.levels).toBe(3);
    expect(table.hasCollisionLevel).toBe(true);
    const keys = new Set<string>();
    for (let row = 0; row < table.itemCount; row++) keys.add(Array.from(table.codes.subarray(row * 3, row * 3 + 3)).join(','));
    expect(keys.size).toBe(ids.length);
    // Duplicated vectors collide on the two quantiser levels, so the collision level is needed.
    expect(table.codebookSizes[2]).toBeGreaterThanOrEqual(5);
    const codes = semanticIds.encode(ids);
    expect(Array.from(semanticIds.decode(codes))).toEqual(Array.from(ids));
    const layout = semanticIds.tokenLayout();
    expect(layout.levelOffsets).toEqual([3, 11, 19]);
    const tokens = semanticIds.encodeTokens([ids[5]!, ids[17]!], layout);
    expect(Array.from(tokens.subarray(0, 3))).toEqual([codes[15]! + 3, codes[16]! + 11, codes[17]! + 19]);
    expect(Array.from(semanticIds.decodeTokens(tokens, layout))).toEqual([ids[5], ids[17]]);
    expect(Array.from(semanticIds.decodeTokens([0, 11, 19], layout))).toEqual([-1]);
    const health = semanticIdHealth(semanticIds, vectors);
    expect(health.collisionRateAfter).toBe(0);
    expect(health.collisionRateBefore).toBeGreaterThan(0.5);
    expect(health.largestCollisionGroup).toBe(table.codebookSizes[2]);
  });

  it("'never' refuses collisions and 'auto' adds a level only when needed", async () => {
    const { ids, vectors } = duplicatedData();
    await expect(SemanticIds.fit(ids, vectors, { levels: 2, codebookSize: 8, collisionLevel: 'never', backend: 'js' })).rejects.toSatisfy(
      isGenrecError('INVALID_INPUT'),
    );
    const distinct = gaussianMatrix(64, 3, 5);
    const { ids: auto } = await SemanticIds.fit(Int32Array.from({ length: 64 }, (_, i) => i + 1), distinct, {
      levels: 2,
      codebookSize: 64,
      collisionLevel: 'auto',
      backend: 'js',
    });
    expect(auto.table.hasCollisionLevel).toBe(false);
    expect(auto.levels).toBe(2);
  });

  it('unknown ids, mismatched dimensions and mismatched lengths give GenrecErrors', async () => {
    const { ids, vectors } = duplicatedData();
    const { ids: semanticIds } = await SemanticIds.fit(ids, vectors, { levels: 2, codebookSize: 8, backend: 'js' });
    expect(() => semanticIds.encode([ids[0]!, 5])).toThrow(expect.objectContaining({ code: 'UNKNOWN_ID' }));
    await expect(semanticIds.encodeVectors(gaussianMatrix(3, 5, 1))).rejects.toSatisfy(isGenrecError('SHAPE_MISMATCH'));
    await expect(SemanticIds.fit([1, 2], vectors)).rejects.toSatisfy(isGenrecError('SHAPE_MISMATCH'));
    const repeated = Int32Array.from(ids);
    repeated[3] = repeated[2]!;
    await expect(SemanticIds.fit(repeated, vectors, { levels: 2, codebookSize: 8, backend: 'js' })).rejects.toSatisfy(isGenrecError('INVALID_INPUT'));
  });

  it('extends the table with new items and grows the collision level', async () => {
    const { ids, vectors } = duplicatedData();
    const { ids: semanticIds } = await SemanticIds.fit(ids, vectors, { levels: 2, codebookSize: 8, backend: 'js' });
    const size = semanticIds.table.codebookSizes[2]!;
    const largestRow = Array.from(semanticIds.table.codes).findIndex((code, i) => i % 3 === 2 && code === size - 1);
    const row = (largestRow - 2) / 3;
    // Ten copies of an item of the largest group: all share its prefix and need new tokens.
    const copies = createMatrix(10, 6);
    for (let i = 0; i < 10; i++) copies.data.set(vectors.data.subarray(row * 6, row * 6 + 6), i * 6);
    const extended = await semanticIds.extend(Int32Array.from({ length: 10 }, (_, i) => 1 + i), copies, { backend: 'js' });
    expect(extended.table.itemCount).toBe(ids.length + 10);
    expect(extended.table.codebookSizes[2]).toBe(size + 10);
    expect(Array.from(extended.encode([ids[row]!]))).toEqual(Array.from(semanticIds.encode([ids[row]!])));
    expect(Array.from(extended.encode([10]))).toEqual([...Array.from(semanticIds.encode([ids[row]!]).subarray(0, 2)), size + 9]);
    await expect(semanticIds.extend([ids[0]!], copies.rows === 10 ? createMatrix(1, 6) : copies, { backend: 'js' })).rejects.toSatisfy(
      isGenrecError('INVALID_INPUT'),
    );
  });

  it('save and load give identical encode and decode; other versions and corrupt arrays are refused', async () => {
    const { ids, vectors } = duplicatedData();
    const { ids: semanticIds } = await SemanticIds.fit(ids, vectors, { levels: 2, codebookSize: 8, seed: 4, backend: 'js' });
    const directory = join(scratch, 'ids');
    await semanticIds.save(directory);
    const loaded = await SemanticIds.load(directory);
    expect(Array.from(loaded.encode(ids))).toEqual(Array.from(semanticIds.encode(ids)));
    const codes = semanticIds.encode(ids);
    expect(Array.from(loaded.decode(codes))).toEqual(Array.from(ids));
    expect(loaded.tokenLayout()).toEqual(semanticIds.tokenLayout());
    const fresh = gaussianMatrix(9, 6, 77);
    expect(Array.from(await loaded.encodeVectors(fresh, { backend: 'js' }))).toEqual(Array.from(await semanticIds.encodeVectors(fresh, { backend: 'js' })));
    expect(semanticIdHealth(loaded, vectors)).toEqual(semanticIdHealth(semanticIds, vectors));

    const manifest = JSON.parse(new TextDecoder().decode(readArtifactFile(directory, 'manifest.json'))) as Record<string, unknown>;
    // edited without a new checksum: the folder's checksum list catches it
    rewriteArtifactFile(directory, 'manifest.json', JSON.stringify({ ...manifest, dimension: 7 }), false);
    await expect(SemanticIds.load(directory)).rejects.toSatisfy(isGenrecError('CORRUPT_ARTIFACT'));
    // edited with a consistent checksum: the loader's own checks
    rewriteArtifactFile(directory, 'manifest.json', JSON.stringify({ ...manifest, formatVersion: 99 }));
    await expect(SemanticIds.load(directory)).rejects.toSatisfy(isGenrecError('FORMAT_VERSION'));
    rewriteArtifactFile(directory, 'manifest.json', JSON.stringify({ ...manifest, kind: 'genrec.flat-index' }));
    await expect(SemanticIds.load(directory)).rejects.toSatisfy(isGenrecError('FORMAT_VERSION'));
    for (const patch of [{ itemCount: 3 }, { itemCount: -1 }, { itemCount: '10' }, { levels: 2 }, { codebookSizes: [8, 0, 5] }, { hasCollisionLevel: 'yes' }, { dimension: 1e300 }]) {
      rewriteArtifactFile(directory, 'manifest.json', JSON.stringify({ ...manifest, ...patch }));
      await expect(SemanticIds.load(directory)).rejects.toSatisfy(isGenrecError('CORRUPT_ARTIFACT'));
    }
    await expect(SemanticIds.load(join(scratch, 'missing'))).rejects.toSatisfy(isGenrecError('NOT_FOUND'));
  });

  it('NaN or Infinity in a codebook, or a negative item id, never loads (issue 11)', async () => {
    const { ids, vectors } = duplicatedData();
    const { ids: semanticIds } = await SemanticIds.fit(ids, vectors, { levels: 2, codebookSize: 8, seed: 4, backend: 'js' });
    const directory = join(scratch, 'non-finite');
    await semanticIds.save(directory);
    const codebook = semanticIds.quantizer.codebooks[1]!;
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const data = codebook.data.slice();
      data[5] = value;
      rewriteArtifactFile(directory, 'codebook-1.npy', encodeNpy(createTensor(data, [codebook.rows, codebook.cols])));
      await expect(SemanticIds.load(directory)).rejects.toSatisfy(isGenrecError('CORRUPT_ARTIFACT'));
    }
    rewriteArtifactFile(directory, 'codebook-1.npy', encodeNpy(createTensor(codebook.data, [codebook.rows, codebook.cols])));
    expect((await SemanticIds.load(directory)).table.itemCount).toBe(ids.length);
    const negative = Int32Array.from(ids);
    negative[2] = -5;
    rewriteArtifactFile(directory, 'item-ids.npy', encodeNpy(createTensor(negative, [negative.length])));
    await expect(SemanticIds.load(directory)).rejects.toSatisfy(isGenrecError('CORRUPT_ARTIFACT'));
  });

  it('balanced assignment lowers the largest collision group on a skewed set', async () => {
    // 80% of the items in one tight blob, the rest spread out.
    const rng = new Rng(12);
    const n = 2000;
    const vectors = createMatrix(n, 8);
    for (let i = 0; i < n; i++) {
      const scale = i < 1600 ? 0.05 : 3;
      for (let t = 0; t < 8; t++) vectors.data[i * 8 + t] = rng.normal() * scale + (i < 1600 ? 5 : 0);
    }
    const ids = Int32Array.from({ length: n }, (_, i) => i + 1);
    const options = { levels: 2, codebookSize: 16, seed: 3, backend: 'js' as const };
    const plain = semanticIdHealth((await SemanticIds.fit(ids, vectors, options)).ids, vectors);
    const balanced = semanticIdHealth((await SemanticIds.fit(ids, vectors, { ...options, balance: true })).ids, vectors);
    expect(balanced.largestCollisionGroup).toBeLessThan(plain.largestCollisionGroup);
    expect(balanced.perplexityPerLevel[0]).toBeGreaterThan(plain.perplexityPerLevel[0]!);
    expect(balanced.collisionRateAfter).toBe(0);
  });
});
