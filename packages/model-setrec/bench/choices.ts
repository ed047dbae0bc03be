/**
 * The architecture choices of the README ("Backbone and last-item residual"), measured on the
 * synthetic default (5,000 users x 2,000 items, titles and categories, leave-one-out): the
 * query-decoder backbone against the causal one, each with and without `lastItemResidual`, over
 * the seeds given. Every configuration of a seed reads the CF vectors of one SASRec (d 32, 2
 * blocks, 5 epochs) trained first; SETRec runs d 32, `maxLength` 20, 3 epochs, 1 thread, β chosen
 * on 1,000 validation users. Prints one line per run (test HitRate@10 / NDCG@10 through the
 * conformance suite's helpers, history excluded, fit time, the chosen β, validation NDCG@10) and
 * a JSON line with the means per configuration.
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/choices.ts [--seeds 1,2]
 */
import { hitRate, ndcg, qualityData } from '@genrec/model-baselines/testing';
import { fitSasrec } from '@genrec/model-sasrec';
import { fitSetrec, type FitSetrecOptions } from '../src/index.js';
import { log, option } from './data.js';

const seeds = option('seeds', '1,2').split(',').map(Number);
const configurations: Record<string, FitSetrecOptions> = {
  'query-decoder, last-item residual (default)': {},
  'query-decoder, no residual': { lastItemResidual: false },
  'causal, last-item residual': { backbone: 'causal' },
  'causal, no residual': { backbone: 'causal', lastItemResidual: false },
};
const data = qualityData();
const results: Record<string, { hr: number[]; ndcg: number[]; fitSeconds: number[] }> = {};
for (const seed of seeds) {
  const sasrec = await fitSasrec({ train: data.fitData.train }, { hiddenSize: 32, blocks: 2, maxLength: 20, dropout: 0.2, epochs: 5, threads: 1, seed });
  log(`seed ${seed} sasrec: HR@10 ${(await hitRate(sasrec, data.split.test, 10)).toFixed(4)} NDCG@10 ${(await ndcg(sasrec, data.split.test, 10)).toFixed(4)}`);
  for (const [name, configuration] of Object.entries(configurations)) {
    const started = performance.now();
    const model = await fitSetrec(data.fitData, { hiddenSize: 32, maxLength: 20, epochs: 3, threads: 1, seed, sasrec, earlyStopping: { sampleUsers: 1000 }, ...configuration });
    const fitSeconds = (performance.now() - started) / 1000;
    const hr = await hitRate(model, data.split.test, 10);
    const gain = await ndcg(model, data.split.test, 10);
    log(`seed ${seed} ${name}: HR@10 ${hr.toFixed(4)} NDCG@10 ${gain.toFixed(4)} fit ${fitSeconds.toFixed(0)} s β ${model.beta} val NDCG@10 ${model.training.validation?.['ndcg@10']?.toFixed(4)}`);
    const entry = (results[name] ??= { hr: [], ndcg: [], fitSeconds: [] });
    entry.hr.push(hr);
    entry.ndcg.push(gain);
    entry.fitSeconds.push(fitSeconds);
    await model.dispose();
  }
  await sasrec.dispose();
}
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
console.log(
  JSON.stringify({
    seeds,
    means: Object.fromEntries(Object.entries(results).map(([name, r]) => [name, { 'hr@10': +mean(r.hr).toFixed(4), 'ndcg@10': +mean(r.ndcg).toFixed(4), fit_s: +mean(r.fitSeconds).toFixed(1) }])),
  }),
);
