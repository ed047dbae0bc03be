import { GenrecError } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { formatHealthReport, semanticIdHealth, type SemanticIdHealth } from './health.js';
import { SemanticIds } from './semantic-ids.js';
import { gaussianMatrix } from './test-helpers.js';

const report: SemanticIdHealth = {
  itemCount: 11924,
  quantizerLevels: 3,
  codebookSizes: [256, 256, 256, 12],
  relativeQuantizationError: 0.401234,
  meanSquaredError: 0.0123456,
  utilisationPerLevel: [1, 0.99609375, 0.5],
  perplexityPerLevel: [250.31, 241.04, 96.5],
  distinctPrefixes: 9123,
  collisionRateBefore: 0.4523,
  collisionRateAfter: 0,
  largestCollisionGroup: 12,
  collisionLevelSize: 12,
};

describe('formatHealthReport', () => {
  it('prints the health report as a fixed text table (golden)', () => {
    expect(formatHealthReport(report)).toBe(
      [
        'semantic-id health: 11924 items, 3 quantiser levels + collision level',
        'relative quantisation error   0.4012',
        'mean squared error            0.01235',
        'distinct prefixes             9123 of 11924',
        'items colliding before token  45.2%',
        'items colliding after token   0.0%',
        'largest collision group       12',
        '',
        'level      codes  utilisation  perplexity',
        '1            256       100.0%       250.3',
        '2            256        99.6%       241.0',
        '3            256        50.0%        96.5',
        'collision     12            -           -',
        '',
      ].join('\n'),
    );
  });

  it('prints a real report without a collision level, with a custom title', async () => {
    const vectors = gaussianMatrix(64, 4, 3);
    const ids = Int32Array.from({ length: 64 }, (_, i) => i + 1);
    const { ids: semanticIds } = await SemanticIds.fit(ids, vectors, { levels: 2, codebookSize: 4, seed: 1, backend: 'js', collisionLevel: 'never' }).catch(() =>
      SemanticIds.fit(ids, vectors, { levels: 2, codebookSize: 4, seed: 1, backend: 'js', collisionLevel: 'auto' }),
    );
    const health = semanticIdHealth(semanticIds, vectors);
    const text = formatHealthReport(health, { title: 'toy ids' });
    const lines = text.split('\n');
    expect(lines[0]).toBe(`toy ids: 64 items, 2 quantiser levels${health.codebookSizes.length > 2 ? ' + collision level' : ''}`);
    expect(lines[1]).toBe(`relative quantisation error   ${health.relativeQuantizationError.toFixed(4)}`);
    expect(lines).toContain(`1              4  ${`${(100 * health.utilisationPerLevel[0]!).toFixed(1)}%`.padStart(11)}  ${health.perplexityPerLevel[0]!.toFixed(1).padStart(10)}`);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('refuses something that is not a health report', () => {
    for (const bad of [undefined, {}, { ...report, utilisationPerLevel: [1] }, { ...report, itemCount: '3' }]) {
      let caught: unknown;
      try {
        formatHealthReport(bad as SemanticIdHealth);
      } catch (error) {
        caught = error;
      }
      expect(GenrecError.isInstance(caught) && caught.code).toBe('INVALID_INPUT');
    }
  });
});
