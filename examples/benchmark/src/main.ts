// `pnpm --filter @genrec-example/benchmark start <data folder> [--models markov,item-knn,sasrec,setrec,tiger] [--seeds 42,1,2] [--out folder]`
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MODELS, runBenchmark } from './benchmark.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { models: { type: 'string' }, seeds: { type: 'string' }, out: { type: 'string' }, epochs: { type: 'string' } },
});
const data = positionals[0];
if (data === undefined) {
  console.error('usage: benchmark <data folder> [--models markov,item-knn,sasrec,setrec,tiger] [--seeds 42,1,2] [--epochs N] [--out folder]');
  process.exit(2);
}
const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort(new Error('interrupted (Ctrl-C)'));
});
const result = await runBenchmark({
  data,
  out: values.out ?? join(import.meta.dirname, '..', 'out'),
  models: values.models === undefined ? DEFAULT_MODELS : values.models.split(','),
  ...(values.seeds === undefined ? {} : { seeds: values.seeds.split(',').map(Number) }),
  ...(values.epochs === undefined ? {} : { epochs: Number(values.epochs) }),
  signal: controller.signal,
});
process.exitCode = result.exitCode;
