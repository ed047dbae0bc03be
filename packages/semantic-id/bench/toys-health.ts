/**
 * Health report of RQ-KMeans semantic ids on Toys titles, with and without balanced assignment:
 * TF-IDF (title) -> randomised SVD 128 -> L2 rows (the `rq_kmeans` peer's title embedding), then
 * 3 levels x 256 codes plus the collision level.
 *
 *   flock /tmp/genrec-bench.lock pnpm --filter @genrec/semantic-id exec tsx --conditions=@genrec/source bench/toys-health.ts
 *   options: --items PATH (default ../shared/data/amazon2014-toys/items.jsonl), --seed N
 */
import { readFileSync } from 'node:fs';
import { sharedPath, type ItemRecord } from '@genrec/core';
import { resolvedBackend, SemanticIds, semanticIdHealth, textEmbeddings, type SemanticIdHealth } from '../src/index.js';

function argument(name: string, fallback: string | undefined): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] !== undefined ? process.argv[index + 1] : fallback;
}

const itemsPath = argument('items', sharedPath('data', 'amazon2014-toys', 'items.jsonl'));
if (!itemsPath) {
  console.error('skipped: no ../shared/data/amazon2014-toys/items.jsonl (pass --items PATH)');
  process.exit(0);
}
const seed = Number(argument('seed', '0'));
const records: ItemRecord[] = readFileSync(itemsPath, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => {
    const record = JSON.parse(line) as { item_id: number; title?: string };
    return { id: record.item_id, ...(record.title === undefined ? {} : { title: record.title }), fields: record };
  });

let started = performance.now();
const embeddings = textEmbeddings(records, { dimension: 128, seed });
const embedSeconds = (performance.now() - started) / 1000;
console.log(`title embeddings ${embeddings.vectors.rows} x ${embeddings.vectors.cols} (TF-IDF vocabulary ${embeddings.vocabularySize}) in ${embedSeconds.toFixed(2)} s; kernels: ${resolvedBackend()}`);

const reports: Record<string, SemanticIdHealth & { seconds: number }> = {};
for (const [name, balance] of [['rq-kmeans', false], ['rq-kmeans balanced', true]] as const) {
  started = performance.now();
  const { ids } = await SemanticIds.fit(embeddings.itemIds, embeddings.vectors, { levels: 3, codebookSize: 256, seed, balance });
  const seconds = (performance.now() - started) / 1000;
  reports[name] = { ...semanticIdHealth(ids, embeddings.vectors), seconds };
}

const format = (values: number[], digits: number): string => values.map((v) => v.toFixed(digits)).join(' / ');
console.log('| method | s | rel. quant. error | utilisation L1/L2/L3 | perplexity L1/L2/L3 | distinct 3-code ids | items sharing 3 codes (before) | after 4th token | largest group = 4th-level size |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const [name, r] of Object.entries(reports)) {
  console.log(
    `| ${name} | ${r.seconds.toFixed(2)} | ${r.relativeQuantizationError.toFixed(4)} | ${format(r.utilisationPerLevel, 3)} | ${format(r.perplexityPerLevel, 1)} | ${r.distinctPrefixes} | ${(100 * r.collisionRateBefore).toFixed(1)}% | ${(100 * r.collisionRateAfter).toFixed(1)}% | ${r.largestCollisionGroup} |`,
  );
}
console.log(JSON.stringify({ benchmark: 'toys-health', items: embeddings.vectors.rows, vocabulary: embeddings.vocabularySize, embedSeconds, reports }));
