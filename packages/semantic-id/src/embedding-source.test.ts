import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTensor, GenrecError, writeNpy, writeSafetensors } from '@genrec/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEmbeddings } from './embedding-source.js';

const scratch = mkdtempSync(join(tmpdir(), 'genrec-embedding-ids-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function codeOf(action: () => unknown): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : `not a GenrecError: ${String(error)}`;
  }
  return undefined;
}

const vectors = createTensor(Float32Array.from([1, 2, 3, 4]), [2, 2]);

describe('loadEmbeddings refuses item ids outside [1, 2^31 - 1] instead of wrapping them', () => {
  it('int64 ids tensor: 2^53 would have become item 0, 2^31 item -2^31', async () => {
    for (const bad of [2n ** 53n, 2n ** 31n, 0n, -5n]) {
      const path = join(scratch, `ids-${bad}.safetensors`);
      writeSafetensors(path, { embeddings: vectors, ids: createTensor(BigInt64Array.from([bad, 7n]), [2]) });
      expect(await codeOf(() => loadEmbeddings(path)), String(bad)).toBe('INVALID_INPUT');
    }
    const path = join(scratch, 'ids-ok.safetensors');
    writeSafetensors(path, { embeddings: vectors, ids: createTensor(BigInt64Array.from([2n ** 31n - 1n, 7n]), [2]) });
    expect(Array.from((await loadEmbeddings(path)).itemIds)).toEqual([2 ** 31 - 1, 7]);
  });

  it('JSONL ids and caller-given ids', async () => {
    for (const id of ['9007199254740992', '4294967296', '0', '-1']) {
      const path = join(scratch, `ids-${id}.jsonl`);
      writeFileSync(path, `{"id": 3, "vector": [1, 2]}\n{"id": ${id}, "vector": [3, 4]}\n`);
      await expect(loadEmbeddings(path), id).rejects.toThrow(expect.objectContaining({ code: 'PARSE_ERROR', details: expect.objectContaining({ line: 2, field: 'id' }) }));
    }
    const npy = join(scratch, 'e.npy');
    writeNpy(npy, vectors);
    expect(await codeOf(() => loadEmbeddings({ format: 'npy', path: npy, itemIds: [1, 2 ** 32 + 1] }))).toBe('INVALID_INPUT');
    expect(Array.from((await loadEmbeddings({ format: 'npy', path: npy, itemIds: [9, 4] })).itemIds)).toEqual([9, 4]);
  });
});
