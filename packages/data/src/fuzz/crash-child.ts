/**
 * Crash-class cases of the readers, run in a child process by `readers.crash.test.ts` (through
 * `runCrashCase` of `harness.ts`), so that a V8 fatal error, an uncaught exception outside the
 * returned promise or an out-of-memory kill fails that test instead of killing the test runner.
 * Prints one JSON line ({@link ChildOutcome}) and exits 0 when the reader returned or rejected.
 *
 * Usage: `node --conditions=@genrec/source --import tsx crash-child.ts <case> <argument> <scratch folder>`
 * (the caller creates and removes the scratch folder).
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GenrecError } from '@genrec/core';
import { readInteractionLog, readMovieLensRatings } from '../interaction-log.js';
import { readItemCatalog } from '../item-catalog.js';
import { forEachLine } from '../line-reader.js';
import { readSequenceFile } from '../sequence-file.js';
import type { ChildOutcome } from './harness.js';

const [name, argument = '', scratch] = process.argv.slice(2);
if (scratch === undefined) throw new Error('usage: crash-child.ts <case> <argument> <scratch folder>');
const directory: string = scratch;

async function outcomeOf(read: () => Promise<unknown>, describe: (value: unknown) => unknown = () => undefined): Promise<ChildOutcome> {
  const started = performance.now();
  const finish = (fields: Omit<ChildOutcome, 'ms' | 'peakRssMiB'>): ChildOutcome => ({
    ...fields,
    ms: Math.round(performance.now() - started),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  });
  try {
    const value = await read();
    return finish({ outcome: 'valid', result: describe(value) });
  } catch (error) {
    if (GenrecError.isInstance(error)) {
      return finish({ outcome: 'GenrecError', code: error.code, message: error.message, ...(typeof error.details.line === 'number' ? { line: error.details.line } : {}) });
    }
    return finish({ outcome: 'other', message: String(error) });
  }
}

/** A gzip file whose content is one line of `mebibytes` MiB of 'a' (gzip members repeated: tiny on disk). */
function hugeLineGzip(mebibytes: number): string {
  const member = gzipSync(Buffer.alloc(1 << 20, 'a'.charCodeAt(0)), { level: 9 });
  const path = join(directory, 'huge-line.txt.gz');
  writeFileSync(path, Buffer.concat(Array.from({ length: mebibytes }, () => member)));
  return path;
}

let result: ChildOutcome | ChildOutcome[];
switch (name) {
  case 'catalog-id': {
    // items.jsonl with one record whose verbatim id is `argument`.
    const path = join(directory, 'items.jsonl');
    writeFileSync(path, `{"item_id": ${argument}, "title": "x"}\n`);
    result = await outcomeOf(() => readItemCatalog(path), (value) => ({ itemCount: (value as { itemCount: number }).itemCount }));
    break;
  }
  case 'sequence-ids': {
    // A sequence file with the given (space-separated) ids on one line after user 1.
    const path = join(directory, 'sequences.txt');
    writeFileSync(path, `1 ${argument}\n2 ${argument.split(' ')[0]}\n`);
    result = await outcomeOf(
      () => readSequenceFile(path),
      (value) => {
        const dataset = value as Awaited<ReturnType<typeof readSequenceFile>>;
        return { itemCount: dataset.itemCount, items: Array.from(dataset.items), externalItemIds: dataset.externalItemIds };
      },
    );
    break;
  }
  case 'huge-line': {
    // One line of `argument` MiB, gzip-compressed, through every line reader with default bounds.
    const path = hugeLineGzip(Number(argument));
    result = [];
    result.push(await outcomeOf(() => forEachLine(path, () => {})));
    result.push(await outcomeOf(() => readSequenceFile(path)));
    result.push(await outcomeOf(() => readInteractionLog(path, { header: false })));
    result.push(await outcomeOf(() => readMovieLensRatings(path)));
    result.push(await outcomeOf(() => readItemCatalog(path)));
    break;
  }
  default:
    throw new Error(`unknown crash case ${name}`);
}
console.log(JSON.stringify(result));
