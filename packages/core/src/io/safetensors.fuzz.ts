// Fuzz module for the safetensors reader, run in a child process by formats.fuzz.test.ts.
// Inputs: valid files mutated byte-wise, and files whose JSON header is built from pieces (valid
// entries, overlapping/gapped/huge offsets, duplicate names, bad metadata, non-object headers,
// wrong shapes and dtypes, wrong header and data lengths). Every input must give a GenrecError or
// tensors that pass the invariants.
import fc from 'fast-check';
import { FuzzOutcomes, mutateBytes, type FuzzReport } from '../testing/fuzz.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { MAX_STORED_DIMENSION } from './stored-shape.js';
import { bytesOf, createTensor, shapeSize } from './tensor.js';

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`invariant broken: ${message}`);
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((part) => Buffer.from(part.buffer, part.byteOffset, part.byteLength))));
}

function validFiles(): Uint8Array[] {
  return [
    concat(encodeSafetensors({ w: createTensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]) })),
    concat(
      encodeSafetensors(
        new Map([
          ['embedding.weight', createTensor(new Float64Array([0.5, -1, 2, 3]), [2, 2])],
          ['step', createTensor(new BigInt64Array([42n]), [])],
          ['flags', createTensor(new Uint8Array([1, 0, 1]), [3])],
          ['ids', createTensor(new Int32Array([7, 8]), [2])],
          ['empty', createTensor(new Float32Array([]), [0, 5])],
        ]),
        { kind: 'genrec-nn-checkpoint', formatVersion: '1', step: '5' },
      ),
    ),
    concat(encodeSafetensors({ '10': createTensor(new Uint8Array([1]), [1]), '2': createTensor(new Uint8Array([2, 3]), [2]) })),
  ];
}

const SIZE: Record<string, number> = { F32: 4, F64: 8, I32: 4, I64: 8, U8: 1, F16: 2, BOOL: 1, BF16: 2 };

const tensorSpec = fc.record({
  name: fc.constantFrom('w', 'b', 'embedding.weight', '0', '10', '__proto__', 'a"b', '', 'é'),
  dtype: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('F32', 'F64', 'I32', 'I64', 'U8') }, { weight: 1, arbitrary: fc.constantFrom('F16', 'BOOL', 'BF16', 'XX', 'f32') }),
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
});

const SHAPE_EDITS = ['[-1]', '[1.5, 2]', '["2"]', '[2147483648]', '[4294967296, 4294967296]', '[9007199254740993]', `[${new Array(65).fill(1).join(',')}]`, '2', 'null', '[1e400]'];
const OFFSET_EDITS = ['[0]', '[0, 1, 2]', '[-1, 3]', '["0", 8]', '[0, 1e400]', '[0, 9007199254740993]', '[4, 0]', '[0.5, 4.5]', 'null', '{}'];

