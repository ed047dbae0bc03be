import { qualityData, hitRate, popularityHitRate } from '@genrec/model-baselines/testing';
import { fitSasrec } from '@genrec/model-sasrec';
import { fitSetrec } from '../src/index.js';
const data = qualityData();
const configs = JSON.parse(process.argv[2] ?? '[{}]');
const sasrecCfg = JSON.parse(process.argv[3] ?? '{}');
let t = performance.now();
const sasrec = await fitSasrec({ train: data.fitData.train }, { hiddenSize: 16, blocks: 1, maxLength: 10, dropout: 0.1, learningRate: 0.005, batchSize: 128, epochs: 3, threads: 1, seed: 1, ...sasrecCfg });
console.log('sasrec', ((performance.now() - t) / 1000).toFixed(1), 's', (await hitRate(sasrec, data.split.test, 10)).toFixed(4), 'pop', popularityHitRate(data.split.train, data.split.test, 10));
const cfVectors = sasrec.itemEmbeddings();
for (const cfg of configs) {
  t = performance.now();
  const model = await fitSetrec(data.fitData, { hiddenSize: 16, autoencoderHidden: [64, 64], layers: 1, decoderLayers: 1, heads: 1, maxLength: 10, lengthBuckets: [10], dropout: 0.1, batchPositions: 640, learningRate: 0.005, contentDimension: 32, inferenceBatchSize: 64, threads: 1, epochs: 3, seed: 42, cfVectors, ...cfg,
    onProgress: (e) => { if (e.type === 'epoch-end') console.log(' epoch', e.epoch, e.loss.toFixed(3), JSON.stringify(e.validation), ((performance.now() - t) / 1000).toFixed(1)); } });
  const fit = (performance.now() - t) / 1000;
  t = performance.now();
  console.log(JSON.stringify(cfg), 'fit', fit.toFixed(1), 'hit', (await hitRate(model, data.split.test, 10)).toFixed(4), 'eval', ((performance.now() - t) / 1000).toFixed(1), 'beta', model.beta);
  await model.dispose();
}
