import { checkResultSize, GenrecError, type StepModel, type StepModelInput } from '@genrec/core';
import { BeamState } from './beam-state.js';
import { ExclusionPruner } from './exclusion-pruning.js';
import { logSumExpRow } from './log-sum-exp.js';
import { composeLogitsProcessors, type LogitsProcessor } from './logits-processors.js';
import type { PrefixTrie } from './prefix-trie.js';
import { checkSplit, createSearchResult, mergeSearchResults, selectUsers } from './search-result.js';
import { TopKSelector } from './top-k-selector.js';

/** Per user, the item ids a search must not return (e.g. the user's history). */
export type ExcludedItems = ReadonlyArray<ReadonlySet<number> | ArrayLike<number> | undefined>;

/**
 * Time spent in the parts of a search, accumulated over calls (milliseconds). Pass the same
 * object to several calls to sum them.
 */
export interface BeamSearchStats {
  /** Calls that added to this object. */
  calls: number;
  /**
   * Inside the model (`encode` and `step`). When the model splits a batch into concurrent
   * sub-batches, the times of the sub-batches add up (and may exceed the wall time).
   */
  modelMs: number;
  /**
   * Inside the trie operations alone: looking up each row's allowed-token list and advancing the
   * rows' nodes (the cost of the constraint itself).
   */
  trieMs: number;
  /** Log-softmax, candidate scoring and partial selection, cache bookkeeping of the search. */
  searchMs: number;
}

/** Creates a zeroed {@link BeamSearchStats}. */
export function createBeamSearchStats(): BeamSearchStats {
  return { calls: 0, modelMs: 0, trieMs: 0, searchMs: 0 };
}

/** Options of {@link beamSearch}. */
export interface BeamSearchOptions {
  /**
   * The catalogue's prefix trie. With it, every token the trie forbids after a hypothesis' prefix
   * is removed before selection (so every returned id exists), and results carry item ids.
   */
  trie?: PrefixTrie;
  /**
   * Apply the trie constraint. `false` searches the full vocabulary (like the peer's "no trie"
   * mode) and only uses the trie to map results to item ids (`-1` for sequences that are not an id).
   * @defaultValue true when `trie` is given
   */
  constrain?: boolean;
  /**
   * Hypotheses kept per user after each step (except the last): an integer from 1 to
   * {@link maxBeamsFor}`(batchSize, vocabularySize)` (a step's logits stay within 2^28 values);
   * above it `INVALID_OPTION`, never clamped. @defaultValue 10
   */
  beamWidth?: number;
  /** Results per user (hypotheses kept at the last step); bounded like `beamWidth`. @defaultValue `beamWidth` */
  resultCount?: number;
  /** Tokens to generate. @defaultValue `trie.levels` (required without a trie) */
  steps?: number;
  /** Decoder start token. @defaultValue the trie layout's `bos` token (required without a trie) */
  startToken?: number;
  /**
   * Length penalty exponent `alpha`: a result's `score` is `logProb / steps^alpha`. Every id has
   * the same length, so it rescales scores and never reorders them.
   * @defaultValue 0
   */
  lengthPenalty?: number;
  /**
   * Normalise the log-softmax over the tokens the trie allows instead of the full vocabulary.
   * Off by default: a candidate's score is the sum of its tokens' log-softmax over the full
   * vocabulary (what the TIGER peer does). Only meaningful when constrained.
   * @defaultValue false
   */
  renormalize?: boolean;
  /**
   * Per user, items never to return (the user's history). Pruned at every level: a hypothesis is
   * never extended into a trie node whose leaves are all excluded for that user (see
   * {@link ExclusionPruner}), so excluded items use up no beam; the results are the best ids among
   * the others, and with `beamWidth >= resultCount` every user gets `min(resultCount, items not
   * excluded)` results. Needs a constraining trie.
   */
  exclude?: ExcludedItems;
  /** Applied in order to the raw logits of every step, before the log-softmax. @defaultValue [] */
  logitsProcessors?: readonly LogitsProcessor[];
  /** Accumulates where the time went. */
  stats?: BeamSearchStats;
  /** Called after every step with the state (read only; its buffers are reused). */
  onStep?: (state: BeamState) => void;
}

