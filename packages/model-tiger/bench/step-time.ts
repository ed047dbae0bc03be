/**
 * Training step time of the decoder-only model beside the same step in PyTorch
 * (bench/torch_peer.py bench, Debian's python3-torch), run back to back in one window: a
 * Toys-sized model (4 layers, d 128, 4 heads x 32, FFN 512, vocabulary 3 + 3 x 256 + 100),
 * batch 256 (`--batch`) x 83 tokens (a full 20-item window), AdamW, clipping 1, dropout 0.1, random tokens,
 * 2 threads each; 3 warm-up steps, then `--steps` timed. Prints one JSON line with both and the
 * ratio genrec / PyTorch (medians).
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/step-time.ts [--steps 30] [--rounds 2] [--batch 256]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@genrec/core';
import { Trainer, optimizers } from '@genrec/nn';
import { causalConfig, trainGraphBuilder } from '../src/graphs.js';
import { resolveTigerSpec } from '../src/options.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const steps = Number(option('steps', '30'));
const rounds = Number(option('rounds', '2'));
const warmup = 3;
const batchSize = Number(option('batch', '256'));
const spec = resolveTigerSpec({ batchSize, dropout: 0.1, maxHistory: 20, threads: 2 }, { hasItemVectors: true, hasCatalog: false });
const shape = { vocabularySize: 3 + 3 * 256 + 100, tokensPerItem: 4, contextWidth: 4 };
const length = spec.maxHistory * shape.contextWidth + shape.tokensPerItem - 1; // 83

async function genrecStep(): Promise<{ median: number; mean: number }> {
  const trainer = await Trainer.create({
    build: trainGraphBuilder(spec, shape),
    buckets: [length],
    optimizer: optimizers.adamw({ beta1: 0.9, beta2: 0.98, epsilon: 1e-8, weightDecay: 0.01 }),
    clipNorm: 1,
    seed: 1,
    intraOpNumThreads: 2,
  });
  const rng = new Rng(1);
  const tokens = BigInt64Array.from({ length: batchSize * length }, () => BigInt(3 + rng.int(shape.vocabularySize - 3)));
  const labels = BigInt64Array.from({ length: batchSize * length }, () => BigInt(3 + rng.int(shape.vocabularySize - 3)));
  const times: number[] = [];
  for (let step = 0; step < warmup + steps; step++) {
    const started = performance.now();
    await trainer.step({ tokens, labels }, { learningRate: 1e-3, bucket: length });
    if (step >= warmup) times.push(performance.now() - started);
  }
  await trainer.release();
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, mean: times.reduce((a, b) => a + b, 0) / times.length };
}

function torchStep(config: string): { step_ms_median: number; step_ms_mean: number } {
  const script = fileURLToPath(new URL('./torch_peer.py', import.meta.url));
  const result = spawnSync('/usr/bin/python3', [script, 'bench', '--config', config, '--batch-size', String(batchSize), '--length', String(length), '--steps', String(steps), '--warmup', String(warmup), '--threads', '2', '--dropout', '0.1'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!);
}

const folder = mkdtempSync(join(tmpdir(), 'tiger-step-'));
const config = join(folder, 'config.json');
writeFileSync(config, JSON.stringify(causalConfig(spec, shape)));
const results = [];
for (let round = 0; round < rounds; round++) {
  const loadBefore = loadavg()[0]!;
  const torch = torchStep(config);
  const ours = await genrecStep();
  results.push({ round: round + 1, load: +loadBefore.toFixed(1), pytorch_median_ms: +torch.step_ms_median.toFixed(1), pytorch_mean_ms: +torch.step_ms_mean.toFixed(1), genrec_median_ms: +ours.median.toFixed(1), genrec_mean_ms: +ours.mean.toFixed(1), ratio_median: +(ours.median / torch.step_ms_median).toFixed(2) });
  process.stderr.write(`${JSON.stringify(results.at(-1))}\n`);
}
rmSync(folder, { recursive: true, force: true });
console.log(JSON.stringify({ model: 'decoder-only d128 x 4 layers, FFN 512, 4 heads, vocabulary 871', batch: batchSize, length, steps, results }));
