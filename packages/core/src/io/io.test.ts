import { readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError } from '../errors.js';
import { TemporaryFolders } from '../testing/temporary-folders.js';
import { writeFileAtomic } from './atomic-write.js';
import { checkManifest, readManifest, writeManifest } from './manifest.js';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from './npy.js';
import { RawDump } from './raw-dump.js';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from './safetensors.js';
import { createTensor } from './tensor.js';

const folders = new TemporaryFolders();
const temp = (): string => folders.create('genrec-core-');
afterAll(() => folders.removeAll());

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : String(error);
  }
  return undefined;
}

// Written by numpy 2.4 (`np.save`), base64-encoded.
const NUMPY_F32_2x3 =
  'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAQEAAAIBAAACgQAAAyEA=';
const NUMPY_I64_3 =
  'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr//////////wAAAAAAAQAABwAAAAAAAAA=';

describe('npy', () => {
  it('reads files written by numpy', () => {
    const f32 = decodeNpy(new Uint8Array(Buffer.from(NUMPY_F32_2x3, 'base64')));
    expect(f32.dtype).toBe('float32');
    expect(f32.shape).toEqual([2, 3]);
    expect(Array.from(f32.data as Float32Array)).toEqual([1.5, -2, 3, 4, 5, 6.25]);
    const i64 = decodeNpy(new Uint8Array(Buffer.from(NUMPY_I64_3, 'base64')));
    expect(i64.dtype).toBe('int64');
    expect(Array.from(i64.data as BigInt64Array)).toEqual([-1n, 2n ** 40n, 7n]);
  });

  it('writes byte-identical files to numpy', () => {
    const f32 = createTensor(new Float32Array([1.5, -2, 3, 4, 5, 6.25]), [2, 3]);
    expect(Buffer.from(encodeNpy(f32)).toString('base64')).toBe(NUMPY_F32_2x3);
    const i64 = createTensor(new BigInt64Array([-1n, 2n ** 40n, 7n]), [3]);
    expect(Buffer.from(encodeNpy(i64)).toString('base64')).toBe(NUMPY_I64_3);
  });

  it('round-trips every dtype through a file', () => {
    const dir = temp();
    const tensors = [
      createTensor(new Float64Array([0.1, -2e300]), [2, 1]),
      createTensor(new Int32Array([-5, 6, 7]), [3]),
      createTensor(new Uint8Array([0, 255]), [2]),
      createTensor(new Float32Array([]), [0, 4]),
    ];
    tensors.forEach((tensor, i) => {
      const path = join(dir, `t${i}.npy`);
      writeNpy(path, tensor);
      const back = readNpy(path);
      expect(back.dtype).toBe(tensor.dtype);
      expect(back.shape).toEqual(tensor.shape);
      expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(tensor.data as ArrayLike<number>));
    });
  });

  it('rejects malformed and truncated files clearly', () => {
    expect(errorCode(() => decodeNpy(new Uint8Array([1, 2, 3])))).toBe('PARSE_ERROR');
    const bytes = new Uint8Array(Buffer.from(NUMPY_F32_2x3, 'base64'));
    expect(errorCode(() => decodeNpy(bytes.subarray(0, bytes.length - 4)))).toBe('CORRUPT_ARTIFACT');
    expect(errorCode(() => readNpy('/nonexistent/file.npy'))).toBe('NOT_FOUND');
  });
});