/** Options of {@link diverseBeamSearch}. */
export interface DiverseBeamSearchOptions extends BeamSearchOptions {
  /** Number of groups; `beamWidth` must be a multiple of it. */
  groups: number;
  /**
   * Hamming diversity penalty: while group `g` selects at a step, a token already chosen `n` times
   * at that step by groups `0..g-1` of the same user has `diversityPenalty x n` subtracted.
   */
  diversityPenalty: number;
}

/** What a search returns: `resultCount` hypotheses per user, best first, flat typed arrays. */
export interface BeamSearchResult {
  /** Users in the batch. */
  readonly batchSize: number;
  /** Result slots per user. */
  readonly resultCount: number;
  /** Tokens per result. */
  readonly steps: number;
  /** Item ids, `batchSize x resultCount`; `-1` for an empty slot or a sequence that is no item. */
  readonly itemIds: Int32Array;
  /** Generated tokens, `batchSize x resultCount x steps`; `-1` in empty slots. */
  readonly tokens: Int32Array;
  /** Sum of the tokens' log-probabilities, `batchSize x resultCount`; `-Infinity` in empty slots. */
  readonly logProbs: Float64Array;
  /** `logProb / steps^lengthPenalty`, parallel to `logProbs`. */
  readonly scores: Float64Array;
  /** Filled slots per user (fewer than `resultCount` only when fewer valid ids exist). */
  readonly counts: Int32Array;
  /** Views of one user's results. */
  user(index: number): { itemIds: Int32Array; tokens: Int32Array; logProbs: Float64Array; scores: Float64Array };
}

/**
 * Batched beam search over a {@link StepModel}, optionally constrained by a {@link PrefixTrie}.
 *
 * At step `t`, every kept hypothesis `w` of a user is extended by every token; a candidate's
 * score is the hypothesis' score plus the token's log-softmax over the full vocabulary (float64),
 * the trie removes every token not allowed after the hypothesis' prefix, and the best `beamWidth`
 * candidates per user (best `resultCount` at the last step) are kept by partial selection. Ties:
 * score descending, then flat index `w x vocabularySize + token` ascending. The model's cache
 * follows the parents (see `StepSession.step`); the encoder runs once.
 *
 * With a trie and `beamWidth >= ` the number of items the result is exact: the true top
 * `resultCount` ids by total log-probability.
 *
 * @param model - Gives `vocabularySize` logits per row and step.
 * @param inputs - The users' encoder tokens.
 * @returns Item ids, tokens and log-probabilities per user, best first.
 * @throws GenrecError `INVALID_OPTION` for bad widths/counts, `INVALID_INPUT` for an empty
 *   catalogue or NaN/infinite logits, `SHAPE_MISMATCH` when the model vocabulary is smaller than
 *   the trie's or the logits have the wrong size.
 *
 * @example
 * ```ts
 * const trie = PrefixTrie.fromTable(table, layout);
 * const result = await beamSearch(model, { tokens, batchSize: 2, length: 80 }, { trie, beamWidth: 20, resultCount: 10 });
 * result.user(0).itemIds; // the 10 best items of user 0
 * ```
 */
export function beamSearch(model: StepModel, inputs: StepModelInput, options: BeamSearchOptions = {}): Promise<BeamSearchResult> {
  return runSearch(model, inputs, options, 1, 0);
}

/**
 * Diverse beam search (Vijayakumar et al. 2018): the beams are split into `groups` groups that
 * search side by side; at every step the groups select in order, and a token already chosen by an
 * earlier group of the same user at that step is penalised by `diversityPenalty` per use. Each
 * group keeps `beamWidth / groups` hypotheses and its best `beamWidth / groups` finals; the results
 * are the union of the groups' finals, deduplicated by item (or token sequence), sorted by total
 * log-probability (without penalty), cut to `resultCount`. With one group it is {@link beamSearch}.
 *
 * @throws GenrecError as {@link beamSearch}, and `INVALID_OPTION` when `groups` does not divide
 *   `beamWidth`, the penalty is negative, or `resultCount > beamWidth` with several groups.
 */
export function diverseBeamSearch(model: StepModel, inputs: StepModelInput, options: DiverseBeamSearchOptions): Promise<BeamSearchResult> {
  return runSearch(model, inputs, options, options.groups, options.diversityPenalty);
}

interface SearchConfig {
  trie: PrefixTrie | undefined;
  constrain: boolean;
  beamWidth: number;
  resultCount: number;
  steps: number;
  startToken: number;
  lengthPenalty: number;
  renormalize: boolean;
  exclude: Array<ReadonlySet<number> | undefined> | undefined;
  processor: LogitsProcessor | undefined;
  groups: number;
  diversityPenalty: number;
}

