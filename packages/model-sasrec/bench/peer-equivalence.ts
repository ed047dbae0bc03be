/**
 * Equivalence check against the PyTorch peer (`../shared/peers/sasrec_ce.py`), TypeScript half.
 * `bench/peer_equivalence.py` is the other half and does the comparing.
 *
 * Training (`--mode train`): leave-one-out split of a sequence file (Toys by default), the training
 * rows of `fitSasrec` (`@genrec/data`'s padded sequences), the first epoch's batch order, and
 * exactly `fitSasrec`'s batch builder, graph builder, trainer and Adam, with `--dropout` (default
 * 0, so that both sides are deterministic) for `--steps` Adam steps. Writes to `--out`: the rows
 * and the order (`int32`), the initial parameters and those after each step in `--dump` (raw
 * little-endian `float32`, PyTorch's `[out, in]` layout, `@genrec/nn` names), and `manifest.json`
 * with the per-step losses and global gradient norms. With `--dropout 0.2 --masks true` it also
 * writes each step's dropout masks (`uint8`, 1 = kept; the trainer's generator replayed, sites in
 * graph order: embeddings, then per block attention weights, FFN hidden, FFN output), which the
 * Python half feeds to the peer's dropout calls in the same order.
 *
 * Evaluation (`--mode eval --model DIR`): loads a saved model folder and writes the per-user test
 * Recall@10 / NDCG@10 of `@genrec/eval`'s `evaluateRecommender` (history excluded and not) next to
 * the folder's weights, for the Python half to rank the same users with the peer's `evaluate`.
 *
 *   cd packages/model-sasrec
 *   npx tsx --conditions=@genrec/source bench/peer-equivalence.ts --mode train --out /tmp/sasrec-equivalence [--steps 20] [--dump 0,1,2,5,20] [--seed 42] [--dropout 0] [--threads 1] [FILE.txt]
 *   /usr/bin/python3 bench/peer_equivalence.py train /tmp/sasrec-equivalence
 *   # cross-over (long: a full peer training): the peer from fitSasrec's initial weights and batch orders, its own dropout
 *   npx tsx --conditions=@genrec/source bench/peer-equivalence.ts --mode train --out /tmp/sasrec-crossover --steps 0 --dump 0 --epochs 20 --seed 42
 *   /usr/bin/python3 bench/peer_equivalence.py full /tmp/sasrec-crossover [--dropout 0.2] [--epochs 20]
 *   npx tsx --conditions=@genrec/source bench/peer-equivalence.ts --mode eval --model runs/sasrec --out /tmp/sasrec-equivalence-eval [FILE.txt]
 *   /usr/bin/python3 bench/peer_equivalence.py eval /tmp/sasrec-equivalence-eval
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, sharedPath } from '@genrec/core';
import { leaveOneOutSplit, paddedTrainingSequences, readSequenceFile } from '@genrec/data';
import { evaluateRecommender } from '@genrec/eval';
import { Graph, Trainer } from '@genrec/nn';
// diagnostic only: the trainer's dropout-mask generator, to replay its masks in PyTorch (--masks)
import { fillDropoutMask } from '../../nn/src/train/dropout-mask.js';
import { ADAM, trainGraphBuilder } from '../src/fit-sasrec.js';
import { loadSasrec } from '../src/load-sasrec.js';
import { resolveSasrecSpec } from '../src/options.js';
import { architectureOf } from '../src/sasrec-model.js';
import { BatchBuilder, positionBuckets } from '../src/training-batches.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const mode = option('mode', 'train');
const out = option('out', '/tmp/sasrec-equivalence');
const file = process.argv.slice(2).find((a) => a.endsWith('.txt')) ?? sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
if (file === undefined) {
  console.error('skipped: the shared data folder (../shared/data/amazon2014-toys) is absent');
  process.exit(0);
}
const log = (line: string) => process.stderr.write(`${line}\n`);
const raw = (a: Float32Array | Int32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
mkdirSync(out, { recursive: true });

const dataset = await readSequenceFile(file);
const split = leaveOneOutSplit(dataset);

if (mode === 'train') {
  const steps = Number(option('steps', '20'));
  const dump = new Set(option('dump', '0,1,2,5,20').split(',').map(Number));
  const seed = Number(option('seed', '42'));
  const threads = Number(option('threads', '1'));
  const spec = resolveSasrecSpec({ seed, threads, dropout: Number(option('dropout', '0')) });
  const itemCount = split.train.itemCount;
  const architecture = architectureOf(spec, itemCount);
  const rows = paddedTrainingSequences(split.train, { maxLength: spec.maxLength });
  const buckets = positionBuckets(spec.batchSize, spec.maxLength, spec.positionBucket);
  const builder = new BatchBuilder({ rows, train: split.train, itemCount, batchSize: spec.batchSize, loss: spec.loss, negatives: spec.negatives, buckets, seed });
  const trainer = await Trainer.create({ build: trainGraphBuilder(architecture, spec), buckets, bucketShapes: 'symbolic', optimizer: ADAM, seed, intraOpNumThreads: threads });
  // fitSasrec's batch orders: one permutation per epoch from Rng(seed); --epochs E writes E of them
  // (orders.i32, for the Python half's `full` mode), the steps below use the first
  const orderRng = new Rng(seed);
  const order = orderRng.permutation(rows.rowCount);
  const epochs = Number(option('epochs', '1'));
  const orders = new Int32Array(epochs * rows.rowCount);
  orders.set(order);
  for (let e = 1; e < epochs; e++) orders.set(orderRng.permutation(rows.rowCount), e * rows.rowCount);
  writeFileSync(join(out, 'orders.i32'), raw(orders));
  // the dropout sites of the training graph (order and shapes) and a replay of the trainer's mask stream
  const withMasks = option('masks', 'false') === 'true' && spec.dropout > 0;
  const probe = new Graph({ seed, training: true });
  trainGraphBuilder(architecture, spec)(probe, buckets[0]!);
  const sites = probe.dropouts.map((d) => ({ name: d.mask.name, rate: d.rate, shape: d.mask.shape as number[] }));
  let maskRng = new Rng(BigInt.asUintN(64, BigInt(seed) ^ 0x9e3779b97f4a7c15n)); // as Trainer's constructor
  writeFileSync(join(out, 'inputs.i32'), raw(rows.inputs));
  writeFileSync(join(out, 'targets.i32'), raw(rows.targets));
  writeFileSync(join(out, 'order.i32'), raw(order));
  const shapes: Record<string, number[]> = {};
  const save = (step: number) => {
    mkdirSync(join(out, `step${step}`), { recursive: true });
    for (const [name, value] of trainer.parameterValues()) writeFileSync(join(out, `step${step}`, `${name}.f32`), raw(value as Float32Array));
  };
  for (const [name, value] of trainer.parameterValues()) shapes[name] = [value.length];
  if (dump.has(0)) save(0);
  const losses: number[] = [];
  const gradientNorms: number[] = [];
  for (let s = 0; s < steps; s++) {
    const from = (s * spec.batchSize) % rows.rowCount;
    const batch = builder.build(order, from);
    if (withMasks) {
      const parts: Buffer[] = [];
      for (const site of sites) {
        const mask = new Float32Array(site.shape.reduce((x, y) => x * y, 1));
        maskRng = fillDropoutMask(maskRng, mask, site.rate);
        parts.push(Buffer.from(Uint8Array.from(mask, (v) => (v === 0 ? 0 : 1))));
      }
      writeFileSync(join(out, `masks${s + 1}.u8`), Buffer.concat(parts));
    }
    const result = await trainer.step(batch.feeds, { learningRate: spec.learningRate, bucket: batch.bucket });
    losses.push(result.loss);
    gradientNorms.push(result.gradientNorm);
    log(`step ${s + 1}: loss ${result.loss.toFixed(6)} gradient norm ${result.gradientNorm.toFixed(6)} (${batch.count} positions)`);
    if (dump.has(s + 1)) save(s + 1);
  }
  await trainer.release();
  writeFileSync(
    join(out, 'manifest.json'),
    JSON.stringify({ data: file, itemCount, rowCount: rows.rowCount, maxLength: spec.maxLength, batchSize: spec.batchSize, learningRate: spec.learningRate, dropout: spec.dropout, seed, threads, steps, epochs, masks: withMasks ? sites : null, dumped: [...dump].filter((s) => s <= steps), losses, gradientNorms, sizes: shapes }, null, 1),
  );
} else if (mode === 'eval') {
  const directory = option('model', '');
  const model = await loadSasrec(directory, { threads: Number(option('threads', '2')) });
  const metrics: Record<string, Record<string, number>> = {};
  for (const [name, excludeHistory] of [['history_masked', true], ['unmasked', false]] as const) {
    const result = await evaluateRecommender(model, split.test, { ks: [10, 20], excludeHistory, keepPerUser: true });
    metrics[name] = Object.fromEntries(['recall@10', 'ndcg@10', 'recall@20', 'ndcg@20'].map((m) => [m, result.metrics[m]!]));
    for (const m of ['recall@10', 'ndcg@10']) writeFileSync(join(out, `${name}.${m}.f64`), raw(result.perUser![m]!));
    log(`${name}: ${JSON.stringify(metrics[name])}`);
  }
  // the users in evaluation order (rows of the sequence file) and the weights
  writeFileSync(join(out, 'rows.i32'), raw(split.test.rows));
  const weights = model.parameterValues();
  mkdirSync(join(out, 'weights'), { recursive: true });
  for (const [name, value] of weights) writeFileSync(join(out, 'weights', `${name}.f32`), raw(value));
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ data: file, model: directory, itemCount: model.itemCount, users: split.test.size, metrics }, null, 1));
  await model.dispose();
} else {
  console.error(`unknown --mode ${mode} (train or eval)`);
  process.exit(1);
}
