// Fuzz module for the .npy reader, run in a child process by formats.fuzz.test.ts (fuzzInChild).
// Inputs: valid files mutated byte-wise (flips, truncation, huge numbers, syntax characters) and
// headers generated from pieces of the NPY grammar (valid and invalid keys, descrs, shapes,
// versions, data lengths). Every input must give a GenrecError or a tensor that passes the
// invariants; then numpy (when present) reads the same inputs and must agree.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { FuzzOutcomes, mutateBytes, type FuzzReport } from '../testing/fuzz.js';
import { decodeNpy, encodeNpy } from './npy.js';
import { MAX_STORED_DIMENSION } from './stored-shape.js';
import { bytesOf, createTensor, shapeSize, type Tensor, type TensorDType } from './tensor.js';

// Written by numpy 2.4 (`np.save`), base64-encoded: float32 (2, 3).
const NUMPY_F32_2x3 =
  'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAQEAAAIBAAACgQAAAyEA=';

const NUMPY_DESCR: Readonly<Record<TensorDType, string>> = { float32: '<f4', float64: '<f8', int32: '<i4', int64: '<i8', uint8: '|u1' };

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`invariant broken: ${message}`);
}

function prefix(major: number, minor: number, headerLength: number): Uint8Array {
  const out = new Uint8Array(major === 1 ? 10 : 12);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, minor]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLength & 0xffff, true);
  else view.setUint32(8, headerLength, true);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function pattern(length: number, salt: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 37 + salt * 11 + 5) & 0xff);
}

/** Valid files: numpy's own, genrec's encoder for every dtype, and hand-made 2.0 and 3.0 files. */
function validFiles(): Uint8Array[] {
  const tensors: Tensor[] = [
    createTensor(new Float64Array([0.1, -2e300]), [2, 1]),
    createTensor(new Int32Array([-5, 6, 7]), [3]),
    createTensor(new Uint8Array([0, 255]), [2]),
    createTensor(new Float32Array([]), [0, 4]),
    createTensor(new BigInt64Array([-1n]), []),
    createTensor(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), [2, 2, 2]),
  ];
  const v2Header = Buffer.from("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }" + ' '.repeat(52) + '\n', 'latin1');
  const v3Header = Buffer.from("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), } # é\n", 'utf8');
  return [
    new Uint8Array(Buffer.from(NUMPY_F32_2x3, 'base64')),
    ...tensors.map(encodeNpy),
    concat(prefix(2, 0, v2Header.length), v2Header, pattern(8, 1)),
    concat(prefix(3, 0, v3Header.length), v3Header, pattern(8, 2)),
  ];
}

const DIMENSIONS = ['2147483647', '2147483648', '9007199254740993', '4294967296', '100000000000000000000', '-1', '+2', '2.9', '2.0', '1e3', '0x2', '1_0', '00', '007', 'True', 'False', '2L', 'None', "'2'"];
const DESCRS = ["'<f4'", "'<f8'", "'<i4'", "'<i8'", "'|u1'", "'<u1'", "'>f4'", "'<f2'", "'float32'", "'|b1'", "'<U3'", "'O'", '"<f4"', "[('a', '<f4')]", '5', 'None', "'<f4' '<f4'", "u'<f4'", "'<\\x66\\x34'", "'''<f4'''", "('<f4', (2,))"];
const FORTRAN = ['False', 'False', 'True', '0', '1', "'False'", 'None'];
const ITEM_SIZE: Record<string, number> = { "'<f4'": 4, "'<f8'": 8, "'<i4'": 4, "'<i8'": 8, "'|u1'": 1, "'<u1'": 1, '"<f4"': 4 };