/**
 * Most logits one search step may ask of the model (`batchSize x beams x vocabularySize`): 2^28
 * float32 values, 1 GiB. It bounds `beamWidth` and `resultCount` (and `samplesPerUser`).
 */
export const MAX_STEP_LOGITS = 2 ** 28;

/**
 * The largest beam count (`beamWidth`, `resultCount`, `samplesPerUser`) a batch supports: what
 * keeps `batchSize x beams x vocabularySize` logits within {@link MAX_STEP_LOGITS}.
 */
export function maxBeamsFor(batchSize: number, vocabularySize: number): number {
  return Math.max(1, Math.floor(MAX_STEP_LOGITS / (Math.max(1, batchSize) * Math.max(1, vocabularySize))));
}

/**
 * Checks a beam count with core's one rule for result sizes (`checkResultSize`): an integer in
 * `[1, maxBeamsFor(batchSize, vocabularySize)]`, anything else `INVALID_OPTION`, never clamped.
 */
export function checkBeamCount(value: unknown, field: string, batchSize: number, vocabularySize: number): number {
  const maximum = maxBeamsFor(batchSize, vocabularySize);
  return checkResultSize(value, field, maximum, `${batchSize} users x ${field} x ${vocabularySize} tokens of logits must stay within 2^28 per step; decode in smaller batches`);
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new GenrecError('INVALID_OPTION', `${field} must be a positive integer, got ${value}`, { details: { field } });
  return value;
}

function validate(model: StepModel, inputs: StepModelInput, options: BeamSearchOptions, groups: number, diversityPenalty: number): SearchConfig {
  const trie = options.trie;
  const constrain = trie !== undefined && options.constrain !== false;
  const vocabularySize = model.vocabularySize;
  const { batchSize, length, tokens } = inputs;
  if (!Number.isInteger(batchSize) || batchSize <= 0 || !Number.isInteger(length) || length < 0 || tokens.length !== batchSize * length) {
    throw new GenrecError('SHAPE_MISMATCH', `inputs.tokens has ${tokens.length} values, expected batchSize x length = ${batchSize} x ${length}`, { details: { field: 'inputs' } });
  }
  // checked before anything is allocated: the rows of a step are batchSize x beams
  const beamWidth = checkBeamCount(options.beamWidth ?? 10, 'beamWidth', batchSize, vocabularySize);
  const resultCount = checkBeamCount(options.resultCount ?? beamWidth, 'resultCount', batchSize, vocabularySize);
  positiveInteger(groups, 'groups');
  if (beamWidth % groups !== 0) throw new GenrecError('INVALID_OPTION', `beamWidth ${beamWidth} is not a multiple of groups ${groups}`, { details: { field: 'groups' } });
  if (groups > 1 && resultCount > beamWidth) {
    throw new GenrecError('INVALID_OPTION', `resultCount ${resultCount} exceeds beamWidth ${beamWidth} (diverse beam search returns at most beamWidth results)`, { details: { field: 'resultCount' } });
  }
  if (!(diversityPenalty >= 0) || !Number.isFinite(diversityPenalty)) {
    throw new GenrecError('INVALID_OPTION', `diversityPenalty must be a finite number >= 0, got ${diversityPenalty}`, { details: { field: 'diversityPenalty' } });
  }
  if (trie) {
    if (vocabularySize < trie.vocabularySize) {
      throw new GenrecError('SHAPE_MISMATCH', `the model's vocabulary has ${vocabularySize} tokens, fewer than the trie's token layout (${trie.vocabularySize})`, {
        details: { field: 'vocabularySize' },
      });
    }
    if (constrain && trie.itemCount === 0) throw new GenrecError('INVALID_INPUT', 'the catalogue is empty: the trie has no item to decode', { details: { field: 'trie' } });
    if (options.steps !== undefined && options.steps !== trie.levels) {
      throw new GenrecError('INVALID_OPTION', `steps ${options.steps} differs from the trie's id length ${trie.levels}`, { details: { field: 'steps' } });
    }
  }
  const steps = positiveInteger(options.steps ?? trie?.levels ?? Number.NaN, 'steps');
  const startToken = options.startToken ?? trie?.layout.specialTokens.bos;
  if (startToken === undefined || !Number.isInteger(startToken) || startToken < 0 || startToken >= vocabularySize) {
    throw new GenrecError('INVALID_OPTION', `startToken must be a token id in 0..${vocabularySize - 1}, got ${startToken}`, { details: { field: 'startToken' } });
  }
  const lengthPenalty = options.lengthPenalty ?? 0;
  if (!Number.isFinite(lengthPenalty)) throw new GenrecError('INVALID_OPTION', `lengthPenalty must be finite, got ${lengthPenalty}`, { details: { field: 'lengthPenalty' } });
  let exclude: Array<ReadonlySet<number> | undefined> | undefined;
  if (options.exclude) {
    if (!constrain) throw new GenrecError('INVALID_OPTION', 'exclude needs a constraining trie (items are masked at the leaves)', { details: { field: 'exclude' } });
    if (options.exclude.length !== batchSize) {
      throw new GenrecError('SHAPE_MISMATCH', `exclude has ${options.exclude.length} entries, expected one per user (${batchSize})`, { details: { field: 'exclude' } });
    }
    exclude = options.exclude.map((entry) => (entry === undefined ? undefined : entry instanceof Set ? entry : new Set(Array.from(entry as ArrayLike<number>))));
  }
  const processors = options.logitsProcessors ?? [];
  return {
    trie,
    constrain,
    beamWidth,
    resultCount,
    steps,
    startToken,
    lengthPenalty,
    renormalize: options.renormalize ?? false,
    exclude,
    processor: processors.length > 0 ? composeLogitsProcessors(processors) : undefined,
    groups,
    diversityPenalty,
  };
}

