/**
 * Trains a SASRec on Amazon 2014 Toys quickly (the peer's architecture: d 64, 2 blocks, L 50; a
 * few epochs only: the load tests need its compute, not its accuracy) and saves it as a model
 * folder with ASINs as external ids and titles, for `bench/load.ts`.
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/train-toys-sasrec.ts [--epochs 2] [--out /tmp/genrec-serve-bench/sasrec-toys]
 */
import { join } from 'node:path';
import { sharedPath } from '@genrec/core';
import { leaveOneOutSplit, readItemCatalog, readSequenceFile } from '@genrec/data';
import { fitSasrec } from '@genrec/models';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const folder = sharedPath('data', 'amazon2014-toys');
if (folder === undefined) {
  console.error('skipped: the shared data folder (../shared/data/amazon2014-toys) is absent');
  process.exit(0);
}
const epochs = Number(option('epochs', '2'));
const out = option('out', '/tmp/genrec-serve-bench/sasrec-toys');
const started = performance.now();
const dataset = await readSequenceFile(join(folder, 'Toys_and_Games.txt'));
const catalog = await readItemCatalog(join(folder, 'items.jsonl'), { itemCount: dataset.itemCount });
// item ids are the file's verbatim (1..N), which are items.jsonl's item_id: ASINs become the external ids
const externalItemIds = ['', ...Array.from({ length: dataset.itemCount }, (_, j) => String(catalog.records[j + 1]?.fields.asin ?? dataset.externalItemIds?.[j + 1] ?? j + 1))];
const split = leaveOneOutSplit(dataset);
const model = await fitSasrec(
  { train: { ...split.train, externalItemIds }, catalog },
  {
    epochs,
    seed: 42,
    threads: 2,
    earlyStopping: false,
    onProgress: (event) => {
      if (event.type === 'epoch-end') console.error(`epoch ${event.epoch}/${event.epochs} loss ${event.loss.toFixed(4)} (${(event.elapsedMs / 1000).toFixed(1)} s)`);
    },
  },
);
await model.save(out);
await model.dispose();
console.log(JSON.stringify({ out, epochs, users: dataset.userCount, items: dataset.itemCount, seconds: Math.round((performance.now() - started) / 1000) }));
