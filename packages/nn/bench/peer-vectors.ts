/**
 * The `ann_hnsw` peer's vectors as its `--dump-dir` wrote them (manifest-checked by `RawDump`):
 * `random` (100,000 x 64 base, 1,000 queries) or `titles` (11,924 x 128 Toys title vectors, the
 * query rows picked from them). Shared by the benchmarks of this folder.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RawDump, createMatrix, selectRows, type Matrix } from '@genrec/core';

/** Base vectors (one per row) and queries of one peer data set. */
export interface PeerVectors {
  readonly base: Matrix;
  readonly queries: Matrix;
}

/** Reads `which` from the dump folder, or undefined when there is no dump (the caller skips). */
export function readPeerVectors(dumps: string, which: string): PeerVectors | undefined {
  if (!existsSync(join(dumps, 'manifest.json'))) return undefined;
  const dump = new RawDump(dumps);
  const matrix = (name: string): Matrix => {
    const tensor = dump.read(name);
    return createMatrix(tensor.shape[0]!, tensor.shape[1]!, tensor.data as Float32Array);
  };
  const base = matrix(`ann_${which}_base`);
  const queries = which === 'titles' ? selectRows(base, dump.read('ann_titles_query_rows').data as Int32Array) : matrix('ann_random_query');
  return { base, queries };
}
