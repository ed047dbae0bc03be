import { join } from 'node:path';
import { GenrecError } from '../errors.js';
import { readJsonFile } from './manifest.js';
import { readBytes } from './read-file.js';
import { BYTES_PER_ELEMENT, createTensor, shapeSize, typedArrayFromBytes, type Tensor, type TensorDType } from './tensor.js';

/** One entry of a dump folder's `manifest.json`. */
export interface RawDumpEntry {
  dtype: string;
  shape: number[];
}

/**
 * A folder of raw little-endian arrays as the Python peers' `--dump-dir` writes them:
 * `NAME.bin` files plus `manifest.json` mapping each NAME to `{dtype, shape}` (numpy dtype names,
 * row-major), and an optional `_meta` object.
 */
export class RawDump {
  /** The parsed manifest entries, by array name. */
  readonly entries: ReadonlyMap<string, RawDumpEntry>;
  /** The manifest's `_meta` object, if any. */
  readonly meta: Record<string, unknown>;

  constructor(readonly directory: string) {
    const manifestPath = join(directory, 'manifest.json');
    const manifest = readJsonFile(manifestPath) as Record<string, unknown>;
    const entries = new Map<string, RawDumpEntry>();
    for (const [name, value] of Object.entries(manifest)) {
      if (name === '_meta') continue;
      const entry = value as RawDumpEntry;
      if (typeof entry?.dtype !== 'string' || !Array.isArray(entry.shape)) {
        throw new GenrecError('PARSE_ERROR', `manifest entry "${name}" needs dtype and shape`, { details: { file: manifestPath } });
      }
      entries.set(name, entry);
    }
    this.entries = entries;
    this.meta = (manifest._meta as Record<string, unknown> | undefined) ?? {};
  }

  /** Names of the arrays in the dump. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Reads one array.
   *
   * @throws GenrecError `UNKNOWN_ID` for a name not in the manifest, `UNSUPPORTED` for a dtype
   * genrec does not hold, `CORRUPT_ARTIFACT` when the file size disagrees with the shape.
   */
  read(name: string): Tensor {
    const entry = this.entries.get(name);
    if (!entry) throw new GenrecError('UNKNOWN_ID', `no array "${name}" in the dump (has: ${this.names().join(', ')})`, { details: { file: this.directory } });
    const dtype = (['float32', 'float64', 'int32', 'int64', 'uint8'] as TensorDType[]).find((d) => d === entry.dtype);
    if (!dtype) throw new GenrecError('UNSUPPORTED', `array "${name}" has unsupported dtype ${entry.dtype}`, { details: { file: this.directory } });
    const path = join(this.directory, `${name}.bin`);
    const bytes = readBytes(path);
    const expected = shapeSize(entry.shape) * BYTES_PER_ELEMENT[dtype];
    if (bytes.byteLength !== expected) {
      throw new GenrecError('CORRUPT_ARTIFACT', `${name}.bin has ${bytes.byteLength} bytes, the manifest's ${dtype} [${entry.shape.join(', ')}] needs ${expected}`, { details: { file: path } });
    }
    return createTensor(typedArrayFromBytes(dtype, bytes), entry.shape);
  }
}