/** Headers built from pieces of the grammar, valid or not, with data of about the right length. */
const generatedFile = fc
  .record({
    dims: fc.array(fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 0, max: 5 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom(...DIMENSIONS) }), { maxLength: 4 }),
    shapeForm: fc.constantFrom('tuple', 'tuple', 'tuple', 'trailing', 'list', 'bare', 'nested'),
    descr: fc.oneof({ weight: 8, arbitrary: fc.constantFrom("'<f4'", "'<f8'", "'<i4'", "'<i8'", "'|u1'") }, { weight: 2, arbitrary: fc.constantFrom(...DESCRS) }),
    fortran: fc.oneof({ weight: 8, arbitrary: fc.constant('False') }, { weight: 1, arbitrary: fc.constantFrom(...FORTRAN) }),
    keys: fc.constantFrom('all', 'all', 'all', 'all', 'all', 'all', 'missing', 'extra', 'duplicate', 'duplicate-last', 'double-quoted', 'non-string'),
    order: fc.integer({ min: 0, max: 5 }),
    separator: fc.constantFrom(', ', ',', ' ,\n ', ',  # c\n', ',\t'),
    trailingComma: fc.boolean(),
    layout: fc.constantFrom('numpy', 'numpy', 'numpy', 'numpy', 'numpy', 'numpy', 'no-newline', 'leading-newline', 'leading-spaces', 'indented-line', 'comment', 'form-feed', 'vertical-tab', 'crlf'),
    version: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('1.0', '2.0', '3.0') }, { weight: 1, arbitrary: fc.constantFrom('1.1', '4.0', '0.0') }),
    dataDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: -8, max: 8 }) }),
  })
  .map((c) => {
    let shape: string;
    const joined = c.dims.join(', ');
    if (c.shapeForm === 'list') shape = `[${joined}]`;
    else if (c.shapeForm === 'bare') shape = c.dims[0] ?? '()';
    else if (c.shapeForm === 'nested') shape = `((${joined}${c.dims.length === 1 ? ',' : ''}))`;
    else if (c.shapeForm === 'trailing') shape = `(${joined},)`;
    else shape = `(${joined}${c.dims.length === 1 ? ',' : ''})`;
    const q = c.keys === 'double-quoted' ? '"' : "'";
    let entries = [`${q}descr${q}: ${c.descr}`, `${q}fortran_order${q}: ${c.fortran}`, `${q}shape${q}: ${shape}`];
    if (c.keys === 'missing') entries.splice(c.order % 3, 1);
    if (c.keys === 'extra') entries.push("'extra': 1");
    if (c.keys === 'duplicate') entries.push("'descr': '<f8'");
    if (c.keys === 'duplicate-last') entries.unshift("'shape': (7, 7)");
    if (c.keys === 'non-string') entries.push('1: 2');
    const rotation = c.order % entries.length;
    entries = [...entries.slice(rotation), ...entries.slice(0, rotation)];
    let dict = `{${entries.join(c.separator)}${c.trailingComma ? ', ' : ''}}`;
    if (c.layout === 'leading-newline') dict = `\n${dict}`;
    if (c.layout === 'leading-spaces') dict = `  ${dict}`;
    if (c.layout === 'indented-line') dict = `\n  ${dict}`;
    if (c.layout === 'comment') dict = `# numpy header\n${dict} # end`;
    if (c.layout === 'form-feed') dict = `\f${dict}`;
    if (c.layout === 'vertical-tab') dict = `${dict}\v`;
    const [major, minor] = c.version.split('.').map(Number) as [number, number];
    const prefixLength = major === 1 || major === 0 ? 10 : 12;
    let header = dict;
    if (c.layout !== 'no-newline') {
      const end = c.layout === 'crlf' ? '\r\n' : '\n';
      header += ' '.repeat((64 - ((prefixLength + dict.length + end.length) % 64)) % 64) + end;
    }
    const headerBytes = Buffer.from(header, major === 3 ? 'utf8' : 'latin1');
    const plain = c.dims.every((d) => /^(0|[1-9][0-9]{0,3})$/.test(d));
    const elements = plain ? c.dims.reduce((product, d) => product * Number(d), 1) : 3;
    const dataLength = Math.max(0, Math.min(4096, elements * (ITEM_SIZE[c.descr] ?? 4)) + c.dataDelta);
    return concat(prefix(major, minor, headerBytes.length), headerBytes, pattern(dataLength, c.order));
  });

function mutatedFile(valid: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .record({ base: fc.constantFrom(...valid), plan: fc.oneof({ weight: 3, arbitrary: fc.array(fc.nat(), { minLength: 3, maxLength: 6 }) }, fc.array(fc.nat(), { minLength: 3, maxLength: 24 })) })
    .map(({ base, plan }) => mutateBytes(base, plan));
}

