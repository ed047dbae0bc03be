import { existsSync } from 'node:fs';
import { GenrecError, type StepModel, type StepModelInput, type StepSession } from '@genrec/core';
import * as ort from 'onnxruntime-node';
import { checkTokenIds, writeInt64 } from './int64.js';

/**
 * Which tensor of the two ONNX files plays which part. Defaults are the names of the TIGER peer's
 * export (`shared/peers/fixtures/tiger_onnx/manifest.json`).
 */
export interface Seq2SeqTensorNames {
  /** Encoder input, int64 `[batch, src_len]` (left-padded token ids). @defaultValue `'src_tokens'` */
  encoderInput: string;
  /** Decoder input, int64 `[batch_x_beams, 1]`: the start token at step 0, then the chosen tokens. @defaultValue `'input_ids'` */
  decoderInput: string;
  /** Decoder output, float32 `[batch_x_beams, vocab]`: raw logits of the next token. @defaultValue `'logits'` */
  logits: string;
  /**
   * Decoder inputs fed once per user from the encoder's outputs (decoder input name -> encoder
   * output name), passed unchanged at every step, never copied per beam.
   * @defaultValue every decoder input whose name is also an encoder output (`memory_key_bias`, `cross_key_i`, `cross_value_i`)
   */
  encoderToDecoder: Readonly<Record<string, string>>;
  /**
   * Self-attention cache (decoder input name -> decoder output name): float32
   * `[batch_x_beams, heads, past_len, head_dim]` in, `[batch_x_beams, heads, past_len + 1, head_dim]` out.
   * @defaultValue every decoder input `past_X` paired with the output `present_X`
   */
  cache: Readonly<Record<string, string>>;
}

/** Options of {@link OnnxSeq2SeqStepModel.create}. */
export interface OnnxSeq2SeqStepModelOptions {
  /** Path to (or bytes of) the encoder `.onnx`. */
  encoder: string | Uint8Array;
  /** Path to (or bytes of) the one-position decoder `.onnx` with explicit cache inputs/outputs. */
  decoder: string | Uint8Array;
  /** Tensor names where they differ from the defaults of {@link Seq2SeqTensorNames}. */
  names?: Partial<Seq2SeqTensorNames>;
  /** onnxruntime intra-op threads. @defaultValue onnxruntime's default (all cores) */
  intraOpNumThreads?: number;
  /** onnxruntime inter-op threads. @defaultValue 1 */
  interOpNumThreads?: number;
  /**
   * Further onnxruntime session options (merged over the thread settings above), e.g.
   * `{ extra: { session: { intra_op: { allow_spinning: '0' } } } }`.
   */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /** Output width, when the logits output's shape does not say it. @defaultValue from the model's metadata */
  vocabularySize?: number;
  /** Heads and head size of the cache tensors, when their shapes do not say it. @defaultValue from the model's metadata */
  cacheShape?: { heads: number; headDimension: number };
}

interface CacheEntry {
  readonly input: string;
  readonly output: string;
  readonly heads: number;
  readonly headDimension: number;
}

/**
 * A {@link StepModel} over two ONNX files run with onnxruntime-node: an encoder run once per
 * batch, and a decoder that advances every hypothesis by one position with an explicit KV cache.
 *
 * Tensor contract (names configurable through {@link Seq2SeqTensorNames}; the defaults are the
 * TIGER peer's export):
 *
 * | file | tensor | dtype | shape |
 * |---|---|---|---|
 * | encoder | `src_tokens` (in) | int64 | `[batch, src_len]` |
 * | encoder | `memory_key_bias`, `cross_key_i`, `cross_value_i` (out) | float32 | `[batch, src_len]`, `[batch, heads, src_len, head_dim]` |
 * | decoder | `input_ids` (in) | int64 | `[batch_x_beams, 1]` |
 * | decoder | encoder outputs above (in, per user) | float32 | as produced |
 * | decoder | `past_key_i`, `past_value_i` (in) | float32 | `[batch_x_beams, heads, past_len, head_dim]` (`past_len` 0 at step 0) |
 * | decoder | `logits` (out) | float32 | `[batch_x_beams, vocab]` (raw) |
 * | decoder | `present_key_i`, `present_value_i` (out) | float32 | `[batch_x_beams, heads, past_len + 1, head_dim]` |
 *
 * Rows are user-major with the same number of beams per user; the decoder derives the position
 * from `past_len`. Between steps the session gathers the `present_*` rows of the parents into
 * reused buffers and feeds them as the next `past_*` (skipped when the parents are the identity).
 *
 * @example
 * ```ts
 * const model = await OnnxSeq2SeqStepModel.create({ encoder: 'encoder.onnx', decoder: 'decoder_step.onnx', intraOpNumThreads: 2 });
 * const result = await beamSearch(model, { tokens, batchSize: 64, length: 80 }, { trie, beamWidth: 20, resultCount: 10 });
 * await model.dispose();
 * ```
 */
