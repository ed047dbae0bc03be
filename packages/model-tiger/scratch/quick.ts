import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitTiger, loadTiger } from '../src/index.js';
import { hitRate, popularityHitRate, qualityData, smallData } from '@genrec/model-baselines/testing';

const which = process.argv[2] ?? 'small';
const data = which === 'small' ? smallData() : qualityData();
const opts = JSON.parse(process.argv[3] ?? '{}');
const beams = (process.argv[4] ?? '').split(',').filter(Boolean).map(Number);
const t0 = performance.now();
const model = await fitTiger(data.fitData, {
  itemVectors: 'collaborative', vectorDimension: 16, levels: 2, codebookSize: 16, modelDimension: 32, heads: 2, feedForwardDimension: 64, layers: 2,
  maxHistory: 10, batchSize: 64, learningRate: 0.005, warmupSteps: 20, schedule: 'constant', beamWidth: 32, workers: 0, threads: 1, epochs: 3, seed: 42,
  earlyStopping: false,
  ...opts,
  onProgress: (e) => { if (e.type === 'epoch-end') console.log(e.epoch, e.loss.toFixed(4), JSON.stringify(e.validation), (e.elapsedMs/1000).toFixed(1)); },
});
console.log('fit s', ((performance.now() - t0) / 1000).toFixed(1), JSON.stringify(model.training.codes));
const t1 = performance.now();
const hr = await hitRate(model, data.split.test, 10);
console.log('HR@10', hr.toFixed(4), 'pop', popularityHitRate(data.split.train, data.split.test, 10).toFixed(4), 'eval s', ((performance.now() - t1) / 1000).toFixed(1));
if (beams.length) {
  const dir = join(mkdtempSync(join(tmpdir(), 'tiger-')), 'm');
  await model.save(dir);
  for (const beamWidth of beams) {
    const m = await loadTiger(dir, { beamWidth });
    const t = performance.now();
    console.log('beam', beamWidth, 'HR@10', (await hitRate(m, data.split.test, 10)).toFixed(4), 's', ((performance.now() - t) / 1000).toFixed(1));
    await m.dispose();
  }
}
await model.dispose();
