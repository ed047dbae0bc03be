import { Trainer, optimizers, CompiledGraph, Graph } from '@genrec/nn';
import { buildTrainingGraph, buildQueryGraph, type SetrecArchitecture } from '../src/setrec-graph.js';
for (const backbone of ['query-decoder', 'causal'] as const) {
const a: SetrecArchitecture = { itemCount: 50, cfDimension: 8, contentDimension: 12, semanticTokens: 2, hiddenSize: 8, autoencoderHidden: [16, 16], backbone, layers: 1, decoderLayers: 1, heads: 2, feedForwardSize: 16, maxLength: 6, dropout: 0.1, alpha: 0.7 };
const rows = 4, length = 4;
const t0 = performance.now();
const trainer = await Trainer.create({ build: (g) => buildTrainingGraph(g, a, rows, length), optimizer: optimizers.adam(), seed: 1 });
console.log('compiled', performance.now() - t0);
const cf = new Float32Array(50 * 8).map((_, i) => Math.sin(i));
const content = new Float32Array(50 * 12).map((_, i) => Math.cos(i * 0.7));
const seq = new BigInt64Array([0n, 0n, 3n, 4n, 1n, 2n, 3n, 4n, 0n, 0n, 0n, 9n, 5n, 6n, 7n, 8n]);
const labels = new BigInt64Array([-100n, -100n, 3n, 4n, 1n, 2n, 3n, 4n, -100n, -100n, -100n, 10n, 5n, 6n, 7n, 8n]);
const bias = new Float32Array(50);
for (let i = 0; i < 30; i++) { const r = await trainer.step({ seq, labels, 'item.cf': cf, 'item.content': content, 'item.bias': bias }, { learningRate: 0.01 }); if (i % 10 === 0) console.log(backbone, i, r.loss); }
const g = new Graph({ training: false });
const { queries } = buildQueryGraph(g, a, 2, 4);
const compiled = await CompiledGraph.create(g, { outputs: [queries], outputNames: ['queries'], parameters: 'inputs' });
const feeds: Record<string, any> = { seq: seq.slice(0, 8), 'item.cf': cf, 'item.content': content };
for (const [k, v] of trainer.parameterValues()) feeds[k] = v;
const out = await compiled.run(feeds);
console.log(backbone, Array.from(out.queries!.slice(0, 6) as Float32Array));
}
