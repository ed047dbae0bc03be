import { GenrecError, checkIntegerOption, type HistoryBatch } from '@genrec/core';
import { CompiledGraph, Graph, type PreferenceModel, type PreferenceShape } from '@genrec/nn';

/** A history batch of the users `indices` of `batch`, in that order. @internal */
export function selectHistories(batch: HistoryBatch, indices: ArrayLike<number>): HistoryBatch {
  const offsets = new Int32Array(indices.length + 1);
  for (let i = 0; i < indices.length; i++) offsets[i + 1] = offsets[i]! + batch.offsets[indices[i]! + 1]! - batch.offsets[indices[i]!]!;
  const items = new Int32Array(offsets[indices.length]!);
  for (let i = 0; i < indices.length; i++) items.set(batch.items.subarray(batch.offsets[indices[i]!]!, batch.offsets[indices[i]! + 1]!), offsets[i]!);
  return { offsets, items };
}

/** Rows `indices` of a row-major `rows x width` array. @internal */
export function selectRows<T extends Int32Array | Float32Array | Float64Array>(values: T, width: number, indices: ArrayLike<number>): T {
  const out = new (values.constructor as new (length: number) => T)(indices.length * width);
  for (let i = 0; i < indices.length; i++) out.set(values.subarray(indices[i]! * width, (indices[i]! + 1) * width), i * width);
  return out;
}

/** What a {@link LogProbScorer} computes: log π per candidate, or a token-level model's per-position next-token logits. */
export type ScorerOutput = 'log-prob' | 'token-logits';

/**
 * log π(candidate | history) of a preference model under any parameter values, computed with the
 * dropout-free graph (`new Graph({ training: false })`) the model's `buildLogProb` declares, compiled
 * once with the parameters as inputs (so the same session serves the reference of every round and
 * the policy). With `output: 'token-logits'` it computes the hook's `buildTokenLogits` instead
 * (same feeds): the next-token logits at each of a candidate's positions.
 *
 * @example
 * ```ts
 * const scorer = await LogProbScorer.create(hook, { users: 64, candidates: 2 });
 * const logp = await scorer.run(hook.parameterValues(), pairs.histories, pairs.candidates);
 * await scorer.release();
 * ```
 */
export class LogProbScorer {
  private constructor(
    private readonly hook: PreferenceModel,
    private readonly compiled: CompiledGraph,
    /** The static batch shape of the compiled graph. */
    readonly shape: PreferenceShape,
    private readonly parameterNames: ReadonlySet<string>,
    /** Output values per candidate: 1 for log π, `tokensPerItem x vocabularySize` for token logits. */
    readonly valuesPerCandidate: number,
  ) {}

  /**
   * Compiles the dropout-free log-probability (or token-logit) graph of `hook` for batches of `shape`.
   *
   * @param hook - the model's preference hook
   * @param shape - users and candidates per run
   * @param threads - onnxruntime threads per operator (0 = one per core)
   * @param output - `'log-prob'` (`buildLogProb`) or `'token-logits'` (`buildTokenLogits`)
   * @returns the scorer
   * @throws GenrecError `UNSUPPORTED` for `'token-logits'` when the hook has no `buildTokenLogits`.
   * @example
   * ```ts
   * const logits = await LogProbScorer.create(tigerHook, { users: 64, candidates: 1 }, 0, 'token-logits');
   * ```
   */
  static async create(hook: PreferenceModel, shape: PreferenceShape, threads = 0, output: ScorerOutput = 'log-prob'): Promise<LogProbScorer> {
    if (output === 'token-logits' && hook.buildTokenLogits === undefined) {
      throw new GenrecError('UNSUPPORTED', `the ${hook.kind} preference hook has no buildTokenLogits (item-level model)`, { details: { field: 'output' } });
    }
    const graph = new Graph({ training: false });
    const out = output === 'token-logits' ? hook.buildTokenLogits!(graph, shape) : hook.buildLogProb(graph, shape);
    const compiled = await CompiledGraph.create(graph, { outputs: [out], outputNames: ['out'], parameters: 'inputs', intraOpNumThreads: threads });
    return new LogProbScorer(hook, compiled, shape, new Set(graph.parameters.map((p) => p.tensor.name)), out.size / (shape.users * shape.candidates));
  }

