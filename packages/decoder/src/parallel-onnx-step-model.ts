import { createRequire } from 'node:module';
import { GenrecError, type StepModel, type StepModelInput, type StepSession } from '@genrec/core';
import { checkTokenIds } from './int64.js';
import { WorkerRpc, type WorkerReply } from './worker-rpc.js';
import { OnnxSeq2SeqStepModel, type OnnxSeq2SeqStepModelOptions, type Seq2SeqTensorNames } from './onnx-seq2seq-step-model.js';

/** Options of {@link ParallelOnnxStepModel.create}. */
export interface ParallelOnnxStepModelOptions extends Omit<OnnxSeq2SeqStepModelOptions, 'intraOpNumThreads'> {
  /**
   * Worker threads, each holding its own onnxruntime sessions; a batch's users are split into this
   * many contiguous parts run concurrently (fewer when the batch has fewer users).
   * @defaultValue 2
   */
  workers?: number;
  /** onnxruntime intra-op threads per worker. @defaultValue 1 */
  intraOpNumThreads?: number;
}

type StepReply = WorkerReply & { logits?: Float32Array };
type StepWorker = WorkerRpc<StepReply>;

/** The worker: plain CommonJS run with `eval: true`, so it loads the same way under tsx, vitest and `dist/`. */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const { names, cache, sessionOptions } = workerData;
const sessions = new Map();
const pool = [];
let encoder, decoder;
function acquire(length) {
  for (let i = 0; i < pool.length; i++) if (pool[i].length >= length) return pool.splice(i, 1)[0];
  return new Float32Array(length);
}
function int64(values) {
  const target = new BigInt64Array(values.length);
  const words = new Int32Array(target.buffer);
  for (let i = 0; i < values.length; i++) { words[2 * i] = values[i]; words[2 * i + 1] = values[i] < 0 ? -1 : 0; }
  return target;
}
// set by close: a message queued after it must never reach a released session (onnxruntime's
// binding aborts the process on a run of a released session)
let closed = false;
async function handle(message) {
  if (closed) throw new Error('the worker was closed');
  if (message.kind === 'load') {
    encoder = await ort.InferenceSession.create(workerData.encoder, sessionOptions);
    decoder = await ort.InferenceSession.create(workerData.decoder, sessionOptions);
    return {};
  }
  if (message.kind === 'encode') {
    const fetches = [...new Set(Object.values(names.encoderToDecoder))];
    const outputs = await encoder.run({ [names.encoderInput]: new ort.Tensor('int64', int64(message.tokens), [message.batchSize, message.length]) }, fetches);
    const fixed = {};
    for (const [input, output] of Object.entries(names.encoderToDecoder)) fixed[input] = outputs[output];
    sessions.set(message.session, { fixed, present: undefined, pastLength: 0, rows: 0, buffers: new Map() });
    return {};
  }
  if (message.kind === 'step') {
    const state = sessions.get(message.session);
    const { tokens, parents } = message;
    const rows = tokens.length;
    const feeds = { ...state.fixed, [names.decoderInput]: new ort.Tensor('int64', int64(tokens), [rows, 1]) };
    if (parents === null) { state.present = undefined; state.pastLength = 0; }
    const pastLength = state.pastLength;
    for (const entry of cache) {
      const rowSize = entry.heads * pastLength * entry.headDimension;
      const dims = [rows, entry.heads, pastLength, entry.headDimension];
      if (parents === null || pastLength === 0) { feeds[entry.input] = new ort.Tensor('float32', new Float32Array(rows * rowSize), dims); continue; }
      const source = state.present[entry.output].data;
      let buffer = state.buffers.get(entry.input);
      if (buffer === undefined || buffer.length < rows * rowSize) {
        if (buffer !== undefined && pool.length < 64) pool.push(buffer);
        buffer = acquire(rows * rowSize * Math.ceil((pastLength + 1) / pastLength));
        state.buffers.set(entry.input, buffer);
      }
      const gathered = buffer.subarray(0, rows * rowSize);
      for (let row = 0; row < rows; row++) {
        const parent = parents[row];
        if (parent < 0 || parent >= state.rows) throw new Error('parent ' + parent + ' of row ' + row + ' is outside the previous rows');
        gathered.set(source.subarray(parent * rowSize, (parent + 1) * rowSize), row * rowSize);
      }
      feeds[entry.input] = new ort.Tensor('float32', gathered, dims);
    }
    const outputs = await decoder.run(feeds, [names.logits, ...cache.map((entry) => entry.output)]);
    state.present = outputs;
    state.pastLength = pastLength + 1;
    state.rows = rows;
    return { logits: outputs[names.logits].data };
  }
  if (message.kind === 'dispose') {
    const state = sessions.get(message.session);
    if (state) for (const buffer of state.buffers.values()) if (pool.length < 64) pool.push(buffer);
    sessions.delete(message.session);
    return {};
  }
  if (message.kind === 'close') {
    closed = true;
    sessions.clear();
    await encoder?.release(); await decoder?.release();
    encoder = undefined; decoder = undefined;
    return {};
  }
  throw new Error('unknown request ' + message.kind);
}
// one message at a time, in order: a close never overtakes a run
let queue = Promise.resolve();
parentPort.on('message', (message) => {
  queue = queue.then(() => handle(message)).then(
    (reply) => parentPort.postMessage({ id: message.id, ...reply }),
    (error) => parentPort.postMessage({ id: message.id, error: String(error && error.message ? error.message : error) }),
  );
});
`;

/**
 * A {@link StepModel} over the same two ONNX files and tensor contract as
 * {@link OnnxSeq2SeqStepModel}, run in `workers` worker threads: each worker holds its own
 * onnxruntime sessions (1 intra-op thread by default) and serves a contiguous part of the batch's
 * users; encoder runs and decoder steps of the parts run concurrently, and the logits are
 * concatenated in the caller's row order. Rows never cross parts (a hypothesis' parent belongs to
 * the same user), so the KV cache stays inside its worker. The results are those of
 * {@link OnnxSeq2SeqStepModel} (each row's arithmetic does not depend on the other users of its
 * batch up to float rounding; tested on the TIGER fixture).
 *
 * Why: onnxruntime-node runs one `session.run` at a time, and the small operators of a beam-search
 * step parallelise poorly inside one run; two single-threaded runs on two cores are faster than one
 * run on two threads (see the package README for the numbers).
 *
 * @example
 * ```ts
 * const model = await ParallelOnnxStepModel.create({ encoder: 'encoder.onnx', decoder: 'decoder_step.onnx', workers: 2 });
 * const result = await beamSearch(model, { tokens, batchSize: 64, length: 80 }, { trie, beamWidth: 20, resultCount: 10 });
 * await model.dispose();
 * ```
 */
export class ParallelOnnxStepModel implements StepModel {
  /** Width of the logits. */
  readonly vocabularySize: number;
  /** The resolved tensor names. */
  readonly names: Seq2SeqTensorNames;
  readonly #workers: StepWorker[];
  #nextSession = 0;

  private constructor(vocabularySize: number, names: Seq2SeqTensorNames, workers: StepWorker[]) {
    this.vocabularySize = vocabularySize;
    this.names = names;
    this.#workers = workers;
  }

  /** Number of worker threads. */
  get workerCount(): number {
    return this.#workers.length;
  }

  /**
   * Checks the files and names (as {@link OnnxSeq2SeqStepModel.create}) and starts the workers.
   *
   * @throws GenrecError as {@link OnnxSeq2SeqStepModel.create}; `INVALID_OPTION` for a bad `workers`
   *   count; `RUNTIME_ERROR` when a worker cannot load the files.
   */
  static async create(options: ParallelOnnxStepModelOptions): Promise<ParallelOnnxStepModel> {
    const count = options.workers ?? 2;
    if (!Number.isInteger(count) || count < 1) throw new GenrecError('INVALID_OPTION', `workers must be a positive integer, got ${count}`, { details: { field: 'workers' } });
    const intraOpNumThreads = options.intraOpNumThreads ?? 1;
    const probe = await OnnxSeq2SeqStepModel.create({ ...options, intraOpNumThreads: 1 });
    const { vocabularySize, names } = probe;
    const cache = probe.cacheEntries.map((entry) => ({ ...entry }));
    await probe.dispose();
    const sessionOptions = { interOpNumThreads: options.interOpNumThreads ?? 1, ...options.sessionOptions, intraOpNumThreads };
    const workerData = {
      ortPath: createRequire(import.meta.url).resolve('onnxruntime-node'),
      encoder: options.encoder,
      decoder: options.decoder,
      names: { ...names, encoderToDecoder: { ...names.encoderToDecoder }, cache: { ...names.cache } },
      cache,
      sessionOptions,
    };
    const workers = Array.from({ length: count }, () => new WorkerRpc<StepReply>(WORKER_SOURCE, workerData));
    try {
      await Promise.all(workers.map((worker) => worker.request({ kind: 'load' })));
    } catch (error) {
      await Promise.allSettled(workers.map((worker) => worker.close()));
      throw error;
    }
    return new ParallelOnnxStepModel(vocabularySize, names, workers);
  }

  /**
   * Splits the batch's users into contiguous parts (one per worker) and runs their encoders concurrently.
   *
   * @throws GenrecError `SHAPE_MISMATCH` for a wrong token count, `INVALID_INPUT` for a negative
   *   token, `RUNTIME_ERROR` when onnxruntime fails.
   */
  async encode(input: StepModelInput): Promise<StepSession> {
    const { batchSize, length, tokens } = input;
    if (!Number.isInteger(batchSize) || batchSize <= 0 || !Number.isInteger(length) || length <= 0 || tokens.length !== batchSize * length) {
      throw new GenrecError('SHAPE_MISMATCH', `encoder input has ${tokens.length} tokens, expected batchSize x length = ${batchSize} x ${length}`, { details: { field: 'inputs' } });
    }
    checkTokenIds(tokens, 'inputs.tokens');
    const parts = Math.min(this.#workers.length, batchSize);
    const firstUser = new Int32Array(parts + 1);
    for (let part = 0; part <= parts; part++) firstUser[part] = Math.round((part * batchSize) / parts);
    const session = this.#nextSession++;
    await Promise.all(
      Array.from({ length: parts }, (_, part) =>
        this.#workers[part]!.request({
          kind: 'encode',
          session,
          tokens: tokens.slice(firstUser[part]! * length, firstUser[part + 1]! * length),
          batchSize: firstUser[part + 1]! - firstUser[part]!,
          length,
        }),
      ),
    );
    return new ParallelOnnxSession(this.#workers.slice(0, parts), session, batchSize, firstUser, this.vocabularySize);
  }

  /** Stops the workers and releases their sessions (until then the worker threads keep the process alive). */
  async dispose(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.close()));
  }
}

class ParallelOnnxSession implements StepSession {
  readonly batchSize: number;
  readonly #workers: StepWorker[];
  readonly #session: number;
  readonly #firstUser: Int32Array;
  readonly #vocabularySize: number;
  #previousBeams = 0;
  #logits = new Float32Array(0);
  #disposed = false;

  constructor(workers: StepWorker[], session: number, batchSize: number, firstUser: Int32Array, vocabularySize: number) {
    this.#workers = workers;
    this.#session = session;
    this.batchSize = batchSize;
    this.#firstUser = firstUser;
    this.#vocabularySize = vocabularySize;
  }

  async step(tokens: Int32Array, parents: Int32Array | null, beamsPerUser: number): Promise<Float32Array> {
    if (this.#disposed) throw new GenrecError('INVALID_INPUT', 'step() on a disposed session');
    if (!Number.isInteger(beamsPerUser) || beamsPerUser <= 0) throw new GenrecError('INVALID_INPUT', `beamsPerUser must be a positive integer, got ${beamsPerUser}`);
    const rows = this.batchSize * beamsPerUser;
    if (tokens.length !== rows) throw new GenrecError('SHAPE_MISMATCH', `step got ${tokens.length} tokens, expected batchSize x beamsPerUser = ${rows}`);
    checkTokenIds(tokens, 'tokens', this.#vocabularySize);
    if (parents !== null) {
      if (parents.length !== rows) throw new GenrecError('SHAPE_MISMATCH', `step got ${parents.length} parents, expected ${rows}`);
      if (this.#previousBeams === 0) throw new GenrecError('INVALID_INPUT', 'parents given at the first step of a session (pass null)');
    }
    const previousBeams = this.#previousBeams;
    const requests = this.#workers.map((worker, part) => {
      const rowStart = this.#firstUser[part]! * beamsPerUser;
      const rowEnd = this.#firstUser[part + 1]! * beamsPerUser;
      let localParents: Int32Array | null = null;
      if (parents !== null) {
        const parentStart = this.#firstUser[part]! * previousBeams;
        const parentEnd = this.#firstUser[part + 1]! * previousBeams;
        localParents = new Int32Array(rowEnd - rowStart);
        for (let row = rowStart; row < rowEnd; row++) {
          const parent = parents[row]!;
          if (parent < parentStart || parent >= parentEnd) {
            throw new GenrecError('INVALID_INPUT', `parent ${parent} of row ${row} belongs to another part of the batch (rows ${parentStart}..${parentEnd - 1}); parents must stay within their user`);
          }
          localParents[row - rowStart] = parent - parentStart;
        }
      }
      return worker.request({ kind: 'step', session: this.#session, tokens: tokens.slice(rowStart, rowEnd), parents: localParents });
    });
    const replies = await Promise.all(requests);
    const width = this.#vocabularySize;
    if (this.#logits.length < rows * width) this.#logits = new Float32Array(rows * width);
    const logits = this.#logits.subarray(0, rows * width);
    replies.forEach((reply, part) => logits.set(reply.logits!, this.#firstUser[part]! * beamsPerUser * width));
    this.#previousBeams = beamsPerUser;
    return logits;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const worker of this.#workers) void worker.request({ kind: 'dispose', session: this.#session }).catch(() => undefined);
  }
}
