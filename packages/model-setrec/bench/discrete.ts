/**
 * Discrete SETRec from a saved continuous model (`bench/toys.ts --save FOLDER`): for each
 * configuration (CF codebook size, OPQ or not, epochs of code training), the quantisation time,
 * β chosen on validation, test Recall/NDCG@10 and @20 through `evaluateRecommender` (leave-one-out,
 * full catalogue, history excluded), recommend throughput and the table's memory, beside the
 * continuous model in the same window. One JSON line per configuration on stdout.
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/discrete.ts --data toys --model /tmp/genrec-setrec-bench/model-tune1 [--configs '[{"cfCodebookSize":2048,"codeEpochs":2}]']
 */
import { evaluateRecommender } from '@genrec/eval';
import { discretizeSetrec, loadSetrec, type DiscretizeSetrecOptions, type SetrecModel } from '../src/index.js';
import { log, option, peakRssMiB, peerSplit, readBenchData } from './data.js';

const data = await readBenchData(option('data', 'toys'));
const split = peerSplit(data);
const threads = Number(option('threads', '2'));
const model = await loadSetrec(option('model', '/tmp/genrec-setrec-bench/model-tune1'), { threads });
const configs = JSON.parse(option('configs', '[{"cfCodebookSize":256},{"cfCodebookSize":2048},{"cfCodebookSize":2048,"codeEpochs":2}]')) as DiscretizeSetrecOptions[];
const test = split.test;

async function measure(target: SetrecModel): Promise<Record<string, number>> {
  const started = performance.now();
  const result = await evaluateRecommender(target, test, { ks: [10, 20], keepPerUser: false });
  const seconds = (performance.now() - started) / 1000;
  return { ...Object.fromEntries(['recall@10', 'ndcg@10', 'recall@20', 'ndcg@20'].map((m) => [m, +result.metrics[m]!.toFixed(4)])), users_per_s_through_eval: Math.round(test.size / seconds) };
}

const slots = model.architecture.semanticTokens + 1;
const d = model.architecture.hiddenSize;
console.log(JSON.stringify({ variant: 'continuous', beta: model.beta, test: await measure(model), table_bytes: model.itemCount * slots * d * 4 }));
for (const config of configs) {
  const started = performance.now();
  const discrete = await discretizeSetrec(model, {
    codebookSize: 256,
    rotation: 'opq',
    validation: split.validation,
    sampleUsers: 5000,
    train: split.train,
    ...config,
    onProgress: (event) => event.type === 'task-progress' && event.task === 'setrec-code-training' && log(`code training epoch ${event.done}: ${JSON.stringify(event.metrics)}`),
  });
  const seconds = (performance.now() - started) / 1000;
  const sizes = discrete.describe().codebookSizes as number[];
  const codeBytes = sizes.every((size) => size <= 256) ? 1 : 2;
  console.log(
    JSON.stringify({
      variant: 'discrete',
      config,
      discretize_s: +seconds.toFixed(1),
      beta: discrete.beta,
      validation: discrete.training.validation,
      code_training: discrete.training.codeTraining,
      test: await measure(discrete),
      table_bytes: model.itemCount * slots * codeBytes + sizes.reduce((sum, size) => sum + size * d * 4, 0) + (config.rotation === 'none' ? 0 : ((slots - 1) * d) ** 2 * 4),
      peak_rss_mib: peakRssMiB(),
    }),
  );
  await discrete.dispose();
}
await model.dispose();