/** Reads one input; when it is accepted, checks the invariants against the bytes. */
function attempt(bytes: Uint8Array): string {
  const tensor = decodeNpy(bytes, '<fuzz>');
  check(shapeSize(tensor.shape) === tensor.data.length, `shape [${tensor.shape}] vs ${tensor.data.length} values`);
  check(tensor.shape.every((d) => Number.isInteger(d) && d >= 0 && d <= MAX_STORED_DIMENSION), `bad dimension in [${tensor.shape}]`);
  // the data is the bytes right after the header, as the prefix's header length says
  const headerStart = bytes[6] === 1 ? 10 : 12;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataStart = headerStart + (bytes[6] === 1 ? view.getUint16(8, true) : view.getUint32(8, true));
  const data = bytesOf(tensor.data);
  check(dataStart + data.length <= bytes.length, 'data past the end of the file');
  check(Buffer.compare(Buffer.from(data), Buffer.from(bytes.subarray(dataStart, dataStart + data.length))) === 0, 'data differs from the file bytes');
  // write -> read reproduces it
  const again = decodeNpy(encodeNpy(tensor));
  check(again.dtype === tensor.dtype && again.shape.join() === tensor.shape.join(), 'round trip changed dtype or shape');
  check(Buffer.compare(Buffer.from(bytesOf(again.data)), Buffer.from(data)) === 0, 'round trip changed the data');
  return 'accepted';
}

// numpy as the reference parser: its own magic, version and header checks (numpy.lib.format),
// then the data read as np.load reads it, with frombuffer so that a huge shape is refused
// without allocating it first.
const NUMPY_REFERENCE = String.raw`
import sys, io, json, base64, warnings, ast
warnings.simplefilter('ignore')
import numpy as np
try:
    from numpy.lib import _format_impl as fmt
except ImportError:
    from numpy.lib import format as fmt
def reference(b):
    fp = io.BytesIO(b)
    try:
        version = fmt.read_magic(fp)
        fmt._check_version(version)
        shape, fortran, dtype = fmt._read_array_header(fp, version, max_header_size=10000)
        if dtype.hasobject:
            raise ValueError('Object arrays cannot be loaded when allow_pickle=False')
        count = 1
        for d in shape:
            count *= d
        offset = fp.tell()
        if count < 0 or offset + count * dtype.itemsize > len(b):
            raise ValueError('EOF: reading array data')
        array = np.frombuffer(b, dtype=dtype, count=count, offset=offset)
        array = array.reshape(shape[::-1]).transpose() if fortran else array.reshape(shape)
    except Exception as e:
        return {'ok': False, 'error': (type(e).__name__ + ': ' + str(e))[:160]}
    # did numpy need its fallback for Python 2 headers (versions 1.0 and 2.0 only)?
    start = 10 if version == (1, 0) else 12
    length = int.from_bytes(b[8:start], 'little')
    legacy = False
    try:
        ast.literal_eval(b[start:start + length].decode('utf8' if version == (3, 0) else 'latin1'))
    except SyntaxError:
        legacy = True
    return {'ok': True, 'legacy': legacy, 'descr': dtype.str, 'fortran': bool(fortran), 'shape': [int(d) for d in shape],
            'data': base64.b64encode(np.ascontiguousarray(array).tobytes()).decode() if not fortran else ''}
print(json.dumps({'numpy': np.__version__}))
for line in sys.stdin:
    print(json.dumps(reference(base64.b64decode(line.strip()))))
`;

interface NumpyVerdict {
  ok: boolean;
  legacy?: boolean;
  error?: string;
  descr?: string;
  fortran?: boolean;
  shape?: number[];
  data?: string;
}

