/**
 * Trains `model-sasrec` on Toys' training part (its defaults, 2 threads) and saves the folder, for
 * `bench/throughput.ts --sasrec DIR`.
 *
 *   npx tsx --conditions=@genrec/source bench/fit-sasrec-folder.ts DIR [--seed 42]
 */
import { sharedPath } from '@genrec/core';
import { leaveOneOutSplit, readSequenceFile } from '@genrec/data';
import { fitSasrec } from '@genrec/model-sasrec';

const directory = process.argv[2];
const seedAt = process.argv.indexOf('--seed');
const seed = seedAt >= 0 ? Number(process.argv[seedAt + 1]) : 42;
const file = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
if (!file || !directory) {
  console.error(file ? 'usage: fit-sasrec-folder.ts DIR [--seed 42]' : 'skipped: ../shared/data has no amazon2014-toys');
  process.exit(file ? 2 : 0);
}
const split = leaveOneOutSplit(await readSequenceFile(file));
const model = await fitSasrec({ train: split.train }, { seed, threads: 2, earlyStopping: false });
await model.save(directory);
await model.dispose();
console.error(`saved ${directory}`);