const generatedFile = fc
  .record({
    tensors: fc.array(tensorSpec, { minLength: 0, maxLength: 4 }),
    metadata: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('none', 'valid', 'proto') }, { weight: 1, arbitrary: fc.constantFrom('number', 'nested', 'array', 'null', 'duplicate') }),
    edit: fc.oneof(
      { weight: 6, arbitrary: fc.constant('none') },
      {
        weight: 6,
        arbitrary: fc.constantFrom('overlap', 'gap', 'swap', 'shrink', 'duplicate-name', 'extra-field', 'missing-field', 'shape', 'offsets', 'non-object', 'array-header', 'leading-space', 'bom', 'not-json', 'nested-deep'),
      },
    ),
    pick: fc.nat(),
    headerLengthDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -9, max: 9 }) }, { weight: 1, arbitrary: fc.constantFrom(2 ** 32, 2 ** 53, 100_000_001) }),
    dataDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: -9, max: 9 }) }),
    padding: fc.constantFrom('', ' ', '  \n\t'),
  })
  .map((c) => {
    const entries: string[] = [];
    if (c.metadata === 'valid') entries.push('"__metadata__":{"format":"pt","step":"3"}');
    if (c.metadata === 'number') entries.push('"__metadata__":{"step":3}');
    if (c.metadata === 'nested') entries.push('"__metadata__":{"a":{"b":"c"}}');
    if (c.metadata === 'array') entries.push('"__metadata__":["a"]');
    if (c.metadata === 'null') entries.push('"__metadata__":null');
    if (c.metadata === 'duplicate') entries.push('"__metadata__":{"a":"1","a":"2"}');
    if (c.metadata === 'proto') entries.push('"__metadata__":{"__proto__":"x","b":"y"}');
    let offset = 0;
    const spans: [number, number][] = [];
    const names = new Set<string>();
    for (const tensor of c.tensors) {
      if (names.has(tensor.name) && c.edit !== 'duplicate-name') continue;
      names.add(tensor.name);
      const size = tensor.shape.reduce((product, d) => product * d, 1) * (SIZE[tensor.dtype] ?? 4);
      spans.push([offset, offset + size]);
      offset += size;
    }
    const kept = c.tensors.filter((tensor, i, all) => c.edit === 'duplicate-name' || all.findIndex((other) => other.name === tensor.name) === i);
    const target = kept.length === 0 ? -1 : c.pick % kept.length;
    if (c.edit === 'overlap' && spans.length > 1) spans[spans.length - 1] = [spans[0]![0], spans[0]![0] + spans[spans.length - 1]![1] - spans[spans.length - 1]![0]];
    if (c.edit === 'gap' && target >= 0) for (let i = target; i < spans.length; i++) spans[i] = [spans[i]![0] + 4, spans[i]![1] + 4];
    if (c.edit === 'swap' && spans.length > 1) [spans[0], spans[1]] = [spans[1]!, spans[0]!];
    if (c.edit === 'shrink' && target >= 0) spans[target] = [spans[target]![0], Math.max(spans[target]![0], spans[target]![1] - 1)];
    kept.forEach((tensor, i) => {
      let shape = JSON.stringify(tensor.shape);
      let offsets = JSON.stringify(spans[i]);
      let extra = '';
      if (i === target && c.edit === 'shape') shape = SHAPE_EDITS[c.pick % SHAPE_EDITS.length]!;
      if (i === target && c.edit === 'offsets') offsets = OFFSET_EDITS[c.pick % OFFSET_EDITS.length]!;
      if (i === target && c.edit === 'extra-field') extra = ',"offsets":[0,1]';
      const fields = [`"dtype":${JSON.stringify(tensor.dtype)}`, `"shape":${shape}`, `"data_offsets":${offsets}`];
      if (i === target && c.edit === 'missing-field') fields.splice(c.pick % 3, 1);
      entries.push(`${JSON.stringify(tensor.name)}:{${fields.join(',')}${extra}}`);
    });
    let json = `{${entries.join(',')}}`;
    if (c.edit === 'non-object') json = ['null', '"x"', '42', 'true'][c.pick % 4]!;
    if (c.edit === 'array-header') json = `[${entries.join(',')}]`;
    if (c.edit === 'leading-space') json = ` ${json}`;
    if (c.edit === 'bom') json = `\ufeff${json}`;
    if (c.edit === 'not-json') json = json.replace(/,/, ';');
    if (c.edit === 'nested-deep') json = `{"x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    json += c.padding;
    const header = Buffer.from(json, 'utf8');
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(Math.max(0, header.length + c.headerLengthDelta)), true);
    const data = Uint8Array.from({ length: Math.max(0, offset + c.dataDelta) }, (_, i) => (i * 29 + 3) & 0xff);
    return concat([prefix, header, data]);
  });

function mutatedFile(valid: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .record({ base: fc.constantFrom(...valid), plan: fc.oneof({ weight: 3, arbitrary: fc.array(fc.nat(), { minLength: 3, maxLength: 6 }) }, fc.array(fc.nat(), { minLength: 3, maxLength: 24 })) })
    .map(({ base, plan }) => mutateBytes(base, plan));
}

function attempt(bytes: Uint8Array): string {
  const { tensors, metadata } = decodeSafetensors(bytes, '<fuzz>');
  const headerLength = Number(Buffer.from(bytes).readBigUInt64LE(0));
  const dataStart = 8 + headerLength;
  // the header parsed independently (duplicates were refused, so JSON.parse sees every entry)
  const header = JSON.parse(Buffer.from(bytes.subarray(8, dataStart)).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
  let covered = 0;
  for (const [name, tensor] of tensors) {
    check(shapeSize(tensor.shape) === tensor.data.length, `"${name}": shape [${tensor.shape}] vs ${tensor.data.length} values`);
    check(tensor.shape.every((d) => Number.isInteger(d) && d >= 0 && d <= MAX_STORED_DIMENSION), `"${name}": bad dimension`);
    const [begin, end] = Object.getOwnPropertyDescriptor(header, name)!.value.data_offsets as [number, number];
    const data = bytesOf(tensor.data);
    check(end - begin === data.length, `"${name}": offsets vs data length`);
    check(Buffer.compare(Buffer.from(data), Buffer.from(bytes.subarray(dataStart + begin, dataStart + end))) === 0, `"${name}": data differs from the file`);
    covered += data.length;
  }
  check(covered === bytes.length - dataStart, `tensors cover ${covered} of ${bytes.length - dataStart} data bytes`);
  check(Object.values(metadata).every((value) => typeof value === 'string'), 'metadata value not a string');
  // write -> read reproduces it
  const again = decodeSafetensors(concat(encodeSafetensors(tensors, metadata)));
  check([...again.tensors.keys()].join('\u0000') === [...tensors.keys()].join('\u0000'), 'round trip changed names or order');
  check(JSON.stringify(Object.entries(again.metadata)) === JSON.stringify(Object.entries(metadata)), 'round trip changed metadata');
  for (const [name, tensor] of tensors) {
    const other = again.tensors.get(name)!;
    check(other.dtype === tensor.dtype && other.shape.join() === tensor.shape.join(), `round trip changed "${name}"`);
    check(Buffer.compare(Buffer.from(bytesOf(other.data)), Buffer.from(bytesOf(tensor.data))) === 0, `round trip changed the data of "${name}"`);
  }
  return 'accepted';
}

/** The fuzz run (fast-check, shrinking on failure). */
export function fuzz({ runs, seed }: { runs: number; seed: number }): FuzzReport {
  const outcomes = new FuzzOutcomes('safetensors');
  const inputs = fc.oneof(mutatedFile(validFiles()), generatedFile);
  fc.assert(
    fc.property(inputs, (bytes) => {
      outcomes.run(() => attempt(bytes));
    }),
    { numRuns: runs, seed },
  );
  return outcomes.report();
}
