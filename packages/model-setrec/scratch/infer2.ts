import { qualityData } from '@genrec/model-baselines/testing';
import { fitSetrec } from '../src/index.js';
import { SetrecRunner } from '../src/runner.js';
const data = qualityData();
const model = await fitSetrec(data.fitData, { epochs: 1, threads: 1, cfVectors: { rows: 2000, cols: 16, data: new Float32Array(32000).map(() => Math.random()) }, batchPositions: 2048, earlyStopping: false, beta: 0.3, ...(JSON.parse(process.argv[2] ?? '{}')) });
const test = data.split.test;
const batch = { offsets: test.historyOffsets, items: test.historyItems };
const users = Array.from({ length: test.size }, (_, u) => u);
const runner = new SetrecRunner(model.architecture, 256, model.spec.lengthBuckets, 1);
const tokens = (await model.itemTokens()).data;
const params = model.parameterMap;
const w = model.slotWeights();
for (let rep = 0; rep < 2; rep++) {
  let t = performance.now();
  await runner.run(batch, users, params, tokens, undefined, () => {});
  const q = performance.now() - t;
  t = performance.now();
  await runner.run(batch, users, params, tokens, w, () => {});
  const s = performance.now() - t;
  console.log('queries', Math.round(test.size / q * 1000), 'users/s; with scores', Math.round(test.size / s * 1000));
}
