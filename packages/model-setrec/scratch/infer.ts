import { qualityData } from '@genrec/model-baselines/testing';
import { fitSasrec } from '@genrec/model-sasrec';
import { fitSetrec } from '../src/index.js';
const data = qualityData();
const sasrec = await fitSasrec({ train: data.fitData.train }, { hiddenSize: 32, blocks: 1, maxLength: 50, epochs: 1, threads: 1, seed: 1 });
const model = await fitSetrec(data.fitData, { epochs: 1, threads: 1, sasrec, batchPositions: 2048, earlyStopping: false, beta: 0.3 });
const test = data.split.test;
const batch = { offsets: test.historyOffsets, items: test.historyItems };
for (const m of [sasrec, model, sasrec, model] as const) {
  let t = performance.now();
  for (let from = 0; from < test.size; from += 256) {
    const to = Math.min(test.size, from + 256); const base = test.historyOffsets[from]!;
    await m.recommend({ offsets: test.historyOffsets.slice(from, to + 1).map((o) => o - base), items: test.historyItems.subarray(base, test.historyOffsets[to]!) }, { k: 10 });
  }
  console.log(m.kind, 'recommend users/s', Math.round(test.size / ((performance.now() - t) / 1000)));
}
await model.userQueries(batch);
let t = performance.now();
await model.userQueries(batch);
console.log('queries only users/s', Math.round(test.size / ((performance.now() - t) / 1000)));
