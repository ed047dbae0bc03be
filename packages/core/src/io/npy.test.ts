import { describe, expect, it } from 'vitest';
import { GenrecError } from '../errors.js';
import { decodeNpy, encodeNpy } from './npy.js';
import { createTensor } from './tensor.js';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : `not a GenrecError: ${String(error)}`;
  }
  return undefined;
}

/** A .npy file with this header text (padded as numpy pads it) and these data bytes. */
function npyFile(dict: string, data: Uint8Array, version: [number, number] = [1, 0], encoding: BufferEncoding = 'latin1'): Uint8Array {
  const prefixLength = version[0] === 1 ? 10 : 12;
  const unpadded = prefixLength + Buffer.byteLength(dict, encoding) + 1;
  const header = Buffer.from(dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n', encoding);
  const prefix = Buffer.alloc(prefixLength);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, ...version]).copy(prefix);
  if (version[0] === 1) prefix.writeUInt16LE(header.length, 8);
  else prefix.writeUInt32LE(header.length, 8);
  return new Uint8Array(Buffer.concat([prefix, header, data]));
}

const six = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);

describe('the .npy header is checked against the format specification', () => {
  it('reads (2.9, 3) as an error, not as [2, 3]', () => {
    const bytes = npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2.9, 3), }", six);
    expect(codeOf(() => decodeNpy(bytes))).toBe('PARSE_ERROR');
    expect(() => decodeNpy(bytes)).toThrow(/"2\.9" is not a plain decimal integer/);
    expect(codeOf(() => decodeNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3.0), }", six)))).toBe('PARSE_ERROR');
  });

  it('takes the last of duplicate keys, as numpy does (checked with numpy 2.4: float32 (3,))', () => {
    const bytes = npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'descr': '<f4', 'shape': (3,), }", six.subarray(0, 12));
    const tensor = decodeNpy(bytes);
    expect(tensor.dtype).toBe('float32');
    expect(tensor.shape).toEqual([3]);
    expect(Array.from(tensor.data as Float32Array)).toEqual([1, 2, 3]);
  });

  it('needs exactly the keys descr, fortran_order and shape', () => {
    expect(codeOf(() => decodeNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'extra': 1}", six)))).toBe('PARSE_ERROR');
    expect(codeOf(() => decodeNpy(npyFile("{'descr': '<f4', 'shape': (6,)}", six)))).toBe('PARSE_ERROR');
    expect(codeOf(() => decodeNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 1: 2}", six)))).toBe('PARSE_ERROR');
  });

  it('parses the header as a Python literal, not by pattern matching', () => {
    // a missing comma, a shape list, a bare integer, an int for a bool, trailing garbage
    for (const dict of [
      "{'descr': '<f4' 'fortran_order': False, 'shape': (6,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': [6]}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': 6}",
      "{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} x",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-6,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (True,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (6L,)}",
    ]) {
      expect(codeOf(() => decodeNpy(npyFile(dict, six))), dict).toBe('PARSE_ERROR');
    }
    // what Python's literal syntax allows and numpy writes variants of: comments, newlines, double quotes, no trailing comma
    const tensor = decodeNpy(npyFile('{"descr": \'<f4\',\n "fortran_order": False,  # C order\n "shape": (2, 3)}', six));
    expect(tensor.shape).toEqual([2, 3]);
  });

  it('accepts format versions 1.0, 2.0 and 3.0 only (3.0: UTF-8 header)', () => {
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }";
    expect(decodeNpy(npyFile(dict, six, [2, 0])).shape).toEqual([6]);
    expect(decodeNpy(npyFile(`${dict} # é`, six, [3, 0], 'utf8')).shape).toEqual([6]);
    expect(codeOf(() => decodeNpy(npyFile(dict, six, [1, 1])))).toBe('FORMAT_VERSION');
    expect(codeOf(() => decodeNpy(npyFile(dict, six, [4, 0])))).toBe('FORMAT_VERSION');
    const badUtf8 = npyFile(`${dict} # x`, six, [3, 0]);
    badUtf8[12 + dict.length + 3] = 0xff;
    expect(codeOf(() => decodeNpy(badUtf8))).toBe('PARSE_ERROR');
  });

  it('bounds sizes by the bytes present and dimensions by 2^31 - 1', () => {
    // (0, 2^40) holds no data but would size loops downstream; numpy reads it, genrec refuses it
    expect(codeOf(() => decodeNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1099511627776), }", new Uint8Array())))).toBe('PARSE_ERROR');
    expect(codeOf(() => decodeNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647), }", six)))).toBe('CORRUPT_ARTIFACT');
    expect(codeOf(() => decodeNpy(npyFile(`{'descr': '<f4', 'fortran_order': False, 'shape': (${'1, '.repeat(65)}), }`, six)))).toBe('PARSE_ERROR');
    const long = new Uint8Array(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", six));
    new DataView(long.buffer).setUint16(8, 0xffff, true);
    expect(codeOf(() => decodeNpy(long))).toBe('PARSE_ERROR');
    const huge = npyFile(`{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } #${'x'.repeat(10_000)}`, six, [2, 0]);
    expect(() => decodeNpy(huge)).toThrow(/more than numpy's limit of 10000/);
  });

  it('reads only the descriptors numpy writes for genrec dtypes, in C order', () => {
    expect(decodeNpy(npyFile("{'descr': '<u1', 'fortran_order': False, 'shape': (3,), }", Uint8Array.of(1, 2, 3))).dtype).toBe('uint8');
    for (const descr of ["'>f4'", "'float32'", "'<f2'", "[('a', '<f4')]"]) {
      expect(codeOf(() => decodeNpy(npyFile(`{'descr': ${descr}, 'fortran_order': False, 'shape': (6,), }`, six))), descr).toBe('UNSUPPORTED');
    }
    expect(codeOf(() => decodeNpy(npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", six)))).toBe('UNSUPPORTED');
    expect(codeOf(() => decodeNpy(npyFile("{'descr': 5, 'fortran_order': False, 'shape': (6,), }", six)))).toBe('PARSE_ERROR');
  });

  it('refuses non-finite values on request', () => {
    const bytes = encodeNpy(createTensor(Float32Array.of(1, Number.NaN), [2]));
    expect(Number.isNaN((decodeNpy(bytes).data as Float32Array)[1])).toBe(true);
    expect(() => decodeNpy(bytes, 'x.npy', { requireFinite: true })).toThrow(/non-finite value NaN at flat index 1/);
    expect(codeOf(() => decodeNpy(encodeNpy(createTensor(Float64Array.of(Infinity), [1])), 'x.npy', { requireFinite: true }))).toBe('INVALID_INPUT');
    expect(decodeNpy(encodeNpy(createTensor(Int32Array.of(7), [1])), 'x.npy', { requireFinite: true }).shape).toEqual([1]);
  });

  it('writes format 2.0 when the header does not fit 1.0', () => {
    const shape = new Array(30_000).fill(1);
    const tensor = { dtype: 'float32' as const, shape, data: Float32Array.of(5) };
    const bytes = encodeNpy(tensor);
    expect([bytes[6], bytes[7]]).toEqual([2, 0]);
    expect((12 + new DataView(bytes.buffer).getUint32(8, true)) % 64).toBe(0);
    expect(codeOf(() => encodeNpy({ dtype: 'float32', shape: [2], data: Float32Array.of(1) }))).toBe('SHAPE_MISMATCH');
  });
});