  /**
   * log π of every candidate (or its token logits) for any number of users (run in batches of
   * `shape.users`; the last batch is padded with copies of its first user).
   *
   * @param parameters - the parameter values to use, by graph name (every parameter of the graph)
   * @param histories - one history per user
   * @param candidates - `users x shape.candidates` item ids
   * @returns log π, `users x shape.candidates` (float32, as the graph computes it); for token logits
   * `users x shape.candidates x tokensPerItem x vocabularySize`
   * @throws GenrecError `SHAPE_MISMATCH` when `candidates` does not hold `shape.candidates` per
   * user, `UNKNOWN_ID` when a parameter has no value.
   */
  async run(parameters: ReadonlyMap<string, Float32Array | Float64Array>, histories: HistoryBatch, candidates: Int32Array): Promise<Float32Array> {
    const { users: batch, candidates: width } = this.shape;
    const per = width * this.valuesPerCandidate;
    const users = histories.offsets.length - 1;
    if (candidates.length !== users * width) {
      throw new GenrecError('SHAPE_MISMATCH', `LogProbScorer.run: ${candidates.length} candidates for ${users} users x ${width}`, { details: { field: 'candidates' } });
    }
    const feeds: Record<string, Float32Array | Float64Array | BigInt64Array | Int32Array> = {};
    for (const info of this.compiled.inputs) {
      if (!this.parameterNames.has(info.name)) continue;
      const value = parameters.get(info.name);
      if (value === undefined) throw new GenrecError('UNKNOWN_ID', `LogProbScorer.run: no value for parameter "${info.name}"`, { details: { field: info.name } });
      feeds[info.name] = value;
    }
    const out = new Float32Array(users * per);
    for (let from = 0; from < users; from += batch) {
      const to = Math.min(users, from + batch);
      const indices = Array.from({ length: batch }, (_, i) => (from + i < to ? from + i : from));
      const data = this.hook.logProbFeeds(selectHistories(histories, indices), selectRows(candidates, width, indices), this.shape);
      const result = await this.compiled.run({ ...feeds, ...data });
      out.set((result.out as Float32Array).subarray(0, (to - from) * per), from * per);
    }
    return out;
  }

  /** Releases the onnxruntime session. */
  async release(): Promise<void> {
    await this.compiled.release();
  }
}

/** Options of {@link computeLogProbs}. */
export interface ComputeLogProbsOptions {
  /** Parameter values (by graph name). @defaultValue the model's own (`parameterValues()`) */
  parameters?: ReadonlyMap<string, Float32Array | Float64Array>;
  /** Users per run of the compiled graph. @defaultValue 64 */
  batchSize?: number;
  /** onnxruntime threads per operator (0 = one per core). @defaultValue 0 */
  threads?: number;
}

/**
 * Reference log-probabilities: log π(candidate | history) of a model with dropout off, for
 * `users x candidatesPerUser` candidates. `alignModel` precomputes the frozen reference this way.
 *
 * @param preferenceModel - the model's preference hook
 * @param histories - one history per user
 * @param candidates - `users x candidatesPerUser` item ids, row-major
 * @param candidatesPerUser - candidates per user
 * @param options - parameter values, batch size, threads
 * @returns log π as float32, same layout as `candidates`
 * @throws GenrecError `INVALID_OPTION` for a bad batch size, `SHAPE_MISMATCH` when the sizes disagree.
 * @example
 * ```ts
 * const reference = await computeLogProbs(sasrecPreferenceModel(model), pairs.histories, pairs.candidates, pairs.candidatesPerUser);
 * ```
 */
export async function computeLogProbs(
  preferenceModel: PreferenceModel,
  histories: HistoryBatch,
  candidates: Int32Array,
  candidatesPerUser: number,
  options: ComputeLogProbsOptions = {},
): Promise<Float32Array> {
  checkIntegerOption(candidatesPerUser, 'candidatesPerUser', 1);
  const batchSize = checkIntegerOption(options.batchSize ?? 64, 'batchSize', 1, 1_000_000);
  const threads = checkIntegerOption(options.threads ?? 0, 'threads', 0, 1024);
  const users = histories.offsets.length - 1;
  if (users === 0) return new Float32Array(0);
  const scorer = await LogProbScorer.create(preferenceModel, { users: Math.min(batchSize, users), candidates: candidatesPerUser }, threads);
  try {
    return await scorer.run(options.parameters ?? preferenceModel.parameterValues(), histories, candidates);
  } finally {
    await scorer.release();
  }
}
