/**
 * Profiles one SASRec bucket: steady-state step time, time in dropout-mask generation, and
 * onnxruntime's per-node profile (top ops) when `--ort-profile` is given.
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/profile-step.ts [--threads 2]
 */
import { Rng } from '@genrec/core';
import { Graph, Trainer, optimizers } from '../src/index.js';
import { fillDropoutMask } from '../src/train/dropout-mask.js';
import { sasrecTrainGraph, type SasrecShape } from './sasrec-model.js';

const threads = Number(process.argv[process.argv.indexOf('--threads') + 1] ?? 2) || 2;
const P = 1408;
const shape: SasrecShape = { items: 11924, batch: 256, length: 50, hidden: 64, blocks: 2, dropout: 0.2 };
const rng = new Rng(1);
const seq = new BigInt64Array(256 * 50);
const positions = new BigInt64Array(P);
const labels = new BigInt64Array(P);
for (let i = 0; i < seq.length; i++) seq[i] = i % 50 < 20 ? 0n : BigInt(1 + rng.int(11924));
for (let i = 0; i < P; i++) {
  positions[i] = BigInt(Math.floor(i / 30) * 50 + 20 + (i % 30));
  labels[i] = BigInt(rng.int(11924));
}
const g = new Graph({ seed: 1 });
sasrecTrainGraph(g, shape, P);
console.log(`graph: ${g.nodes.length} nodes before autodiff, ${g.parameters.length} parameters, ${g.dropouts.length} dropout sites`);
const trainer = await Trainer.create({ build: (gr) => sasrecTrainGraph(gr, shape, P), optimizer: optimizers.adam({ beta2: 0.98 }), seed: 1, intraOpNumThreads: threads, outputBuffers: process.argv.includes('--preallocated') ? 'preallocated' : 'onnxruntime', ...(process.argv.includes('--ort-profile') ? { profilePrefix: '/tmp/nn-profile' } : {}) });
const times: number[] = [];
for (let s = 0; s < Number(process.env.NN_STEPS ?? 25); s++) {
  const t = performance.now();
  await trainer.step({ seq, positions, labels }, { learningRate: 1e-3 });
  times.push(performance.now() - t);
}
console.log('step ms:', times.map((t) => t.toFixed(0)).join(' '));
const masks = g.dropouts.map((d) => new Float32Array(d.mask.size));
let r = new Rng(3);
const tm = performance.now();
for (let k = 0; k < 5; k++) for (const m of masks) r = fillDropoutMask(r, m, 0.2);
console.log(`dropout masks: ${masks.reduce((a, m) => a + m.length, 0)} values, ${((performance.now() - tm) / 5).toFixed(1)} ms per step`);
const outBytes = [...trainer.parameterValues().values()].reduce((a, v) => a + v.byteLength, 0);
console.log(`parameter bytes ${outBytes} (x3 with Adam state returned per step = ${(3 * outBytes / 2 ** 20).toFixed(1)} MiB)`);
console.log('rss MiB', (process.memoryUsage().rss / 2 ** 20).toFixed(0));
await trainer.release();
if (process.argv.includes('--ort-profile')) {
  const { readdirSync, readFileSync } = await import('node:fs');
  const file = readdirSync('/tmp').filter((f) => f.startsWith('nn-profile-') && f.endsWith('.json')).sort().pop()!;
  const events = JSON.parse(readFileSync(`/tmp/${file}`, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const byOp = new Map<string, number>();
  let total = 0;
  for (const e of events) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) {
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    total += e.dur;
  }
  const runs = events.filter((e) => e.name === 'model_run');
  console.log(`onnxruntime: ${runs.length} runs, kernel time ${(total / runs.length / 1000).toFixed(1)} ms/run, model_run ${(runs.reduce((a, e) => a + e.dur, 0) / runs.length / 1000).toFixed(1)} ms/run`);
  for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${op.padEnd(22)} ${(us / runs.length / 1000).toFixed(1)} ms/run`);
}
