/**
 * SASRec on Amazon 2014 Toys (or any sequence file) with the `sasrec_ce` peer's settings
 * (`../shared/peers/README.md`, section 1): leave-one-out, 20 epochs by default, no early stopping,
 * then full-ranking test metrics with the history excluded and not, wall time and peak RSS.
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/toys.ts [--epochs 20] [--seed 42] [--threads 2] [--loss ce] [--save DIR] [--validation] [FILE.txt]
 *
 * `--save DIR` keeps the trained model as a model folder (e.g. for model-tiger's throughput
 * benchmark or the service's load test).
 * Prints one progress line per epoch on stderr and one JSON line on stdout.
 */
import { sharedPath } from '@genrec/core';
import { leaveOneOutSplit, readSequenceFile } from '@genrec/data';
import { evaluateRecommender } from '@genrec/eval';
import { fitSasrec, type SasrecLoss } from '../src/index.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const epochs = Number(option('epochs', '20'));
const seed = Number(option('seed', '42'));
const threads = Number(option('threads', '2'));
const loss = option('loss', 'ce') as SasrecLoss;
const saveTo = option('save', '');
// --validation: also evaluate the validation set (all users, history excluded): the validation/test gap
const withValidation = process.argv.includes('--validation');
const file = process.argv.slice(2).find((a) => a.endsWith('.txt')) ?? sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
if (file === undefined) {
  console.error('skipped: the shared data folder (../shared/data/amazon2014-toys) is absent');
  process.exit(0);
}
const log = (line: string) => process.stderr.write(`${line}\n`);

const started = performance.now();
const dataset = await readSequenceFile(file);
// the peer's split: the test history is everything but the last item (the model reads the last 50)
const split = leaveOneOutSplit(dataset);
const loadSeconds = (performance.now() - started) / 1000;
log(`users=${dataset.userCount} items=${dataset.itemCount} test users=${split.test.size} load=${loadSeconds.toFixed(2)}s`);

const fitStarted = performance.now();
const model = await fitSasrec(
  { train: split.train },
  {
    // the peer's settings (also the defaults): d 64, L 50, 2 blocks, 1 head, dropout 0.2, batch 256, lr 1e-3
    epochs,
    seed,
    threads,
    loss,
    earlyStopping: false,
    onProgress: (event) => {
      if (event.type === 'epoch-end') {
        const rss = process.memoryUsage().rss / 2 ** 20;
        log(`epoch ${event.epoch}/${event.epochs} loss ${event.loss.toFixed(4)} (${(event.elapsedMs / 1000).toFixed(1)} s, eta ${(event.etaMs / 1000).toFixed(0)} s, rss ${rss.toFixed(0)} MiB)`);
      }
    },
  },
);
const trainSeconds = (performance.now() - fitStarted) / 1000;

const evaluationStarted = performance.now();
const metrics: Record<string, Record<string, number>> = {};
let validation: Record<string, number> | undefined;
const sets = [...(withValidation ? [['validation', 'validation', true] as const] : []), ['history_excluded', 'test', true] as const, ['history_not_excluded', 'test', false] as const];
for (const [name, set, excludeHistory] of sets) {
  const result = await evaluateRecommender(model, split[set], { ks: [10, 20], excludeHistory, keepPerUser: false });
  const row = Object.fromEntries(['recall@10', 'ndcg@10', 'recall@20', 'ndcg@20'].map((m) => [m, +result.metrics[m]!.toFixed(6)]));
  if (set === 'validation') validation = row;
  else metrics[name] = row;
  log(`${set}, ${excludeHistory ? 'history excluded' : 'history not excluded'}: R@10 ${row['recall@10']} N@10 ${row['ndcg@10']}`);
}
const evaluationSeconds = (performance.now() - evaluationStarted) / 1000;
if (saveTo !== '') {
  await model.save(saveTo);
  log(`saved ${saveTo}`);
}
await model.dispose();

console.log(
  JSON.stringify({
    workload: 'sasrec_ce',
    implementation: '@genrec/model-sasrec',
    data: file,
    config: { ...model.describe().hyperParameters, epochs, seed, threads },
    dataset: { users: dataset.userCount, items: dataset.itemCount, test_users: split.test.size },
    epoch_loss: model.training.losses.map((v) => +v.toFixed(5)),
    train_wall_s: +trainSeconds.toFixed(3),
    eval_s: +evaluationSeconds.toFixed(3),
    ...(validation ? { validation_history_excluded: validation } : {}),
    test: metrics,
    peak_rss_mib: +(process.resourceUsage().maxRSS / 1024).toFixed(0),
  }),
);
