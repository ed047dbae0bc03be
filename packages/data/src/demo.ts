/**
 * The main job until the pipeline exists (`pnpm start` at the repository root): generate the
 * synthetic default dataset, split it leave-one-out and print its statistics and split sizes.
 * Not exported from the package (it prints when imported).
 *
 * @module
 */
import { formatSplitSummary } from './split-summary.js';
import { leaveOneOutSplit, summarizeSplit } from './splits.js';
import { datasetStatistics, formatStatistics } from './statistics.js';
import { generateSyntheticDataset } from './synthetic.js';
import { paddedTrainingSequences } from './training-examples.js';

const started = performance.now();
const synthetic = generateSyntheticDataset();
const generated = performance.now();
const split = leaveOneOutSplit(synthetic.dataset, { maxHistoryLength: 50 });
const rows = paddedTrainingSequences(split.train, { maxLength: 50 });
const finished = performance.now();
const options = synthetic.options;
const summary = summarizeSplit(split);
const format = (value: number): string => value.toLocaleString('en-US');

console.log('genrec: synthetic default dataset');
console.log(
  `  seed ${options.seed}; ${options.topicCount} topics x ${options.subtopicsPerTopic} subtopics; ` +
    `transition probability ${options.transitionProbability}; Zipf exponent ${options.popularityExponent}`,
);
console.log(`  generated in ${(generated - started).toFixed(1)} ms, split in ${(finished - generated).toFixed(1)} ms`);
console.log('');
console.log('statistics');
console.log(
  formatStatistics(datasetStatistics(synthetic.dataset))
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n'),
);
console.log('');
console.log('leave-one-out split (last item = test, second-last = validation)');
console.log(
  formatSplitSummary(summary)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n'),
);
console.log(`  padded training rows (L = 50): ${format(rows.rowCount)} rows, ${format(rows.targetCount)} targets`);
console.log('');
const example = synthetic.catalog.records[synthetic.dataset.items[0]!];
if (example) console.log(`first interaction: item ${example.id} "${example.title}" in ${example.categories?.[0]?.join(' > ')}`);
