import { createMatrix, Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { fitRqVae } from './rq-vae.js';
import { gaussianMatrix } from './test-helpers.js';

describe('RQ-VAE (@genrec/nn training)', () => {
  it('training lowers the reconstruction error and keeps utilisation above 80%', async () => {
    // 600 items around 40 centres in 16 dimensions.
    const centres = gaussianMatrix(40, 16, 1, 2);
    const rng = new Rng(2);
    const vectors = createMatrix(600, 16);
    for (let i = 0; i < 600; i++) for (let c = 0; c < 16; c++) vectors.data[i * 16 + c] = centres.data[(i % 40) * 16 + c]! + rng.normal() * 0.3;
    const fit = await fitRqVae(vectors, { hidden: [32], latentDimension: 8, levels: 2, codebookSize: 16, epochs: 12, batchSize: 50, learningRate: 3e-3, seed: 1 });
    expect(fit.reconstructionErrors.length).toBe(12);
    expect(fit.reconstructionErrors[11]!).toBeLessThan(0.7 * fit.reconstructionErrors[0]!);
    for (const utilisation of fit.utilisationPerLevel) expect(utilisation).toBeGreaterThanOrEqual(0.8);
    expect(fit.codes.length).toBe(600 * 2);
    expect(fit.latent.rows).toBe(600);
  });
});