async function runSearch(model: StepModel, inputs: StepModelInput, options: BeamSearchOptions, groups: number, diversityPenalty: number): Promise<BeamSearchResult> {
  const config = validate(model, inputs, options, groups, diversityPenalty);
  // per-user processors and onStep see batch-local user indices: keep such batches whole
  const splittable = config.processor === undefined && options.onStep === undefined;
  const parts = splittable ? model.splitBatch?.(inputs) : undefined;
  if (parts === undefined || parts.length <= 1) {
    const result = await searchBatch(model, inputs, options, config);
    if (options.stats) options.stats.calls++;
    return result;
  }
  // concurrent sub-batches (the model's plan), merged back into the input's user order
  const subsets = checkSplit(parts, inputs.batchSize);
  const results = await Promise.all(
    subsets.map((users) => {
      const exclude = config.exclude;
      return searchBatch(model, selectUsers(inputs, users), options, exclude ? { ...config, exclude: Array.from(users, (user) => exclude[user]) } : config);
    }),
  );
  if (options.stats) options.stats.calls++;
  return mergeSearchResults(inputs.batchSize, subsets, results);
}

async function searchBatch(model: StepModel, inputs: StepModelInput, options: BeamSearchOptions, config: SearchConfig): Promise<BeamSearchResult> {
  const stats = options.stats;
  let clock = performance.now();
  const session = await model.encode(inputs);
  if (stats) {
    const now = performance.now();
    stats.modelMs += now - clock;
    clock = now;
  }
  try {
    const search = new SearchRun(model.vocabularySize, inputs.batchSize, config);
    for (let step = 0; step < config.steps; step++) {
      const { state } = search;
      const before = performance.now();
      const logits = await session.step(search.inputTokens.subarray(0, state.rows), step === 0 ? null : state.parents.subarray(0, state.rows), state.beamsPerUser, step === config.steps - 1);
      const after = performance.now();
      if (stats) stats.modelMs += after - before;
      search.advance(logits, stats);
      if (stats) stats.searchMs += performance.now() - after;
      options.onStep?.(state);
    }
    return search.collect();
  } finally {
    session.dispose();
  }
}

/** One search's buffers and per-step logic (kept apart from the async loop so it stays monomorphic). */
class SearchRun {
  readonly state: BeamState;
  readonly inputTokens: Int32Array;
  readonly #config: SearchConfig;
  readonly #vocabularySize: number;
  readonly #batchSize: number;
  readonly #beamsPerGroup: number;
  readonly #finalPerGroup: number;
  readonly #logSumExp: Float64Array;
  readonly #rangeStart: Int32Array;
  readonly #rangeEnd: Int32Array;
  readonly #selector: TopKSelector;
  readonly #tokenUses: Int32Array | undefined;
  /** Per-user pruning of fully excluded trie nodes (built from `config.exclude`). */
  readonly #pruner: ExclusionPruner | undefined;
  readonly #context: { step: number; rows: number; vocabularySize: number; beamsPerUser: number; generated: Int32Array; generatedStride: number };