export class OnnxSeq2SeqStepModel implements StepModel {
  /** Width of the logits. */
  readonly vocabularySize: number;
  /** The resolved tensor names. */
  readonly names: Seq2SeqTensorNames;
  readonly #encoder: ort.InferenceSession;
  readonly #decoder: ort.InferenceSession;
  readonly #cache: readonly CacheEntry[];
  readonly #encoderOutputs: readonly string[];
  readonly #freeBuffers: Float32Array[] = [];

  private constructor(encoder: ort.InferenceSession, decoder: ort.InferenceSession, names: Seq2SeqTensorNames, vocabularySize: number, cache: CacheEntry[]) {
    this.#encoder = encoder;
    this.#decoder = decoder;
    this.names = names;
    this.vocabularySize = vocabularySize;
    this.#cache = cache;
    this.#encoderOutputs = [...new Set(Object.values(names.encoderToDecoder))];
  }

  /**
   * Loads both files and checks the tensor names against them.
   *
   * @throws GenrecError `NOT_FOUND` for a missing file, `RUNTIME_ERROR` when onnxruntime cannot load
   *   it, `INVALID_OPTION` when a configured tensor is not in the files or a decoder input is left
   *   unmapped, `SHAPE_MISMATCH` when the vocabulary or cache shape cannot be determined.
   */
  static async create(options: OnnxSeq2SeqStepModelOptions): Promise<OnnxSeq2SeqStepModel> {
    const sessionOptions: ort.InferenceSession.SessionOptions = { interOpNumThreads: options.interOpNumThreads ?? 1, ...options.sessionOptions };
    if (options.intraOpNumThreads !== undefined) sessionOptions.intraOpNumThreads = options.intraOpNumThreads;
    const encoder = await loadSession(options.encoder, sessionOptions, 'encoder');
    const decoder = await loadSession(options.decoder, sessionOptions, 'decoder');
    const given = options.names ?? {};
    const encoderToDecoder: Record<string, string> = {};
    if (given.encoderToDecoder) Object.assign(encoderToDecoder, given.encoderToDecoder);
    else for (const name of decoder.inputNames) if (encoder.outputNames.includes(name)) encoderToDecoder[name] = name;
    const cachePairs: Record<string, string> = {};
    if (given.cache) Object.assign(cachePairs, given.cache);
    else for (const name of decoder.inputNames) if (name.startsWith('past_') && decoder.outputNames.includes(`present_${name.slice(5)}`)) cachePairs[name] = `present_${name.slice(5)}`;
    const names: Seq2SeqTensorNames = {
      encoderInput: given.encoderInput ?? 'src_tokens',
      decoderInput: given.decoderInput ?? 'input_ids',
      logits: given.logits ?? 'logits',
      encoderToDecoder,
      cache: cachePairs,
    };
    const missing = (list: readonly string[], name: string, where: string): void => {
      if (!list.includes(name)) throw new GenrecError('INVALID_OPTION', `tensor "${name}" is not among the ${where} (${list.join(', ')})`, { details: { field: 'names' } });
    };
    missing(encoder.inputNames, names.encoderInput, 'encoder inputs');
    missing(decoder.inputNames, names.decoderInput, 'decoder inputs');
    missing(decoder.outputNames, names.logits, 'decoder outputs');
    for (const [input, output] of Object.entries(encoderToDecoder)) {
      missing(decoder.inputNames, input, 'decoder inputs');
      missing(encoder.outputNames, output, 'encoder outputs');
    }
    for (const [input, output] of Object.entries(cachePairs)) {
      missing(decoder.inputNames, input, 'decoder inputs');
      missing(decoder.outputNames, output, 'decoder outputs');
    }
    for (const input of decoder.inputNames) {
      if (input !== names.decoderInput && !(input in encoderToDecoder) && !(input in cachePairs)) {
        throw new GenrecError('INVALID_OPTION', `decoder input "${input}" is neither the token input, an encoder output nor a cache input; map it in options.names`, {
          details: { field: 'names' },
        });
      }
    }
    const logitsShape = metadataShape(decoder, names.logits, 'output');
    const vocabularySize = options.vocabularySize ?? (typeof logitsShape?.[1] === 'number' ? logitsShape[1] : undefined);
    if (vocabularySize === undefined || !Number.isInteger(vocabularySize) || vocabularySize <= 0) {
      throw new GenrecError('SHAPE_MISMATCH', `cannot read the vocabulary size from the shape of "${names.logits}"; pass options.vocabularySize`, { details: { field: 'vocabularySize' } });
    }
    const cache: CacheEntry[] = Object.entries(cachePairs).map(([input, output]) => {
      const shape = metadataShape(decoder, input, 'input');
      const heads = options.cacheShape?.heads ?? (typeof shape?.[1] === 'number' ? shape[1] : undefined);
      const headDimension = options.cacheShape?.headDimension ?? (typeof shape?.[3] === 'number' ? shape[3] : undefined);
      if (heads === undefined || headDimension === undefined) {
        throw new GenrecError('SHAPE_MISMATCH', `cannot read heads and head size from the shape of "${input}"; pass options.cacheShape`, { details: { field: 'cacheShape' } });
      }
      return { input, output, heads, headDimension };
    });
    return new OnnxSeq2SeqStepModel(encoder, decoder, names, vocabularySize, cache);
  }

