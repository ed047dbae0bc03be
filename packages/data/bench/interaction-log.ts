/**
 * Benchmark: stream a generated CSV interaction log (1,000,000 rows by default, string user and
 * item ids, integer timestamps, ratings) through `readInteractionLog` and a MovieLens-style `::`
 * copy through `readMovieLensRatings`. The files are written to the OS temp folder first (not
 * timed). Prints a table and one JSON line. Run: `pnpm bench` in packages/data (after bench/toys.ts).
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@genrec/core';
import { readInteractionLog, readMovieLensRatings } from '../src/index.js';

const rowCount = Number(process.env.BENCH_ROWS ?? 1_000_000);
const directory = mkdtempSync(join(tmpdir(), 'genrec-bench-log-'));
const csvPath = join(directory, 'log.csv');
const datPath = join(directory, 'ratings.dat');

async function writeLines(path: string, header: string | undefined, line: (i: number) => string): Promise<void> {
  const stream = createWriteStream(path);
  if (header) stream.write(`${header}\n`);
  let chunk = '';
  for (let i = 0; i < rowCount; i++) {
    chunk += `${line(i)}\n`;
    if (chunk.length > 1 << 16) {
      if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
      chunk = '';
    }
  }
  stream.write(chunk);
  await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

const rng = new Rng(1);
const users = Int32Array.from({ length: rowCount }, () => 1 + rng.int(Math.max(1, Math.floor(rowCount / 20))));
const items = Int32Array.from({ length: rowCount }, () => 1 + Math.floor(50_000 * rng.uniform() ** 2));
await writeLines(csvPath, 'user_id,item_id,rating,timestamp', (i) => `U${users[i]},"I${items[i]}",${1 + (i % 5)},${1_500_000_000 + i}`);
await writeLines(datPath, undefined, (i) => `${users[i]}::${items[i]}::${1 + (i % 5)}::${1_500_000_000 + i}`);

const rows: { file: string; megabytes: number; ms: number; rowsPerSecond: number; users: number; items: number }[] = [];
for (const [label, path, read] of [
  ['CSV (quoted, string ids)', csvPath, () => readInteractionLog(csvPath)],
  ['MovieLens ::', datPath, () => readMovieLensRatings(datPath)],
] as const) {
  const started = performance.now();
  const dataset = await read();
  const ms = performance.now() - started;
  if (dataset.items.length !== rowCount) throw new Error(`read ${dataset.items.length} rows, expected ${rowCount}`);
  rows.push({ file: label, megabytes: statSync(path).size / 2 ** 20, ms, rowsPerSecond: rowCount / (ms / 1000), users: dataset.userCount, items: dataset.itemCount });
}
rmSync(directory, { recursive: true, force: true });
const peakRssMiB = process.resourceUsage().maxRSS / 1024;

console.log(`interaction logs: ${rowCount.toLocaleString('en-US')} rows, node ${process.version}`);
console.log(`${'file'.padEnd(26)} ${'MiB'.padStart(6)} ${'ms'.padStart(8)} ${'rows/s'.padStart(11)} ${'users'.padStart(8)} ${'items'.padStart(7)}`);
for (const row of rows) {
  console.log(
    `${row.file.padEnd(26)} ${row.megabytes.toFixed(1).padStart(6)} ${row.ms.toFixed(0).padStart(8)} ${Math.round(row.rowsPerSecond).toLocaleString('en-US').padStart(11)} ${String(row.users).padStart(8)} ${String(row.items).padStart(7)}`,
  );
}
console.log(`peak RSS ${peakRssMiB.toFixed(1)} MiB (includes the generated id arrays)`);
console.log(JSON.stringify({ benchmark: 'data/interaction-log-read', node: process.version, rowCount, results: rows.map((row) => ({ ...row, megabytes: Number(row.megabytes.toFixed(2)), ms: Number(row.ms.toFixed(1)), rowsPerSecond: Math.round(row.rowsPerSecond) })), peakRssMiB: Number(peakRssMiB.toFixed(1)) }));
