/**
 * The benchmark data sets: Amazon 2014 Toys (titles and categories as item content) and Sports
 * (S3-Rec attribute ids as item text, since Sports has no titles), split leave-one-out as the
 * `sasrec_ce` peer does (histories not cut; the models read their most recent items).
 */
import { GenrecError, sharedPath, type ItemCatalog } from '@genrec/core';
import { attributeCatalog, leaveOneOutSplit, readItemAttributes, readItemCatalog, readSequenceFile, type InteractionDataset } from '@genrec/data';

/** A benchmark data set with its item content. */
export interface BenchData {
  name: 'toys' | 'sports';
  dataset: InteractionDataset;
  catalog: ItemCatalog;
  /** Catalogue fields embedded as content. */
  contentFields: string[];
}

/** Reads Toys or Sports from `../shared/data`. */
export async function readBenchData(name: string): Promise<BenchData> {
  if (name === 'toys') {
    const file = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
    const items = sharedPath('data', 'amazon2014-toys', 'items.jsonl');
    if (!file || !items) throw new GenrecError('NOT_FOUND', 'the shared Toys data (../shared/data/amazon2014-toys) is absent');
    const dataset = await readSequenceFile(file);
    const catalog = await readItemCatalog(items, { itemCount: dataset.itemCount });
    return { name, dataset, catalog, contentFields: ['title', 'categories'] };
  }
  if (name === 'sports') {
    const file = sharedPath('data', 'amazon2014-sports', 'Sports_and_Outdoors.txt');
    const items = sharedPath('data', 'amazon2014-sports', 'items.tsv');
    if (!file || !items) throw new GenrecError('NOT_FOUND', 'the shared Sports data (../shared/data/amazon2014-sports) is absent');
    const dataset = await readSequenceFile(file);
    const catalog = attributeCatalog(await readItemAttributes(items));
    return { name, dataset, catalog, contentFields: ['attributes'] };
  }
  throw new GenrecError('INVALID_OPTION', `unknown data set "${name}" (toys or sports)`);
}

/** The peer's split. */
export function peerSplit(data: BenchData): ReturnType<typeof leaveOneOutSplit> {
  return leaveOneOutSplit(data.dataset);
}

/** `--name value` from the command line. */
export function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** Peak RSS of this process so far, MiB. */
export function peakRssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** A line on stderr. */
export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}
