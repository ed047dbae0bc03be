import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '@genrec/core';
import { referenceScore } from '@genrec/ann/testing';
import { rowsTable, tableSchema } from './lance-arrow.js';
import { distanceTypeOf, normalizeRowsInPlace, scoreFromDistance } from './lance-metric.js';

const root = mkdtempSync(join(tmpdir(), 'genrec-lance-metric-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DIMENSION = 6;
const COUNT = 50;

/** Naive float64 formulas of what LanceDB returns in `_distance`, per distance type. */
function naiveDistance(type: 'dot' | 'l2' | 'cosine', query: Float32Array, vector: Float32Array): number {
  let dot = 0;
  let squared = 0;
  let queryNorm = 0;
  let vectorNorm = 0;
  for (let c = 0; c < query.length; c++) {
    dot += query[c]! * vector[c]!;
    squared += (query[c]! - vector[c]!) ** 2;
    queryNorm += query[c]! ** 2;
    vectorNorm += vector[c]! ** 2;
  }
  if (type === 'dot') return 1 - dot;
  if (type === 'l2') return squared;
  return 1 - dot / Math.sqrt(queryNorm * vectorNorm);
}

describe('what LanceDB 0.31 returns in _distance', () => {
  const rng = new Rng(5);
  // norms from 0.2 to 5: a distance that ignored norms, or took a square root, would show
  const vectors = new Float32Array(COUNT * DIMENSION);
  for (let i = 0; i < COUNT; i++) {
    const row = vectors.subarray(i * DIMENSION, (i + 1) * DIMENSION);
    rng.fillNormal(row);
    normalizeRowsInPlace(row, DIMENSION);
    const norm = rng.uniformIn(0.2, 5);
    for (let c = 0; c < DIMENSION; c++) row[c] = row[c]! * norm;
  }
  const ids = Int32Array.from({ length: COUNT }, (_, i) => 100 + i);
  const query = rng.fillNormal(new Float32Array(DIMENSION)).map((value) => 2 * value);

  for (const type of ['dot', 'l2', 'cosine'] as const) {
    it(`distanceType '${type}': ${type === 'dot' ? '1 - q·x' : type === 'l2' ? 'the squared Euclidean distance' : '1 - cos(q, x)'}`, async () => {
      const connection = await lancedb.connect(join(root, type));
      const table = await connection.createEmptyTable('vectors', tableSchema(DIMENSION));
      await table.add(rowsTable(tableSchema(DIMENSION), ids, vectors, DIMENSION));
      const rows = (await table.vectorSearch(query).distanceType(type).select(['id', '_distance']).limit(COUNT).toArray()) as { id: number; _distance: number }[];
      expect(rows.length).toBe(COUNT);
      for (const row of rows) {
        const vector = vectors.subarray((row.id - 100) * DIMENSION, (row.id - 99) * DIMENSION);
        const expected = naiveDistance(type, query, vector);
        expect(Math.abs(row._distance - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected)));
      }
      table.close();
      connection.close();
    });
  }

  it('scoreFromDistance turns them into the contract scores (ip, l2; cosine = dot on unit vectors)', () => {
    const vector = vectors.subarray(0, DIMENSION);
    for (const metric of ['ip', 'l2'] as const) {
      const distance = naiveDistance(distanceTypeOf(metric), query, vector);
      expect(scoreFromDistance(metric, distance)).toBeCloseTo(referenceScore(query, vector, metric), 10);
    }
    const unitQuery = normalizeRowsInPlace(query.slice(), DIMENSION);
    const unitVector = normalizeRowsInPlace(vector.slice(), DIMENSION);
    expect(distanceTypeOf('cosine')).toBe('dot');
    expect(scoreFromDistance('cosine', naiveDistance('dot', unitQuery, unitVector))).toBeCloseTo(referenceScore(query, vector, 'cosine'), 6);
  });

  it('normalizeRowsInPlace leaves zero rows at zero', () => {
    const rows = new Float32Array([3, 4, 0, 0]);
    expect(Array.from(normalizeRowsInPlace(rows, 2))).toEqual([0.6000000238418579, 0.800000011920929, 0, 0]);
  });
});
