import { Rng } from '@genrec/core';
import { Trainer, optimizers } from '@genrec/nn';
import { trainGraphBuilder } from '../src/graphs.js';
import { resolveTigerSpec } from '../src/options.js';
const dropout = Number(process.argv[2] ?? '0.1');
const batchSize = Number(process.argv[3] ?? '64');
const spec = resolveTigerSpec({ batchSize, dropout, threads: 2 }, { hasItemVectors: true, hasCatalog: false });
const shape = { vocabularySize: 871, tokensPerItem: 4, contextWidth: 4 };
const length = 83;
const trainer = await Trainer.create({ build: trainGraphBuilder(spec, shape), buckets: [length], optimizer: optimizers.adamw({}), clipNorm: 1, seed: 1, intraOpNumThreads: 2 });
const rng = new Rng(1);
const tokens = BigInt64Array.from({ length: batchSize * length }, () => BigInt(3 + rng.int(868)));
const labels = BigInt64Array.from({ length: batchSize * length }, () => BigInt(3 + rng.int(868)));
const times = [];
for (let s = 0; s < 6; s++) { const t = performance.now(); await trainer.step({ tokens, labels }, { learningRate: 1e-3, bucket: length }); times.push(performance.now() - t); }
console.log('dropout', dropout, 'batch', batchSize, 'ms', times.map((t) => t.toFixed(0)).join(' '));
await trainer.release();