  constructor(vocabularySize: number, batchSize: number, config: SearchConfig) {
    this.#config = config;
    this.#vocabularySize = vocabularySize;
    this.#batchSize = batchSize;
    this.#beamsPerGroup = config.beamWidth / config.groups;
    this.#finalPerGroup = config.groups === 1 ? config.resultCount : this.#beamsPerGroup;
    const maxBeams = Math.max(config.beamWidth, config.groups * this.#finalPerGroup);
    const rows = batchSize * maxBeams;
    this.state = new BeamState(batchSize, maxBeams, config.steps);
    this.inputTokens = new Int32Array(rows).fill(config.startToken);
    this.#logSumExp = new Float64Array(rows);
    this.#rangeStart = new Int32Array(rows);
    this.#rangeEnd = new Int32Array(rows);
    this.#selector = new TopKSelector(Math.max(this.#beamsPerGroup, this.#finalPerGroup));
    this.#tokenUses = config.groups > 1 && config.diversityPenalty > 0 ? new Int32Array(vocabularySize) : undefined;
    this.#pruner = config.exclude && config.constrain && config.trie ? new ExclusionPruner(config.trie, config.exclude) : undefined;
    const state = this.state;
    state.scores.fill(0, 0, batchSize);
    state.logProbs.fill(0, 0, batchSize);
    state.nodes.fill(config.constrain ? 0 : -1, 0, batchSize);
    this.#context = { step: 0, rows: batchSize, vocabularySize, beamsPerUser: 1, generated: state.tokens, generatedStride: config.steps };
  }

  /** Scores the candidates of one step from the model's logits and moves the state forward. */
  advance(logits: Float32Array, stats: BeamSearchStats | undefined): void {
    const config = this.#config;
    const state = this.state;
    const vocabularySize = this.#vocabularySize;
    const rows = state.rows;
    const step = state.step;
    if (logits.length < rows * vocabularySize) {
      throw new GenrecError('SHAPE_MISMATCH', `the model returned ${logits.length} logits at step ${step}, expected rows x vocabulary = ${rows} x ${vocabularySize}`);
    }
    if (config.processor) {
      const context = this.#context;
      context.step = step;
      context.rows = rows;
      context.beamsPerUser = state.beamsPerUser;
      context.generated = state.tokens;
      config.processor(logits, context);
    }
    const constrain = config.constrain;
    const trie = config.trie;
    // Trie, part 1: each row's allowed-token slice.
    if (constrain && trie) {
      const started = stats ? performance.now() : 0;
      const childStart = trie.childStartArray;
      const childCount = trie.childCountArray;
      const nodes = state.nodes;
      for (let row = 0; row < rows; row++) {
        const node = nodes[row]!;
        const start = node >= 0 ? childStart[node]! : 0;
        this.#rangeStart[row] = start;
        this.#rangeEnd[row] = node >= 0 ? start + childCount[node]! : start;
      }
      if (stats) stats.trieMs += performance.now() - started;
    }
    this.#computeLogSumExp(logits, rows, step);
    const last = step === config.steps - 1;
    const keepPerGroup = last ? this.#finalPerGroup : this.#beamsPerGroup;
    const newBeams = config.groups * keepPerGroup;
    for (let user = 0; user < this.#batchSize; user++) this.#selectForUser(logits, user, keepPerGroup, newBeams);
    // Trie, part 2: advance every new row to its child node.
    if (constrain && trie) {
      const started = stats ? performance.now() : 0;
      const childNode = trie.childNodePool;
      const nextNodes = state.nextNodes;
      const newRows = this.#batchSize * newBeams;
      for (let row = 0; row < newRows; row++) {
        const index = nextNodes[row]!;
        nextNodes[row] = index >= 0 ? childNode[index]! : -1;
      }
      if (stats) stats.trieMs += performance.now() - started;
    }
    state.swap(newBeams);
  }

  #computeLogSumExp(logits: Float32Array, rows: number, step: number): void {
    const vocabularySize = this.#vocabularySize;
    const renormalize = this.#config.renormalize && this.#config.constrain && this.#config.trie !== undefined;
    const tokenPool = renormalize ? this.#config.trie!.childTokenPool : undefined;
    const scores = this.state.scores;
    for (let row = 0; row < rows; row++) {
      if (scores[row] === Number.NEGATIVE_INFINITY) continue;
      const offset = row * vocabularySize;
      let max = Number.NEGATIVE_INFINITY;
      for (let token = 0; token < vocabularySize; token++) {
        const value = logits[offset + token]!;
        if (value > max) max = value;
        else if (value !== value) throw badLogit(row, token, step, value);
      }
      if (max === Number.POSITIVE_INFINITY) throw badLogit(row, logits.subarray(offset, offset + vocabularySize).indexOf(max), step, max);
      if (max === Number.NEGATIVE_INFINITY) {
        this.#logSumExp[row] = Number.NEGATIVE_INFINITY;
        continue;
      }
      let sum = 0;
      if (tokenPool) {
        let allowedMax = Number.NEGATIVE_INFINITY;
        const start = this.#rangeStart[row]!;
        const end = this.#rangeEnd[row]!;
        for (let i = start; i < end; i++) allowedMax = Math.max(allowedMax, logits[offset + tokenPool[i]!]!);
        if (allowedMax === Number.NEGATIVE_INFINITY) {
          this.#logSumExp[row] = Number.NEGATIVE_INFINITY;
          continue;
        }
        for (let i = start; i < end; i++) sum += Math.exp(logits[offset + tokenPool[i]!]! - allowedMax);
        this.#logSumExp[row] = allowedMax + Math.log(sum);
      } else {
        this.#logSumExp[row] = logSumExpRow(logits, offset, vocabularySize, max);
      }
    }
  }

  #selectForUser(logits: Float32Array, user: number, keepPerGroup: number, newBeams: number): void {
    const config = this.#config;
    const state = this.state;
    const vocabularySize = this.#vocabularySize;
    const beams = state.beamsPerUser;
    const steps = config.steps;
    const step = state.step;
    const selector = this.#selector;
    const scores = state.scores;
    const logProbs = state.logProbs;
    const logSumExp = this.#logSumExp;
    const constrained = config.constrain && config.trie !== undefined;
    const tokenPool = constrained ? config.trie!.childTokenPool : undefined;
    const pruner = constrained ? this.#pruner : undefined;
    const nodePool = pruner ? config.trie!.childNodePool : undefined;
    const uses = this.#tokenUses;
    const penalty = config.diversityPenalty;
    const firstRow = user * beams;
    for (let group = 0; group < config.groups; group++) {
      selector.reset(keepPerGroup);
      // At the first step every group extends the single start hypothesis.
      const groupFirst = beams === 1 ? 0 : group * this.#beamsPerGroup;
      const groupEnd = beams === 1 ? 1 : groupFirst + this.#beamsPerGroup;
      for (let beam = groupFirst; beam < groupEnd; beam++) {
        const row = firstRow + beam;
        const base = scores[row]!;
        const lse = logSumExp[row]!;
        if (base === Number.NEGATIVE_INFINITY || lse === Number.NEGATIVE_INFINITY) continue;
        const baseLogProb = logProbs[row]!;
        const offset = row * vocabularySize;
        const flatBase = beam * vocabularySize;
        if (tokenPool) {
          const end = this.#rangeEnd[row]!;
          for (let index = this.#rangeStart[row]!; index < end; index++) {
            const token = tokenPool[index]!;
            const logProb = logits[offset + token]! - lse;
            let candidate = base + logProb;
            if (uses !== undefined && group > 0) candidate -= penalty * uses[token]!;
            if (candidate < selector.threshold || candidate === Number.NEGATIVE_INFINITY) continue;
            if (pruner !== undefined && pruner.isBlocked(user, nodePool![index]!)) continue;
            selector.offer(candidate, flatBase + token, index, baseLogProb + logProb);
          }
        } else {
          for (let token = 0; token < vocabularySize; token++) {
            const logProb = logits[offset + token]! - lse;
            let candidate = base + logProb;
            if (uses !== undefined && group > 0) candidate -= penalty * uses[token]!;
            if (candidate < selector.threshold || candidate === Number.NEGATIVE_INFINITY) continue;
            selector.offer(candidate, flatBase + token, -1, baseLogProb + logProb);
          }
        }
      }
      selector.finish();
      const newFirst = user * newBeams + group * keepPerGroup;
      const tokens = state.tokens;
      const nextTokens = state.nextTokens;
      for (let slot = 0; slot < keepPerGroup; slot++) {
        const newRow = newFirst + slot;
        let parentRow: number;
        let token: number;
        if (slot < selector.size) {
          const flat = selector.flats[slot]!;
          const parentBeam = Math.floor(flat / vocabularySize);
          token = flat - parentBeam * vocabularySize;
          parentRow = firstRow + parentBeam;
          state.nextScores[newRow] = selector.scores[slot]!;
          state.nextLogProbs[newRow] = selector.extras[slot]!;
          state.nextNodes[newRow] = selector.payloads[slot]!; // pool index; turned into a node id after selection
          this.inputTokens[newRow] = token;
          if (uses !== undefined) uses[token]!++;
        } else {
          // Dead row: fewer valid candidates than beams. Fed to the model (from the user's first row), never selected.
          parentRow = firstRow;
          token = -1;
          state.nextScores[newRow] = Number.NEGATIVE_INFINITY;
          state.nextLogProbs[newRow] = Number.NEGATIVE_INFINITY;
          state.nextNodes[newRow] = -1;
          this.inputTokens[newRow] = config.startToken;
        }
        state.parents[newRow] = parentRow;
        const from = parentRow * steps;
        const to = newRow * steps;
        for (let s = 0; s < step; s++) nextTokens[to + s] = tokens[from + s]!;
        nextTokens[to + step] = token;
      }
    }
    if (uses !== undefined) {
      // Clear this user's token counts (only the tokens just chosen were touched).
      for (let row = user * newBeams; row < (user + 1) * newBeams; row++) {
        const token = state.nextTokens[row * steps + step]!;
        if (token >= 0) uses[token] = 0;
      }
    }
  }