function numpyVersion(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import numpy; print(numpy.__version__)'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

function runNumpy(cases: Uint8Array[]): NumpyVerdict[] {
  const input = cases.map((bytes) => Buffer.from(bytes).toString('base64')).join('\n') + '\n';
  const result = spawnSync('python3', ['-c', NUMPY_REFERENCE], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.error || result.status !== 0) throw new Error(`the numpy reference failed: ${result.error?.message ?? ''} ${result.stderr.slice(-1000)}`);
  return result.stdout.trim().split('\n').slice(1).map((line) => JSON.parse(line) as NumpyVerdict);
}

/** Header syntax numpy reads but genrec refuses on purpose (see decodeNpy's documentation). */
function narrowingReason(bytes: Uint8Array, verdict: NumpyVerdict): string | undefined {
  if (verdict.legacy) return 'python2-header-fallback';
  if (verdict.fortran) return 'fortran-order';
  if (!Object.values(NUMPY_DESCR).includes(verdict.descr!)) return 'dtype';
  if (verdict.shape!.some((d) => d > MAX_STORED_DIMENSION)) return 'dimension-above-2^31-1';
  const headerStart = bytes[6] === 1 ? 10 : 12;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = bytes[6] === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const header = Buffer.from(bytes.subarray(headerStart, headerStart + headerLength)).toString(bytes[6] === 3 ? 'utf8' : 'latin1');
  if (/\\/.test(header)) return 'syntax:backslash';
  if ((header.match(/[0-9][0-9A-Za-z_.]*/g) ?? []).some((token) => !/^(0|[1-9][0-9]*)$/.test(token))) return 'syntax:number-spelling';
  if (/[+-]\s*[0-9]/.test(header)) return 'syntax:sign';
  if (/(^|[^A-Za-z0-9_])[rRbBuUfF]{1,2}['"]/.test(header) || /['"]\s*['"]/.test(header)) return 'syntax:string-spelling';
  if (/^[ \t]*(?:[ \t\f]*(?:#[^\r\n]*)?[\r\n])*[ \t\f]/.test(header)) {
    return 'syntax:leading-whitespace';
  }
  // the descr numpy resolved is one genrec reads, but spelled another way ('float32', "<f4" in a tuple…)
  const descrs = [...header.matchAll(/descr['"]\s*:\s*([^,}]*)/g)];
  if (!/^['"](<f4|<f8|<i4|<i8|\|u1|<u1)['"]\s*$/.test(descrs[descrs.length - 1]?.[1] ?? '')) return 'descr-spelling';
  return undefined;
}

/** Compares genrec's verdict on each case with numpy's; returns outcome counts, throws on a disagreement. */
function compareWithNumpy(cases: Uint8Array[], counts: Map<string, number>): string {
  const batchSize = 5000;
  const version = numpyVersion();
  if (version === undefined) return 'numpy cross-check skipped: `python3 -c "import numpy"` fails on this machine';
  const problems: string[] = [];
  for (let start = 0; start < cases.length; start += batchSize) {
    const batch = cases.slice(start, start + batchSize);
    const verdicts = runNumpy(batch);
    batch.forEach((bytes, i) => {
      const verdict = verdicts[i]!;
      let ours: Tensor | string;
      try {
        ours = decodeNpy(bytes);
      } catch (error) {
        ours = (error as { code?: string }).code ?? String(error);
      }
      let outcome: string;
      if (typeof ours !== 'string') {
        const same =
          verdict.ok &&
          !verdict.fortran &&
          verdict.descr === NUMPY_DESCR[ours.dtype] &&
          verdict.shape!.join() === ours.shape.join() &&
          verdict.data === Buffer.from(bytesOf(ours.data)).toString('base64');
        outcome = same ? 'both read the same array' : 'DISAGREE: genrec reads what numpy refuses or reads differently';
      } else if (!verdict.ok) {
        outcome = 'both refuse';
      } else {
        const reason = narrowingReason(bytes, verdict);
        outcome = reason === undefined ? 'DISAGREE: genrec refuses a header numpy reads, for no documented reason' : `genrec refuses on purpose (${reason})`;
      }
      if (outcome.startsWith('DISAGREE') && problems.length < 5) {
        problems.push(`${outcome}\n  genrec: ${typeof ours === 'string' ? ours : `${ours.dtype} [${ours.shape}]`}\n  numpy: ${JSON.stringify(verdict).slice(0, 300)}\n  bytes: ${Buffer.from(bytes).toString('base64')}`);
      }
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    });
  }
  if (problems.length > 0) throw new Error(`genrec and numpy disagree:\n${problems.join('\n')}`);
  return `numpy ${version} cross-check over ${cases.length} cases: ${JSON.stringify(Object.fromEntries(counts))}`;
}

/** The fuzz run: the invariant property with fast-check (shrinking on failure), then the numpy cross-check. */
export function fuzz({ runs, seed }: { runs: number; seed: number }): FuzzReport {
  const outcomes = new FuzzOutcomes('npy');
  const valid = validFiles();
  const inputs = fc.oneof(mutatedFile(valid), generatedFile);
  fc.assert(
    fc.property(inputs, (bytes) => {
      outcomes.run(() => attempt(bytes));
    }),
    { numRuns: runs, seed },
  );
  const numpyCounts = new Map<string, number>();
  outcomes.notes.push(compareWithNumpy(fc.sample(inputs, { numRuns: runs, seed }), numpyCounts));
  return outcomes.report();
}