  /**
   * Runs the encoder once for the batch.
   *
   * @throws GenrecError `SHAPE_MISMATCH` for a wrong token count, `INVALID_INPUT` for a negative
   *   token (it would wrap around in the model's embedding lookup), `RUNTIME_ERROR` when
   *   onnxruntime fails.
   */
  async encode(input: StepModelInput): Promise<StepSession> {
    const { batchSize, length, tokens } = input;
    if (!Number.isInteger(batchSize) || batchSize <= 0 || !Number.isInteger(length) || length <= 0 || tokens.length !== batchSize * length) {
      throw new GenrecError('SHAPE_MISMATCH', `encoder input has ${tokens.length} tokens, expected batchSize x length = ${batchSize} x ${length}`, { details: { field: 'inputs' } });
    }
    checkTokenIds(tokens, 'inputs.tokens');
    const source = new BigInt64Array(batchSize * length);
    writeInt64(tokens, source, tokens.length);
    const outputs = await runSession(this.#encoder, { [this.names.encoderInput]: new ort.Tensor('int64', source, [batchSize, length]) }, this.#encoderOutputs, 'encoder');
    const fixed: Record<string, ort.Tensor> = {};
    for (const [input, output] of Object.entries(this.names.encoderToDecoder)) fixed[input] = outputs[output]!;
    return new OnnxSeq2SeqSession(this, batchSize, fixed);
  }

  /** Releases the onnxruntime sessions. */
  async dispose(): Promise<void> {
    await this.#encoder.release();
    await this.#decoder.release();
  }

  /** @internal */
  get decoderSession(): ort.InferenceSession {
    return this.#decoder;
  }

  /** @internal */
  get cacheEntries(): readonly CacheEntry[] {
    return this.#cache;
  }

  /** @internal A reused buffer of at least `length` floats. */
  acquireBuffer(length: number): Float32Array {
    for (let i = 0; i < this.#freeBuffers.length; i++) {
      const buffer = this.#freeBuffers[i]!;
      if (buffer.length >= length) {
        this.#freeBuffers.splice(i, 1);
        return buffer;
      }
    }
    return new Float32Array(length);
  }

  /** @internal Returns a buffer for reuse by later sessions. */
  releaseBuffer(buffer: Float32Array): void {
    if (this.#freeBuffers.length < 64) this.#freeBuffers.push(buffer);
  }
}

class OnnxSeq2SeqSession implements StepSession {
  readonly batchSize: number;
  readonly #model: OnnxSeq2SeqStepModel;
  readonly #feeds: Record<string, ort.Tensor>;
  #pastLength = 0;
  #present: Record<string, ort.Tensor> | undefined;
  #rows = 0;
  #inputIds = new BigInt64Array(0);
  readonly #buffers = new Map<string, Float32Array>();
  readonly #fetches: string[];
  #disposed = false;

  constructor(model: OnnxSeq2SeqStepModel, batchSize: number, fixed: Record<string, ort.Tensor>) {
    this.#model = model;
    this.batchSize = batchSize;
    this.#feeds = { ...fixed };
    this.#fetches = [model.names.logits, ...model.cacheEntries.map((entry) => entry.output)];
  }

  async step(tokens: Int32Array, parents: Int32Array | null, beamsPerUser: number): Promise<Float32Array> {
    if (this.#disposed) throw new GenrecError('INVALID_INPUT', 'step() on a disposed session');
    const model = this.#model;
    if (!Number.isInteger(beamsPerUser) || beamsPerUser <= 0) throw new GenrecError('INVALID_INPUT', `beamsPerUser must be a positive integer, got ${beamsPerUser}`);
    const rows = this.batchSize * beamsPerUser;
    if (tokens.length !== rows) throw new GenrecError('SHAPE_MISMATCH', `step got ${tokens.length} tokens, expected batchSize x beamsPerUser = ${rows}`);
    checkTokenIds(tokens, 'tokens', model.vocabularySize);
    if (parents === null) {
      this.#pastLength = 0;
      this.#present = undefined;
    } else {
      if (parents.length !== rows) throw new GenrecError('SHAPE_MISMATCH', `step got ${parents.length} parents, expected ${rows}`);
      if (this.#present === undefined) throw new GenrecError('INVALID_INPUT', 'parents given at the first step of a session (pass null)');
    }
    if (this.#inputIds.length < rows) this.#inputIds = new BigInt64Array(rows);
    const inputIds = this.#inputIds.subarray(0, rows);
    writeInt64(tokens, inputIds, rows);
    const feeds = this.#feeds;
    feeds[model.names.decoderInput] = new ort.Tensor('int64', inputIds, [rows, 1]);
    const pastLength = this.#pastLength;
    const identity = parents !== null && parents.length === this.#rows && isIdentity(parents);
    for (const entry of model.cacheEntries) {
      const rowSize = entry.heads * pastLength * entry.headDimension;
      const dims = [rows, entry.heads, pastLength, entry.headDimension];
      if (parents === null || pastLength === 0) {
        feeds[entry.input] = new ort.Tensor('float32', new Float32Array(rows * rowSize), dims);
        continue;
      }
      const present = this.#present![entry.output]!;
      if (identity) {
        feeds[entry.input] = present;
        continue;
      }
      const source = present.data as Float32Array;
      let buffer = this.#buffers.get(entry.input);
      if (!buffer || buffer.length < rows * rowSize) {
        if (buffer) model.releaseBuffer(buffer);
        buffer = model.acquireBuffer(rows * rowSize * Math.ceil((pastLength + 1) / pastLength));
        this.#buffers.set(entry.input, buffer);
      }
      const sourceRows = this.#rows;
      for (let row = 0; row < rows; row++) {
        const parent = parents[row]!;
        if (parent < 0 || parent >= sourceRows) throw new GenrecError('INVALID_INPUT', `parent ${parent} of row ${row} is outside the previous step's rows 0..${sourceRows - 1}`);
        buffer.set(source.subarray(parent * rowSize, (parent + 1) * rowSize), row * rowSize);
      }
      feeds[entry.input] = new ort.Tensor('float32', buffer.subarray(0, rows * rowSize), dims);
    }
    const outputs = await runSession(model.decoderSession, feeds, this.#fetches, 'decoder');
    this.#present = outputs;
    this.#pastLength = pastLength + 1;
    this.#rows = rows;
    const logits = outputs[model.names.logits]!;
    return logits.data as Float32Array;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const buffer of this.#buffers.values()) this.#model.releaseBuffer(buffer);
    this.#buffers.clear();
    this.#present = undefined;
  }
}

function isIdentity(parents: Int32Array): boolean {
  for (let i = 0; i < parents.length; i++) if (parents[i] !== i) return false;
  return true;
}

async function loadSession(source: string | Uint8Array, options: ort.InferenceSession.SessionOptions, what: string): Promise<ort.InferenceSession> {
  if (typeof source === 'string' && !existsSync(source)) throw new GenrecError('NOT_FOUND', `${what} model file does not exist`, { details: { file: source } });
  try {
    return typeof source === 'string' ? await ort.InferenceSession.create(source, options) : await ort.InferenceSession.create(source, options);
  } catch (error) {
    throw new GenrecError('RUNTIME_ERROR', `onnxruntime could not load the ${what} model: ${(error as Error).message}`, {
      cause: error,
      details: typeof source === 'string' ? { file: source } : {},
    });
  }
}

async function runSession(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, fetches: readonly string[], what: string): Promise<Record<string, ort.Tensor>> {
  try {
    return (await session.run(feeds, fetches as string[])) as Record<string, ort.Tensor>;
  } catch (error) {
    throw new GenrecError('RUNTIME_ERROR', `onnxruntime failed to run the ${what}: ${(error as Error).message}`, { cause: error });
  }
}

function metadataShape(session: ort.InferenceSession, name: string, io: 'input' | 'output'): ReadonlyArray<number | string> | undefined {
  const list = (io === 'input' ? session.inputMetadata : session.outputMetadata) as ReadonlyArray<{ name: string; isTensor: boolean; shape?: ReadonlyArray<number | string> }> | undefined;
  const entry = list?.find((item) => item.name === name);
  return entry?.isTensor ? entry.shape : undefined;
}
