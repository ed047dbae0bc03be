import { CausalTransformerStepModel } from '@genrec/decoder';
import { qualityData } from '@genrec/model-baselines/testing';
import { fitTiger } from '../src/index.js';
import { causalConfig } from '../src/graphs.js';
import { buildContexts } from '../src/sequences.js';
const data = qualityData();
const opts = JSON.parse(process.argv[2] ?? '{}');
const model = await fitTiger(data.fitData, {
  itemVectors: 'collaborative', vectorDimension: 16, levels: 3, codebookSize: 16, modelDimension: 64, heads: 2, feedForwardDimension: 128, layers: 2,
  maxHistory: 10, batchSize: 128, learningRate: 0.01, warmupSteps: 50, schedule: 'constant', beamWidth: 20, workers: 0, threads: 1, epochs: 4, seed: 42, earlyStopping: false,
  ...opts,
});
const set = data.split.test;
const users = 1000;
const batch = { offsets: set.historyOffsets.slice(0, users + 1), items: set.historyItems.slice(0, set.historyOffsets[users]) };
const ctx = buildContexts(batch, Array.from({ length: users }, (_, u) => u), model.codes, model.spec.maxHistory, 'decoder-only');
const step = await CausalTransformerStepModel.create({ spec: causalConfig(model.spec, model.shape), weights: model.parameterMap as Map<string, Float32Array>, workers: 0 });
const W = model.codes.tokensPerItem; const V = model.shape.vocabularySize;
const session = await step.encode({ tokens: ctx.tokens, batchSize: ctx.users.length, length: ctx.length });
const targets = ctx.users.map((u) => model.codes.tokensOf(set.targetItems[u]!)!);
const lastItems = ctx.users.map((u) => model.codes.tokensOf(batch.items[batch.offsets[u + 1]! - 1]!)!);
const n = ctx.users.length; const acc = new Array(W).fill(0); const lp = new Array(W).fill(0); const same = new Array(W).fill(0);
let tokens = new Int32Array(n).fill(1); let parents: Int32Array | null = null;
for (let t = 0; t < W; t++) {
  const logits = await session.step(tokens, parents, 1, t === W - 1);
  for (let i = 0; i < n; i++) {
    let best = -1, bv = -Infinity, max = -Infinity; for (let j = 0; j < V; j++) { const x = logits[i * V + j]!; if (x > bv) { bv = x; best = j; } if (x > max) max = x; }
    let sum = 0; for (let j = 0; j < V; j++) sum += Math.exp(logits[i * V + j]! - max);
    lp[t] += logits[i * V + targets[i]![t]!]! - max - Math.log(sum);
    if (best === targets[i]![t]) acc[t]++;
    if (lastItems[i]![t] === targets[i]![t]) same[t]++;
  }
  tokens = Int32Array.from(targets, (x) => x[t]!); parents = Int32Array.from({ length: n }, (_, i) => i);
}
console.log('per level teacher-forced: top1 acc', acc.map((a) => (a / n).toFixed(3)).join(' '), ' mean logp', lp.map((a) => (a / n).toFixed(3)).join(' '), ' target code == last item code', same.map((a) => (a / n).toFixed(3)).join(' '));
session.dispose(); await step.dispose(); await model.dispose();
