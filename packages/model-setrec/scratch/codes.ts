import { qualityData, hitRate } from '@genrec/model-baselines/testing';
import { fitSasrec } from '@genrec/model-sasrec';
import { fitSetrec, discretizeSetrec } from '../src/index.js';
const data = qualityData();
const sasrec = await fitSasrec({ train: data.fitData.train }, { hiddenSize: 16, blocks: 1, maxLength: 10, dropout: 0.1, learningRate: 0.005, batchSize: 128, epochs: 3, threads: 1, seed: 1 });
const model = await fitSetrec(data.fitData, { hiddenSize: 16, autoencoderHidden: [64, 64], layers: 1, heads: 1, maxLength: 10, lengthBuckets: [10], dropout: 0.1, batchPositions: 1280, learningRate: 0.005, contentDimension: 32, threads: 1, epochs: 2, seed: 1, sasrec, earlyStopping: { sampleUsers: 1000 } });
console.log('continuous', (await hitRate(model, data.split.test, 10)).toFixed(4));
for (const cfg of [{ codebookSize: 64 }, { codebookSize: 64, codeEpochs: 3 }, { codebookSize: 64, cfCodebookSize: 512, codeEpochs: 3 }]) {
  const t = performance.now();
  const d = await discretizeSetrec(model, { ...cfg, validation: data.split.validation, train: data.fitData.train, onProgress: (e) => e.type === 'task-progress' && e.task === 'setrec-code-training' && console.log(' ', JSON.stringify(e.metrics)) });
  console.log(JSON.stringify(cfg), (await hitRate(d, data.split.test, 10)).toFixed(4), JSON.stringify(d.training.validation), JSON.stringify(d.training.codeTraining), ((performance.now() - t) / 1000).toFixed(0), 's');
  await d.dispose();
}