  /** Builds the result from the final state. */
  collect(): BeamSearchResult {
    const config = this.#config;
    const state = this.state;
    const batchSize = this.#batchSize;
    const steps = config.steps;
    const resultCount = config.resultCount;
    const beams = state.beamsPerUser;
    const itemIds = new Int32Array(batchSize * resultCount).fill(-1);
    const tokens = new Int32Array(batchSize * resultCount * steps).fill(-1);
    const logProbs = new Float64Array(batchSize * resultCount).fill(Number.NEGATIVE_INFINITY);
    const scores = new Float64Array(batchSize * resultCount).fill(Number.NEGATIVE_INFINITY);
    const counts = new Int32Array(batchSize);
    const trie = config.trie;
    const itemOfNode = trie?.itemOfNodeArray;
    const divisor = Math.pow(steps, config.lengthPenalty);
    const order: number[] = [];
    for (let user = 0; user < batchSize; user++) {
      order.length = 0;
      for (let beam = 0; beam < beams; beam++) if (state.logProbs[user * beams + beam]! > Number.NEGATIVE_INFINITY) order.push(user * beams + beam);
      if (config.groups > 1) order.sort((a, b) => state.logProbs[b]! - state.logProbs[a]! || a - b);
      const seen = config.groups > 1 ? new Set<string>() : undefined;
      let count = 0;
      for (const row of order) {
        if (count === resultCount) break;
        const sequence = state.tokens.subarray(row * steps, (row + 1) * steps);
        let item = -1;
        if (config.constrain && itemOfNode) item = itemOfNode[state.nodes[row]!]!;
        else if (trie) item = trie.itemOfTokens(sequence);
        if (seen) {
          const key = item >= 0 ? `i${item}` : `t${sequence.join(',')}`;
          if (seen.has(key)) continue;
          seen.add(key);
        }
        const slot = user * resultCount + count;
        itemIds[slot] = item;
        tokens.set(sequence, slot * steps);
        logProbs[slot] = state.logProbs[row]!;
        scores[slot] = state.logProbs[row]! / divisor;
        count++;
      }
      counts[user] = count;
    }
    return createSearchResult(batchSize, resultCount, steps, itemIds, tokens, logProbs, scores, counts);
  }
}

function badLogit(row: number, token: number, step: number, value: number): GenrecError {
  return new GenrecError('INVALID_INPUT', `the model returned a ${value} logit at step ${step}, row ${row}, token ${token}`, { details: { step, row, token } });
}
