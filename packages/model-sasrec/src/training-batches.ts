import { Rng, WeightedSampler, type RngState, type SequenceDataset } from '@genrec/core';
import type { PaddedSequences } from '@genrec/data';
import type { SasrecLoss } from './options.js';

/** The feeds of one training step and the bucket whose session runs it. */
export interface TrainingBatch {
  feeds: Record<string, BigInt64Array | Float32Array>;
  /** Padded number of scored positions (the shape bucket). */
  bucket: number;
  /** Real scored positions. */
  count: number;
}

/** What {@link BatchBuilder} needs to know. */
export interface BatchBuilderInit {
  rows: PaddedSequences;
  /** The training sequences the rows came from (for BCE's "negative not in the user's sequence"). */
  train: SequenceDataset;
  itemCount: number;
  batchSize: number;
  loss: SasrecLoss;
  negatives: number;
  buckets: readonly number[];
  /** Item weights for sampled softmax (index = item id; 0 unused). */
  sampleWeights?: Float64Array;
  /** Seed of the negative-sampling stream. */
  seed: number;
}

/** The shape buckets: multiples of `step` up to the largest possible count of scored positions. */
export function positionBuckets(batchSize: number, maxLength: number, step: number): number[] {
  const buckets: number[] = [];
  const most = batchSize * maxLength;
  for (let p = step; ; p += step) {
    buckets.push(Math.min(p, most));
    if (p >= most) break;
  }
  return [...new Set(buckets)];
}

/**
 * Builds the training batches of one loss: rows of the padded training sequences in the order of a
 * permutation, consecutive chunks of `batchSize` (the last one partial, padded with empty rows),
 * the scored positions (target != 0) padded up to a bucket. Negatives are drawn from a seeded
 * stream whose state travels with checkpoints.
 */
export class BatchBuilder {
  private sampleRng: Rng;
  private readonly sampler: WeightedSampler | undefined;
  /** log Q(i) = log(negatives · q(i)), index = item id. */
  readonly logQ: Float32Array | undefined;
  private readonly stamp: Int32Array;
  private readonly seq: BigInt64Array;

  constructor(private readonly init: BatchBuilderInit) {
    this.sampleRng = new Rng(BigInt.asUintN(64, BigInt(init.seed) * 0x9e3779b97f4a7c15n + 0x5a5a5a5an));
    this.stamp = new Int32Array(init.itemCount + 1).fill(-1);
    this.seq = new BigInt64Array(init.batchSize * init.rows.maxLength);
    if (init.loss === 'sampled-softmax') {
      const weights = init.sampleWeights!;
      const body = weights.subarray(1);
      this.sampler = new WeightedSampler(body);
      let total = 0;
      for (let i = 1; i < weights.length; i++) total += weights[i]!;
      this.logQ = new Float32Array(init.itemCount + 1);
      for (let i = 1; i <= init.itemCount; i++) this.logQ[i] = Math.log((init.negatives * weights[i]!) / total);
    }
  }

  /** The negative-sampling stream's state (for checkpoints). */
  get samplerState(): RngState {
    return this.sampleRng.getState();
  }

  set samplerState(state: RngState) {
    this.sampleRng = Rng.fromState(state);
  }

  /** Number of steps of one epoch. */
  get stepsPerEpoch(): number {
    return Math.ceil(this.init.rows.rowCount / this.init.batchSize);
  }

  /** The batch of rows `order[from .. from + batchSize)`. */
  build(order: Int32Array, from: number): TrainingBatch {
    const { rows, batchSize, buckets, loss } = this.init;
    const L = rows.maxLength;
    const to = Math.min(order.length, from + batchSize);
    const seq = this.seq;
    seq.fill(0n);
    let count = 0;
    for (let i = from; i < to; i++) {
      const k = order[i]!;
      const base = (i - from) * L;
      for (let t = 0; t < L; t++) {
        const item = rows.inputs[k * L + t]!;
        if (item !== 0) seq[base + t] = BigInt(item);
        if (rows.targets[k * L + t] !== 0) count++;
      }
    }
    const bucket = buckets.find((b) => b >= count)!;
    const positions = new BigInt64Array(bucket);
    const labels = new BigInt64Array(bucket).fill(-100n);
    const targets = loss === 'ce' ? undefined : new BigInt64Array(bucket);
    const negatives = loss === 'bce' ? new BigInt64Array(bucket) : undefined;
    let p = 0;
    for (let i = from; i < to; i++) {
      const k = order[i]!;
      if (negatives) this.markSequence(k);
      for (let t = 0; t < L; t++) {
        const target = rows.targets[k * L + t]!;
        if (target === 0) continue;
        positions[p] = BigInt((i - from) * L + t);
        if (loss === 'ce') labels[p] = BigInt(target - 1);
        else {
          labels[p] = 0n;
          targets![p] = BigInt(target);
          if (negatives) negatives[p] = BigInt(this.negativeFor(k));
        }
        p++;
      }
    }
    // padding rows point at a real item so that gathers stay in range; their labels are ignored
    if (targets) for (let q = p; q < bucket; q++) targets[q] = 1n;
    if (negatives) for (let q = p; q < bucket; q++) negatives[q] = 1n;
    const feeds: TrainingBatch['feeds'] = { seq: seq, positions, labels };
    if (targets) feeds.targets = targets;
    if (negatives) feeds.negatives = negatives;
    if (loss === 'sampled-softmax') {
      const S = this.init.negatives;
      const samples = new BigInt64Array(S);
      const sampleLogQ = new Float32Array(S);
      for (let s = 0; s < S; s++) {
        const item = this.sampler!.sample(this.sampleRng) + 1;
        samples[s] = BigInt(item);
        sampleLogQ[s] = this.logQ![item]!;
      }
      const targetLogQ = new Float32Array(bucket);
      for (let q = 0; q < p; q++) targetLogQ[q] = this.logQ![Number(targets![q])]!;
      feeds.samples = samples;
      feeds.sampleLogQ = sampleLogQ;
      feeds.targetLogQ = targetLogQ;
    }
    return { feeds, bucket, count };
  }

  /** Marks the items of row `k`'s whole training sequence (BCE negatives avoid them). */
  private markSequence(k: number): void {
    const { train, rows } = this.init;
    const row = rows.rows[k]!;
    for (let i = train.offsets[row]!; i < train.offsets[row + 1]!; i++) this.stamp[train.items[i]!] = k;
  }

  /** A uniform item outside row `k`'s sequence (the original SASRec's `random_neq`; 100 tries). */
  private negativeFor(k: number): number {
    const n = this.init.itemCount;
    let item = 1 + this.sampleRng.int(n);
    for (let tries = 0; tries < 100 && this.stamp[item] === k; tries++) item = 1 + this.sampleRng.int(n);
    return item;
  }
}