describe('safetensors', () => {
  it('encodes the documented layout: u64 header length, JSON header, aligned data', () => {
    const chunks = encodeSafetensors({ w: createTensor(new Float32Array([1, 2]), [1, 2]) }, { format: 'pt' });
    const bytes = Buffer.concat(chunks);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect((8 + headerLength) % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
    expect(header).toEqual({ __metadata__: { format: 'pt' }, w: { dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] } });
    expect(bytes.readFloatLE(8 + headerLength + 4)).toBe(2);
  });

  it('round-trips several tensors and metadata through a file', () => {
    const path = join(temp(), 'model.safetensors');
    writeSafetensors(
      path,
      new Map([
        ['embedding.weight', createTensor(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2])],
        ['step', createTensor(new BigInt64Array([42n]), [])],
        ['flags', createTensor(new Uint8Array([1, 0, 1]), [3])],
      ]),
      { epoch: '3' },
    );
    const { tensors, metadata } = readSafetensors(path);
    expect(metadata).toEqual({ epoch: '3' });
    expect([...tensors.keys()]).toEqual(['embedding.weight', 'step', 'flags']);
    expect(tensors.get('embedding.weight')!.shape).toEqual([3, 2]);
    expect(Array.from(tensors.get('embedding.weight')!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((tensors.get('step')!.data as BigInt64Array)[0]).toBe(42n);
  });

  it('rejects truncated files and inconsistent offsets', () => {
    const bytes = new Uint8Array(Buffer.concat(encodeSafetensors({ w: createTensor(new Float32Array([1, 2, 3]), [3]) })));
    expect(errorCode(() => decodeSafetensors(bytes.subarray(0, bytes.length - 1)))).toBe('CORRUPT_ARTIFACT');
    expect(errorCode(() => decodeSafetensors(bytes.subarray(0, 4)))).toBe('PARSE_ERROR');
  });
});

describe('atomic writes and manifests', () => {
  it('replaces a file atomically and leaves no temporary files', () => {
    const dir = temp();
    const path = join(dir, 'a.json');
    writeFileAtomic(path, 'one');
    writeFileAtomic(path, ['t', 'wo']);
    expect(readFileSync(path, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('a failed write leaves the previous file intact', () => {
    const dir = temp();
    const path = join(dir, 'a.txt');
    writeFileAtomic(path, 'old');
    // the second chunk fails while being written: the write stops half-way through
    const failing = {
      get byteLength(): number {
        throw new Error('device lost');
      },
    } as unknown as Uint8Array;
    expect(errorCode(() => writeFileAtomic(path, ['new', failing]))).toBe('IO_ERROR');
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['a.txt']);
    const blocker = join(dir, 'file-not-folder');
    writeFileSync(blocker, 'x');
    expect(errorCode(() => writeFileAtomic(join(blocker, 'child.txt'), 'new'))).toBe('IO_ERROR');
  });

  it('checks kind and format version', () => {
    const path = join(temp(), 'manifest.json');
    writeManifest(path, { kind: 'genrec.test', formatVersion: 2, extra: 1 });
    expect(readManifest(path, 'genrec.test', [1, 2]).extra).toBe(1);
    expect(() => readManifest(path, 'genrec.test', [1])).toThrowError(/format version 2 is not supported/);
    expect(errorCode(() => readManifest(path, 'genrec.other', [2]))).toBe('FORMAT_VERSION');
    expect(errorCode(() => checkManifest(null, 'x', [1], 'mem'))).toBe('CORRUPT_ARTIFACT');
  });
});

describe('RawDump', () => {
  it('reads the peers dump format and checks sizes', () => {
    const dir = temp();
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({ base: { dtype: 'float32', shape: [2, 2] }, ids: { dtype: 'int64', shape: [3] }, _meta: { seed: 1 } }),
    );
    writeFileSync(join(dir, 'base.bin'), Buffer.from(new Float32Array([1, 2, 3, 4]).buffer));
    writeFileSync(join(dir, 'ids.bin'), Buffer.from(new BigInt64Array([5n, 6n]).buffer)); // one short
    const dump = new RawDump(dir);
    expect(dump.names()).toEqual(['base', 'ids']);
    expect(dump.meta).toEqual({ seed: 1 });
    expect(Array.from(dump.read('base').data as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(errorCode(() => dump.read('ids'))).toBe('CORRUPT_ARTIFACT');
    expect(errorCode(() => dump.read('missing'))).toBe('UNKNOWN_ID');
    expect(existsSync(join(dir, 'base.bin'))).toBe(true);
  });
});
