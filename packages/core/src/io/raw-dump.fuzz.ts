// Fuzz module for RawDump (the peers' dump folders), run in a child process by
// formats.fuzz.test.ts. Inputs: a manifest.json built from pieces or byte-mutated, and .bin files
// of the right size, a few bytes off, missing, or a folder. Every input must give a GenrecError
// or arrays that pass the invariants; no read may leave the folder.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import fc from 'fast-check';
import { FuzzOutcomes, mutateBytes, type FuzzReport } from '../testing/fuzz.js';
import { RawDump } from './raw-dump.js';
import { MAX_STORED_DIMENSION } from './stored-shape.js';
import { BYTES_PER_ELEMENT, bytesOf, shapeSize, type TensorDType } from './tensor.js';

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`invariant broken: ${message}`);
}

const NAMES = ['base', 'ids', 'codebook.0', 'x', '../outside', '.hidden', 'a/b', 'a\\b', '', '_meta2', '__proto__'];
const DTYPES = ['float32', 'float64', 'int32', 'int64', 'uint8', 'float16', 'bool', 'Float32', '5'];
const SHAPE_EDITS = ['[-1]', '[1.5, 2]', '["2"]', '[2147483648]', '[0, 9007199254740993]', '3', 'null', '{}', '[1e400]', `[${new Array(65).fill(1).join(',')}]`];
const META = ['', '"_meta": {"seed": 1}', '"_meta": 5', '"_meta": null', '"_meta": [1]'];

interface Case {
  manifest: Uint8Array;
  files: { name: string; kind: 'bytes' | 'folder'; bytes: Uint8Array }[];
}

const entrySpec = fc.record({
  name: fc.oneof({ weight: 16, arbitrary: fc.constantFrom('base', 'ids', 'codebook.0', 'x') }, { weight: 1, arbitrary: fc.constantFrom(...NAMES) }),
  dtype: fc.oneof({ weight: 16, arbitrary: fc.constantFrom('float32', 'float64', 'int32', 'int64', 'uint8') }, { weight: 1, arbitrary: fc.constantFrom(...DTYPES) }),
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
  shapeEdit: fc.oneof({ weight: 20, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.nat(SHAPE_EDITS.length - 1) }),
  file: fc.oneof({ weight: 16, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: -9, max: 9 }) }, { weight: 1, arbitrary: fc.constantFrom('missing', 'folder') }),
  quoteDtype: fc.oneof({ weight: 30, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});

const generatedCase: fc.Arbitrary<Case> = fc
  .record({
    entries: fc.array(entrySpec, { maxLength: 4 }),
    meta: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(META[0]!, META[1]!) }, { weight: 1, arbitrary: fc.constantFrom(...META) }),
    wrapper: fc.oneof({ weight: 12, arbitrary: fc.constant('object') }, { weight: 1, arbitrary: fc.constantFrom('array', 'null', 'number', 'broken') }),
  })
  .map((c) => {
    const parts: string[] = [];
    const files: Case['files'] = [];
    for (const entry of c.entries) {
      const shape = entry.shapeEdit >= 0 ? SHAPE_EDITS[entry.shapeEdit]! : JSON.stringify(entry.shape);
      parts.push(`${JSON.stringify(entry.name)}: {"dtype": ${entry.quoteDtype ? JSON.stringify(entry.dtype) : '7'}, "shape": ${shape}}`);
      const size = entry.shape.reduce((product, d) => product * d, 1) * (BYTES_PER_ELEMENT[entry.dtype as TensorDType] ?? 2);
      if (entry.file === 'missing' || !/^[a-z0-9._]+$/.test(entry.name)) continue;
      if (entry.file === 'folder') files.push({ name: entry.name, kind: 'folder', bytes: new Uint8Array() });
      else files.push({ name: entry.name, kind: 'bytes', bytes: Uint8Array.from({ length: Math.max(0, size + entry.file) }, (_, i) => (i * 13 + 7) & 0xff) });
    }
    if (c.meta !== '') parts.push(c.meta);
    let text = `{${parts.join(', ')}}`;
    if (c.wrapper === 'array') text = `[${parts.join(', ')}]`;
    if (c.wrapper === 'null') text = 'null';
    if (c.wrapper === 'number') text = '12';
    if (c.wrapper === 'broken') text = text.slice(0, Math.max(1, text.length - 2));
    return { manifest: new Uint8Array(Buffer.from(text, 'utf8')), files };
  });

const VALID_MANIFEST = new Uint8Array(Buffer.from(JSON.stringify({ base: { dtype: 'float32', shape: [2, 2] }, ids: { dtype: 'int64', shape: [3] }, _meta: { seed: 1 } })));
const VALID_FILES: Case['files'] = [
  { name: 'base', kind: 'bytes', bytes: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer) },
  { name: 'ids', kind: 'bytes', bytes: new Uint8Array(new BigInt64Array([5n, 6n, 7n]).buffer) },
];

const mutatedCase: fc.Arbitrary<Case> = fc
  .record({ plan: fc.array(fc.nat(), { minLength: 3, maxLength: 12 }), filePlan: fc.array(fc.nat(), { maxLength: 6 }) })
  .map(({ plan, filePlan }) => ({
    manifest: mutateBytes(VALID_MANIFEST, plan),
    files: VALID_FILES.map((file, i) => ({ ...file, bytes: i === 0 ? mutateBytes(file.bytes, filePlan) : file.bytes })),
  }));

function attempt(root: string, testCase: Case): string {
  const directory = join(root, 'dump');
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory);
  writeFileSync(join(directory, 'manifest.json'), testCase.manifest);
  const written = new Set<string>();
  for (const file of testCase.files) {
    if (written.has(file.name)) continue;
    written.add(file.name);
    if (file.kind === 'folder') mkdirSync(join(directory, `${file.name}.bin`));
    else writeFileSync(join(directory, `${file.name}.bin`), file.bytes);
  }
  const dump = new RawDump(directory);
  let readCount = 0;
  for (const name of dump.names()) {
    const path = resolve(directory, `${name}.bin`);
    check(path.startsWith(resolve(directory) + sep), `array "${name}" names a file outside the folder`);
    const entry = dump.entries.get(name)!;
    check(entry.shape.every((d) => Number.isInteger(d) && d >= 0 && d <= MAX_STORED_DIMENSION), `"${name}": bad dimension`);
    const tensor = dump.read(name);
    check(tensor.dtype === entry.dtype && tensor.shape.join() === entry.shape.join(), `"${name}": tensor differs from its entry`);
    check(shapeSize(tensor.shape) === tensor.data.length, `"${name}": shape vs values`);
    check(Buffer.compare(Buffer.from(bytesOf(tensor.data)), readFileSync(path)) === 0, `"${name}": data differs from the file`);
    readCount++;
  }
  return readCount === 0 ? 'accepted (no arrays)' : 'accepted';
}

/** The fuzz run (fast-check, shrinking on failure). */
export function fuzz({ runs, seed }: { runs: number; seed: number }): FuzzReport {
  const outcomes = new FuzzOutcomes('raw-dump');
  const root = mkdtempSync(join(tmpdir(), 'genrec-dump-fuzz-'));
  try {
    fc.assert(
      fc.property(fc.oneof({ weight: 3, arbitrary: generatedCase }, { weight: 1, arbitrary: mutatedCase }), (testCase) => {
        outcomes.run(() => attempt(root, testCase));
      }),
      { numRuns: runs, seed },
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return outcomes.report();
}
