import { qualityData, hitRate, ndcg } from '@genrec/model-baselines/testing';
import { fitSasrec } from '@genrec/model-sasrec';
import { fitSetrec } from '../src/index.js';
const data = qualityData();
const rows: string[] = [];
for (const seed of [1, 2]) {
  const sasrec = await fitSasrec({ train: data.fitData.train }, { hiddenSize: 32, blocks: 2, maxLength: 20, dropout: 0.2, epochs: 5, threads: 1, seed });
  rows.push(`sasrec seed ${seed}: HR@10 ${(await hitRate(sasrec, data.split.test, 10)).toFixed(4)} NDCG@10 ${(await ndcg(sasrec, data.split.test, 10)).toFixed(4)}`);
  for (const cfg of JSON.parse(process.argv[2]!)) {
    const t = performance.now();
    let stepsTime = 0;
    const model = await fitSetrec(data.fitData, { hiddenSize: 32, maxLength: 20, epochs: 3, threads: 1, seed, sasrec, earlyStopping: { sampleUsers: 1000 }, ...cfg });
    const fit = (performance.now() - t) / 1000;
    rows.push(`${JSON.stringify(cfg)} seed ${seed}: HR@10 ${(await hitRate(model, data.split.test, 10)).toFixed(4)} NDCG@10 ${(await ndcg(model, data.split.test, 10)).toFixed(4)} fit ${fit.toFixed(0)} s β ${model.beta} val ${JSON.stringify(model.training.validation)}`);
    await model.dispose();
    console.log(rows.at(-1));
  }
  await sasrec.dispose();
}
console.log(rows.join('\n'));
