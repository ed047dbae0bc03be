// Times fitResidualKMeans of the BUILT package (dist/, as installed users run it) in a plain
// `node` process, without tsx's loader hooks (which made the same code ~25% slower on this
// machine). Run by `bench/rq-kmeans.ts --built`; needs `pnpm --filter '@genrec/semantic-id...' build`
// (and the built @genrec/core and @genrec/nn). Prints one JSON line.
//   node bench/rq-kmeans-built.mjs DUMP_DIR REPS
import { createMatrix, RawDump } from '@genrec/core';
import { fitResidualKMeans } from '../dist/index.js';

const [dumpDirectory = '/tmp/peer-dumps/rq_kmeans', repsText = '3'] = process.argv.slice(2);
const reps = Number(repsText);
const dump = new RawDump(dumpDirectory);
const rows = [];
for (const name of ['rq_titles', 'rq_synthetic']) {
  const tensor = dump.read(name);
  const vectors = createMatrix(tensor.shape[0], tensor.shape[1], tensor.data);
  const times = [];
  let fit;
  for (let rep = 0; rep < reps; rep++) {
    const started = performance.now();
    fit = await fitResidualKMeans(vectors, { levels: 3, codebookSize: 256, maxIterations: 25, seed: 0 });
    times.push((performance.now() - started) / 1000);
  }
  rows.push({ name: name.replace('rq_', ''), times, relativeError: fit.relativeError, iterationsPerLevel: fit.iterationsPerLevel, skippedFractionPerLevel: fit.skippedFractionPerLevel });
}
console.log(JSON.stringify(rows));
