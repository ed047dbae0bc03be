/**
 * SETRec's CF source, trained apart: SASRec with the `sasrec_ce` peer's settings (d 64, 2 blocks,
 * 20 epochs, full softmax, no early stopping) on the leave-one-out training split, saved as a model
 * folder, with its own test metrics (history excluded) through `evaluateRecommender`, wall time and
 * peak RSS. `bench/toys.ts` loads the folder.
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/pretrain-sasrec.ts --data toys --seed 42 --out /tmp/genrec-setrec-bench/sasrec-toys-42
 */
import { evaluateRecommender } from '@genrec/eval';
import { fitSasrec } from '@genrec/model-sasrec';
import { log, option, peakRssMiB, peerSplit, readBenchData } from './data.js';

const name = option('data', 'toys');
const seed = Number(option('seed', '42'));
const threads = Number(option('threads', '2'));
const epochs = Number(option('epochs', '20'));
const out = option('out', `/tmp/genrec-setrec-bench/sasrec-${name}-${seed}`);
const data = await readBenchData(name);
const split = peerSplit(data);
const started = performance.now();
const model = await fitSasrec(
  { train: split.train },
  {
    epochs,
    seed,
    threads,
    earlyStopping: false,
    onProgress: (event) => event.type === 'epoch-end' && log(`sasrec epoch ${event.epoch}/${event.epochs} loss ${event.loss.toFixed(4)} (${(event.elapsedMs / 1000).toFixed(0)} s)`),
  },
);
const trainSeconds = (performance.now() - started) / 1000;
await model.save(out);
const evaluationStarted = performance.now();
const result = await evaluateRecommender(model, split.test, { ks: [10, 20], keepPerUser: false });
const evaluationSeconds = (performance.now() - evaluationStarted) / 1000;
await model.dispose();
console.log(
  JSON.stringify({
    stage: 'sasrec-pretraining',
    data: name,
    seed,
    epochs,
    folder: out,
    train_wall_s: +trainSeconds.toFixed(1),
    test_history_excluded: Object.fromEntries(['recall@10', 'ndcg@10', 'recall@20', 'ndcg@20'].map((m) => [m, +result.metrics[m]!.toFixed(4)])),
    eval_s: +evaluationSeconds.toFixed(1),
    users_per_s: Math.round(split.test.size / evaluationSeconds),
    peak_rss_mib: peakRssMiB(),
  }),
);
