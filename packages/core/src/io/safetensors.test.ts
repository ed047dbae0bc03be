import { describe, expect, it } from 'vitest';
import { GenrecError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { createTensor } from './tensor.js';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : `not a GenrecError: ${String(error)}`;
  }
  return undefined;
}

/** A safetensors file with this header text and `dataLength` bytes of data (values 0, 1, 2…). */
function file(header: string, dataLength: number): Uint8Array {
  const json = Buffer.from(header, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return new Uint8Array(Buffer.concat([prefix, json, Buffer.from(Uint8Array.from({ length: dataLength }, (_, i) => i))]));
}

const u8 = (offsets: string, shape = '[4]') => `{"dtype":"U8","shape":${shape},"data_offsets":${offsets}}`;

describe('safetensors headers are checked against the specification', () => {
  it('reads a valid file with its tensors in header order (integer-like names too)', () => {
    const bytes = new Uint8Array(Buffer.concat(encodeSafetensors(new Map([['10', createTensor(Uint8Array.of(1), [1])], ['2', createTensor(Uint8Array.of(2, 3), [2])]]))));
    const { tensors } = decodeSafetensors(bytes);
    expect([...tensors.keys()]).toEqual(['10', '2']);
    expect(Array.from(tensors.get('2')!.data as Uint8Array)).toEqual([2, 3]);
    const { tensors: two } = decodeSafetensors(file(`{"b":${u8('[4,8]')},"a":${u8('[0,4]')}}`, 8));
    expect(Array.from(two.get('b')!.data as Uint8Array)).toEqual([4, 5, 6, 7]);
  });

  it('needs a JSON object header (a non-object is a PARSE_ERROR, not a TypeError)', () => {
    for (const header of ['null', '[1,2]', '"x"', ' {}', '{"a":null}', '{"a":[1]}', '{"a":5}']) {
      expect(codeOf(() => decodeSafetensors(file(header, 0))), header).toBe('PARSE_ERROR');
    }
    const invalidUtf8 = file('{"a":"xx"}', 0);
    invalidUtf8[14] = 0xff;
    expect(codeOf(() => decodeSafetensors(invalidUtf8))).toBe('PARSE_ERROR');
  });

  it('refuses overlapping offsets, gaps and bytes that belong to no tensor', () => {
    expect(() => decodeSafetensors(file(`{"a":${u8('[0,4]')},"b":${u8('[0,4]')}}`, 4))).toThrow(/overlaps/);
    expect(codeOf(() => decodeSafetensors(file(`{"a":${u8('[0,4]')},"b":${u8('[2,6]')}}`, 6, ))), 'partial overlap').toBe('CORRUPT_ARTIFACT');
    expect(() => decodeSafetensors(file(`{"a":${u8('[4,8]')}}`, 8))).toThrow(/belong to no tensor \(a gap before "a"\)/);
    expect(() => decodeSafetensors(file(`{"a":${u8('[0,4]')}}`, 6))).toThrow(/2 bytes belong to no tensor/);
    expect(codeOf(() => decodeSafetensors(file(`{"a":${u8('[0,4]')}}`, 3)))).toBe('CORRUPT_ARTIFACT');
    expect(codeOf(() => decodeSafetensors(file(`{"a":${u8('[4,0]')}}`, 4)))).toBe('CORRUPT_ARTIFACT');
  });

  it('refuses duplicate tensor names (JSON.parse would keep the last silently)', () => {
    expect(() => decodeSafetensors(file(`{"a":${u8('[0,4]')},"a":${u8('[4,8]')}}`, 8))).toThrow(/repeats the key "a"/);
    expect(codeOf(() => decodeSafetensors(file(`{"a":${u8('[0,4]')},"\\u0061":${u8('[4,8]')}}`, 8)))).toBe('PARSE_ERROR');
    expect(codeOf(() => decodeSafetensors(file('{"__metadata__":{"k":"1","k":"2"}}', 0)))).toBe('PARSE_ERROR');
  });

  it('checks dtype, shape and offsets types against the byte length', () => {
    expect(codeOf(() => decodeSafetensors(file(`{"a":${u8('[0,4]', '[2]')}}`, 4)))).toBe('CORRUPT_ARTIFACT');
    expect(codeOf(() => decodeSafetensors(file(`{"a":${u8('["0",4]')}}`, 4)))).toBe('PARSE_ERROR');
    expect(codeOf(() => decodeSafetensors(file(`{"a":${u8('[0,4]', '[-2,-2]')}}`, 4)))).toBe('PARSE_ERROR');
    expect(codeOf(() => decodeSafetensors(file(`{"a":${u8('[0,4]', '[2.5,1.6]')}}`, 4)))).toBe('PARSE_ERROR');
    expect(codeOf(() => decodeSafetensors(file(`{"a":${u8('[0,0]', '[0,4294967296]')}}`, 0)))).toBe('PARSE_ERROR');
    expect(codeOf(() => decodeSafetensors(file('{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}', 4)))).toBe('UNSUPPORTED');
    expect(codeOf(() => decodeSafetensors(file('{"a":{"dtype":"U8","shape":[4]}}', 4)))).toBe('PARSE_ERROR');
    expect(codeOf(() => decodeSafetensors(file('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4],"x":1}}', 4)))).toBe('PARSE_ERROR');
    // a tensor named __proto__ is an ordinary name
    expect([...decodeSafetensors(file(`{"__proto__":${u8('[0,4]')}}`, 4)).tensors.keys()]).toEqual(['__proto__']);
  });

  it('needs __metadata__ to map strings to strings', () => {
    expect(decodeSafetensors(file('{"__metadata__":{"format":"pt"}}', 0)).metadata).toEqual({ format: 'pt' });
    for (const metadata of ['{"step":3}', '{"a":{"b":"c"}}', '["a"]', 'null', '"x"']) {
      expect(codeOf(() => decodeSafetensors(file(`{"__metadata__":${metadata}}`, 0))), metadata).toBe('PARSE_ERROR');
    }
    const proto = decodeSafetensors(file('{"__metadata__":{"__proto__":"x"}}', 0)).metadata;
    expect(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
  });

  it('bounds the header length', () => {
    const bytes = file('{}', 0);
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(() => decodeSafetensors(bytes)).toThrow(/above the limit of 100000000 bytes/);
    new DataView(bytes.buffer).setBigUint64(0, 3n, true);
    expect(codeOf(() => decodeSafetensors(bytes))).toBe('CORRUPT_ARTIFACT');
  });

  it('refuses non-finite values on request, naming the tensor', () => {
    const bytes = new Uint8Array(Buffer.concat(encodeSafetensors({ ok: createTensor(Float32Array.of(1), [1]), bad: createTensor(Float64Array.of(0, -Infinity), [2]) })));
    expect(decodeSafetensors(bytes).tensors.size).toBe(2);
    expect(() => decodeSafetensors(bytes, 'w.safetensors', { requireFinite: true })).toThrow(/tensor "bad" has a non-finite value -Infinity at flat index 1/);
  });

  it('the encoder refuses inconsistent tensors and non-string metadata', () => {
    expect(codeOf(() => encodeSafetensors({ w: { dtype: 'float32', shape: [3], data: Float32Array.of(1) } }))).toBe('SHAPE_MISMATCH');
    expect(codeOf(() => encodeSafetensors({}, { step: 3 as unknown as string }))).toBe('INVALID_INPUT');
  });
});
