import { join } from 'node:path';
import { GenrecError } from '../errors.js';
import { readJsonFile } from './manifest.js';
import { readBytes } from './read-file.js';
import { checkStoredShape, describeValue, storedByteLength } from './stored-shape.js';
import { assertFiniteTensor, createTensor, typedArrayFromBytes, type Tensor, type TensorDType } from './tensor.js';

/** One entry of a dump folder's `manifest.json`. */
export interface RawDumpEntry {
  dtype: string;
  shape: number[];
}

/** Options of {@link RawDump.read}. */
export interface RawDumpReadOptions {
  /** Refuse NaN and ±Infinity in float arrays (`INVALID_INPUT` naming the array). @defaultValue false */
  requireFinite?: boolean;
}

const DTYPES: readonly TensorDType[] = ['float32', 'float64', 'int32', 'int64', 'uint8'];

/** Array names become file names: no separators, no leading dot (so no `..`), no NUL. */
const SAFE_NAME = /^[^./\\\0][^/\\\0]*$/;

/**
 * A folder of raw little-endian arrays as the Python peers' `--dump-dir` writes them:
 * `NAME.bin` files plus `manifest.json` mapping each NAME to `{dtype, shape}` (numpy dtype names,
 * row-major), and an optional `_meta` object.
 *
 * The manifest is checked when the dump is opened: a JSON object; every entry `{dtype, shape}` with
 * a string dtype and a shape of integers in `[0, 2^31 - 1]`; every name usable as a file name in
 * the folder (no `/`, `\`, NUL or leading `.`, so no path leaves the folder); `_meta` an object.
 * Each array file's size is compared with its entry before the file is read.
 *
 * @example
 * ```ts
 * const dump = new RawDump('peers/dump');
 * const base = dump.read('base', { requireFinite: true });
 * ```
 */
export class RawDump {
  /** The parsed manifest entries, by array name. */
  readonly entries: ReadonlyMap<string, RawDumpEntry>;
  /** The manifest's `_meta` object, if any. */
  readonly meta: Record<string, unknown>;

  /**
   * Opens a dump folder and checks its manifest.
   *
   * @param directory - the folder holding `manifest.json`
   * @throws GenrecError `NOT_FOUND` without a manifest, `PARSE_ERROR` for a malformed one.
   */
  constructor(readonly directory: string) {
    const manifestPath = join(directory, 'manifest.json');
    const manifest = readJsonFile(manifestPath);
    const fail = (message: string, field?: string): never => {
      throw new GenrecError('PARSE_ERROR', `invalid dump manifest: ${message}`, { details: field === undefined ? { file: manifestPath } : { file: manifestPath, field } });
    };
    if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) fail(`expected a JSON object, found ${describeValue(manifest)}`);
    const entries = new Map<string, RawDumpEntry>();
    let meta: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(manifest as Record<string, unknown>)) {
      if (name === '_meta') {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`_meta must be an object, found ${describeValue(value)}`, name);
        meta = value as Record<string, unknown>;
        continue;
      }
      if (!SAFE_NAME.test(name)) fail(`array name ${JSON.stringify(name)} cannot name a file in the dump folder`, name);
      const entry = value as Partial<RawDumpEntry> | null;
      if (typeof entry !== 'object' || entry === null || typeof entry.dtype !== 'string') fail(`entry "${name}" needs {dtype, shape}, found ${describeValue(value)}`, name);
      const checked = checkStoredShape(entry!.shape);
      const shape = 'problem' in checked ? fail(`entry "${name}": ${checked.problem}`, name) : checked.shape;
      entries.set(name, { dtype: entry!.dtype!, shape });
    }
    this.entries = entries;
    this.meta = meta;
  }

  /** Names of the arrays in the dump. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Reads one array.
   *
   * @param name - the array's name in the manifest
   * @param options - {@link RawDumpReadOptions}
   * @returns the array as a tensor
   * @throws GenrecError `UNKNOWN_ID` for a name not in the manifest, `UNSUPPORTED` for a dtype
   * genrec does not hold, `CORRUPT_ARTIFACT` when the file size disagrees with the shape (checked
   * before the file is read), `INVALID_INPUT` for a non-finite value with `requireFinite`.
   */
  read(name: string, options: RawDumpReadOptions = {}): Tensor {
    const entry = this.entries.get(name);
    if (!entry) throw new GenrecError('UNKNOWN_ID', `no array "${name}" in the dump (has: ${this.names().join(', ')})`, { details: { file: this.directory } });
    const dtype = DTYPES.find((d) => d === entry.dtype);
    if (!dtype) throw new GenrecError('UNSUPPORTED', `array "${name}" has unsupported dtype ${entry.dtype} (supported: ${DTYPES.join(', ')})`, { details: { file: this.directory } });
    const path = join(this.directory, `${name}.bin`);
    const expected = storedByteLength(entry.shape, dtype);
    const mismatch = (found: string): GenrecError =>
      new GenrecError('CORRUPT_ARTIFACT', `${name}.bin has ${found} bytes, the manifest's ${dtype} [${entry.shape.join(', ')}] needs ${expected}`, { details: { file: path } });
    let bytes: Uint8Array;
    try {
      // a file larger than the entry is refused before it is read
      bytes = readBytes(path, { maxBytes: expected > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(expected) });
    } catch (error) {
      if (GenrecError.isInstance(error) && error.code === 'UNSUPPORTED') throw mismatch(String(error.details.bytes ?? 'more'));
      throw error;
    }
    if (BigInt(bytes.byteLength) !== expected) throw mismatch(String(bytes.byteLength));
    const tensor = createTensor(typedArrayFromBytes(dtype, bytes), entry.shape);
    if (options.requireFinite) assertFiniteTensor(tensor, `array "${name}"`, { file: path });
    return tensor;
  }
}
