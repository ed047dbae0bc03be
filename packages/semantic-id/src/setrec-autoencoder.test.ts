import { createMatrix } from '@genrec/core';
import { Graph as NnGraph } from '@genrec/nn';
import { describe, expect, it } from 'vitest';
import { setRecAutoencoder, trainSetRecAutoencoder } from './setrec-autoencoder.js';
import { gaussianMatrix } from './test-helpers.js';

describe('SETRec autoencoder (@genrec/nn module)', () => {
  it('declares the token shape and rejects a latent that does not split into n tokens', () => {
    const graph = new NnGraph();
    const x = graph.input('x', 'float32', [5, 12]);
    const { tokens, reconstruction } = setRecAutoencoder(x, { hidden: [16, 8], semanticSlots: 4 });
    expect(tokens.shape).toEqual([5, 4, 2]);
    expect(reconstruction.shape).toEqual([5, 12]);
    expect(() => setRecAutoencoder(graph.input('y', 'float32', [5, 12]), { hidden: [16, 6], semanticSlots: 4, name: 'other' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });

  it('training lowers the reconstruction error and returns n token vectors per item, deterministically', async () => {
    // 256 items in a 3-d subspace of 12 dimensions: an 8-d latent can reconstruct them.
    const basis = gaussianMatrix(3, 12, 1);
    const weights = gaussianMatrix(256, 3, 2);
    const vectors = createMatrix(256, 12);
    for (let i = 0; i < 256; i++) for (let c = 0; c < 12; c++) for (let k = 0; k < 3; k++) vectors.data[i * 12 + c] = vectors.data[i * 12 + c]! + weights.data[i * 3 + k]! * basis.data[k * 12 + c]!;
    const options = { hidden: [32, 8], semanticSlots: 4, epochs: 30, batchSize: 32, learningRate: 1e-2, seed: 3 };
    const first = await trainSetRecAutoencoder(vectors, options);
    expect(first.epochLosses.length).toBe(30);
    expect(first.epochLosses[29]!).toBeLessThan(0.2 * first.epochLosses[0]!);
    expect(first.tokens.length).toBe(4);
    for (const token of first.tokens) {
      expect([token.rows, token.cols]).toEqual([256, 2]);
      expect(token.data.every(Number.isFinite)).toBe(true);
    }
    const second = await trainSetRecAutoencoder(vectors, options);
    expect(Array.from(second.tokens[2]!.data)).toEqual(Array.from(first.tokens[2]!.data));
  });
});
