import { GenrecError, Rng, WeightedSampler, type ItemCatalog, type ItemRecord } from '@genrec/core';
import type { InteractionDataset } from './sequence-dataset.js';

/** Options of {@link generateSyntheticDataset}; every size is an option. */
export interface SyntheticDatasetOptions {
  /** Seed of every random draw. @defaultValue `42` */
  seed?: number;
  /** Number of users. @defaultValue `5000` */
  userCount?: number;
  /** Number of items. @defaultValue `2000` */
  itemCount?: number;
  /** Top-level topics. @defaultValue `8` */
  topicCount?: number;
  /** Subtopics (leaf categories) per topic. @defaultValue `5` */
  subtopicsPerTopic?: number;
  /** Each user mixes 1 to this many topics. @defaultValue `3` */
  maxTopicsPerUser?: number;
  /** Shortest sequence. @defaultValue `5` */
  minSequenceLength?: number;
  /** Mean sequence length (lengths are `minSequenceLength` + a geometric number). @defaultValue `12` */
  meanSequenceLength?: number;
  /** Longest sequence. @defaultValue `100` */
  maxSequenceLength?: number;
  /** Probability that the next item follows a sequential transition from the previous one. @defaultValue `0.5` */
  transitionProbability?: number;
  /** Successor items per item (the sequential transitions). @defaultValue `3` */
  successorsPerItem?: number;
  /** Zipf exponent of item popularity (0 = uniform). @defaultValue `0.8` */
  popularityExponent?: number;
  /** Earliest timestamp, in seconds. @defaultValue `1_600_000_000` (2020-09-13) */
  startTime?: number;
  /** Users start uniformly within this many days. @defaultValue `365` */
  timeSpanDays?: number;
  /** Mean time between a user's consecutive interactions, in hours. @defaultValue `48` */
  meanGapHours?: number;
  /**
   * Emit a rating from 1 to 5 per interaction (`dataset.ratings`, the field the interaction-log
   * readers fill), driven by the user's affinity for the item's topic: see
   * {@link generateSyntheticDataset} and the package README. Drawn from a separate random stream,
   * so items and timestamps are the same with and without ratings.
   *
   * @defaultValue `false`
   */
  ratings?: boolean;
  /** Standard deviation of the normal noise added to each rating before rounding. @defaultValue `0.75` */
  ratingNoise?: number;
}

/** A node of the synthetic topic hierarchy. */
export interface SyntheticTopic {
  /** Topic name (a generated word). */
  readonly name: string;
  /** Names of its subtopics (the leaf categories). */
  readonly subtopics: readonly string[];
}

/** What {@link generateSyntheticDataset} returns: the data and the ground truth that generated it. */
export interface SyntheticDataset {
  /** The user sequences, with timestamps. */
  readonly dataset: InteractionDataset;
  /** Item metadata: title, categories `[["Synthetic", topic, subtopic]]`, `fields.brand`. */
  readonly catalog: ItemCatalog;
  /** The topic hierarchy. */
  readonly topics: readonly SyntheticTopic[];
  /** Topic index of each item (index = item id; index 0 unused). */
  readonly itemTopic: Int32Array;
  /** Global leaf index (`topic * subtopicsPerTopic + subtopic`) of each item. */
  readonly itemLeaf: Int32Array;
  /** Successors of each item: `successors[item * successorsPerItem + j]`, most likely first. */
  readonly successors: Int32Array;
  /** The options used, defaults filled in. */
  readonly options: Required<SyntheticDatasetOptions>;
  /**
   * With `ratings`: the weight of each topic in each user's mix, `userCount x topicCount`
   * row-major (row = user row, 0 for topics outside the mix).
   */
  readonly userTopicWeights?: Float32Array;
  /**
   * With `ratings`: the affinity behind each rating, parallel to `dataset.items`: the weight of the
   * item's topic in the user's mix divided by the user's largest topic weight (1 = the user's
   * favourite topic, 0 = a topic outside the mix).
   */
  readonly affinities?: Float32Array;
}

const DEFAULTS: Required<SyntheticDatasetOptions> = {
  seed: 42,
  userCount: 5000,
  itemCount: 2000,
  topicCount: 8,
  subtopicsPerTopic: 5,
  maxTopicsPerUser: 3,
  minSequenceLength: 5,
  meanSequenceLength: 12,
  maxSequenceLength: 100,
  transitionProbability: 0.5,
  successorsPerItem: 3,
  popularityExponent: 0.8,
  startTime: 1_600_000_000,
  timeSpanDays: 365,
  meanGapHours: 48,
  ratings: false,
  ratingNoise: 0.75,
};

/** Rating model: latent rating = RATING_BASE + RATING_SLOPE x affinity + noise, rounded and clamped to 1..5. */
const RATING_BASE = 1.5;
const RATING_SLOPE = 3.5;

const CONSONANTS = 'bcdfgklmnprstvz';
const VOWELS = 'aeiou';

function word(rng: Rng, syllables: number): string {
  let text = '';
  for (let s = 0; s < syllables; s++) text += CONSONANTS[rng.int(CONSONANTS.length)]! + VOWELS[rng.int(VOWELS.length)]!;
  if (rng.uniform() < 0.5) text += CONSONANTS[rng.int(CONSONANTS.length)]!;
  return text[0]!.toUpperCase() + text.slice(1);
}

function words(rng: Rng, count: number, syllables: number, taken: Set<string>): string[] {
  const out: string[] = [];
  while (out.length < count) {
    const candidate = word(rng, syllables);
    if (taken.has(candidate)) continue;
    taken.add(candidate);
    out.push(candidate);
  }
  return out;
}

function checkOptions(options: Required<SyntheticDatasetOptions>): void {
  const positive = ['userCount', 'itemCount', 'topicCount', 'subtopicsPerTopic', 'maxTopicsPerUser', 'minSequenceLength', 'maxSequenceLength', 'successorsPerItem'] as const;
  for (const field of positive) {
    const value = options[field];
    if (!Number.isInteger(value) || value < 1) throw new GenrecError('INVALID_OPTION', `${field} must be a positive integer, got ${value}`, { details: { field } });
  }
  const fail = (field: string, message: string): never => {
    throw new GenrecError('INVALID_OPTION', `${field} ${message}`, { details: { field } });
  };
  if (options.maxSequenceLength < options.minSequenceLength) fail('maxSequenceLength', 'must be at least minSequenceLength');
  if (!(options.meanSequenceLength >= options.minSequenceLength)) fail('meanSequenceLength', 'must be at least minSequenceLength');
  if (options.minSequenceLength > options.itemCount) fail('minSequenceLength', 'exceeds itemCount (sequences have no repeats)');
  if (options.itemCount < options.topicCount * options.subtopicsPerTopic) fail('itemCount', 'must be at least topicCount x subtopicsPerTopic');
  if (options.successorsPerItem >= options.itemCount) fail('successorsPerItem', 'must be below itemCount');
  if (!(options.transitionProbability >= 0 && options.transitionProbability <= 1)) fail('transitionProbability', 'must be in [0, 1]');
  if (!(options.popularityExponent >= 0)) fail('popularityExponent', 'must be non-negative');
  if (!Number.isSafeInteger(options.seed)) fail('seed', 'must be a safe integer');
  if (!(options.timeSpanDays >= 0) || !(options.meanGapHours >= 0) || !Number.isFinite(options.startTime)) fail('timeSpanDays', 'and meanGapHours must be non-negative, startTime finite');
  if (typeof options.ratings !== 'boolean') fail('ratings', 'must be true or false');
  if (!(options.ratingNoise >= 0 && Number.isFinite(options.ratingNoise))) fail('ratingNoise', 'must be a finite non-negative number');
}

/**
 * Generates the embedded default dataset of genrec: items in a topic hierarchy with generated
 * titles and categories, users who mix a few topics and follow sequential item-to-item
 * transitions, a Zipf popularity skew and timestamps. Deterministic by seed on every platform
 * (core's `Rng`); the default 5,000 users x 2,000 items take a few tens of milliseconds. The
 * generative process is described step by step in the package README.
 *
 * With `ratings: true`, every interaction also gets a rating: with `a` = the weight of the item's
 * topic in the user's mix divided by the user's largest topic weight (1 for the favourite topic,
 * 0 outside the mix), rating = `clamp(round(1.5 + 3.5 a + ratingNoise x N(0, 1)), 1, 5)`, the
 * noise from its own seeded stream. So on-topic items are rated higher: the expected rating is
 * 4.72 for the favourite topic and 1.60 outside the mix with the default noise (0.75).
 *
 * @param options - see {@link SyntheticDatasetOptions}.
 * @returns the dataset, its catalogue and the ground truth (topics, successors).
 * @throws GenrecError `INVALID_OPTION` for inconsistent sizes.
 * @example
 * ```ts
 * const { dataset, catalog } = generateSyntheticDataset({ seed: 7, userCount: 1000 });
 * ```
 */
export function generateSyntheticDataset(options: SyntheticDatasetOptions = {}): SyntheticDataset {
  const o: Required<SyntheticDatasetOptions> = { ...DEFAULTS, ...stripUndefined(options) };
  checkOptions(o);
  const root = new Rng(o.seed);
  const nameRng = root.fork();
  const itemRng = root.fork();
  const userRng = root.fork();
  const ratingRng = root.fork(); // forked last, so the streams above do not depend on `ratings`
  const leafCount = o.topicCount * o.subtopicsPerTopic;
  const itemCount = o.itemCount;

  // 1. Topic hierarchy and vocabularies.
  const taken = new Set<string>();
  const topicNames = words(nameRng, o.topicCount, 3, taken);
  const leafNames = words(nameRng, leafCount, 3, taken);
  const topicAdjectives = Array.from({ length: o.topicCount }, () => words(nameRng, 6, 2, taken));
  const leafNouns = Array.from({ length: leafCount }, () => words(nameRng, 4, 2, taken));
  const brands = words(nameRng, Math.max(8, o.topicCount * 3), 2, taken);
  const topics: SyntheticTopic[] = topicNames.map((name, t) => ({ name, subtopics: leafNames.slice(t * o.subtopicsPerTopic, (t + 1) * o.subtopicsPerTopic) }));

  // 2. Items: a leaf each (balanced, random order), a Zipf popularity by a random rank, a title.
  const itemLeaf = new Int32Array(itemCount + 1);
  const itemTopic = new Int32Array(itemCount + 1);
  const popularity = new Float64Array(itemCount + 1);
  const leafOrder = itemRng.permutation(itemCount);
  const rank = itemRng.permutation(itemCount);
  const records: (ItemRecord | undefined)[] = [undefined];
  for (let item = 1; item <= itemCount; item++) {
    const leaf = leafOrder[item - 1]! % leafCount;
    const topic = Math.floor(leaf / o.subtopicsPerTopic);
    itemLeaf[item] = leaf;
    itemTopic[item] = topic;
    popularity[item] = 1 / Math.pow(rank[item - 1]! + 1, o.popularityExponent);
    const adjectives = topicAdjectives[topic]!;
    const nouns = leafNouns[leaf]!;
    const brand = itemRng.uniform() < 0.7 ? brands[(topic * 3 + itemRng.int(3)) % brands.length]! : brands[itemRng.int(brands.length)]!;
    const title = `${brand} ${adjectives[itemRng.int(adjectives.length)]!} ${nouns[itemRng.int(nouns.length)]!} ${100 + itemRng.int(900)}`;
    records.push({ id: item, title, categories: [['Synthetic', topicNames[topic]!, leafNames[leaf]!]], fields: { brand } });
  }
  const leafItems: number[][] = Array.from({ length: leafCount }, () => []);
  const topicItems: number[][] = Array.from({ length: o.topicCount }, () => []);
  for (let item = 1; item <= itemCount; item++) {
    leafItems[itemLeaf[item]!]!.push(item);
    topicItems[itemTopic[item]!]!.push(item);
  }
  const samplerOf = (pool: number[]): { pool: number[]; sampler: WeightedSampler } => ({ pool, sampler: new WeightedSampler(pool.map((item) => popularity[item]!)) });
  const leafSamplers = leafItems.map(samplerOf);
  const topicSamplers = topicItems.map(samplerOf);
  const allItems = Array.from({ length: itemCount }, (_, i) => i + 1);
  const globalSampler = samplerOf(allItems);
  const draw = (rng: Rng, source: { pool: number[]; sampler: WeightedSampler }): number => source.pool[source.sampler.sample(rng)]!;

  // 3. Sequential transitions: successors mostly from the same leaf, some from the topic, a few anywhere.
  const k = o.successorsPerItem;
  const successors = new Int32Array((itemCount + 1) * k);
  for (let item = 1; item <= itemCount; item++) {
    for (let j = 0; j < k; j++) {
      let candidate = 0;
      for (let attempt = 0; attempt < 50; attempt++) {
        const u = itemRng.uniform();
        const source = u < 0.7 ? leafSamplers[itemLeaf[item]!]! : u < 0.9 ? topicSamplers[itemTopic[item]!]! : globalSampler;
        candidate = draw(itemRng, source);
        if (candidate !== item && !successors.subarray(item * k, item * k + j).includes(candidate)) break;
        candidate = 0;
      }
      while (candidate === 0 || candidate === item || successors.subarray(item * k, item * k + j).includes(candidate)) candidate = 1 + itemRng.int(itemCount);
      successors[item * k + j] = candidate;
    }
  }
  const successorWeights = Array.from({ length: k }, (_, j) => 1 / (j + 1));
  const successorSampler = new WeightedSampler(successorWeights);

  // 4. Users: a topic mix, a length, a walk over items, timestamps.
  const userCount = o.userCount;
  const lengths = new Int32Array(userCount);
  const extraMean = o.meanSequenceLength - o.minSequenceLength;
  const continueProbability = extraMean / (extraMean + 1); // geometric on {0, 1, ...} with this mean
  let total = 0;
  for (let u = 0; u < userCount; u++) {
    let length = o.minSequenceLength;
    while (length < o.maxSequenceLength && length < itemCount && userRng.uniform() < continueProbability) length++;
    lengths[u] = length;
    total += length;
  }
  const offsets = new Int32Array(userCount + 1);
  const items = new Int32Array(total);
  const timestamps = new Float64Array(total);
  const ratings = o.ratings ? new Float32Array(total) : undefined;
  const affinities = o.ratings ? new Float32Array(total) : undefined;
  const userTopicWeights = o.ratings ? new Float32Array(userCount * o.topicCount) : undefined;
  const seenBy = new Int32Array(itemCount + 1); // seenBy[item] = u + 1 when user u already has it
  const userTopics: number[] = [];
  const topicWeights: number[] = [];
  const span = o.timeSpanDays * 86400;
  const meanGap = o.meanGapHours * 3600;
  let position = 0;
  for (let u = 0; u < userCount; u++) {
    const topicTotal = 1 + userRng.int(Math.min(o.maxTopicsPerUser, o.topicCount));
    userTopics.length = 0;
    topicWeights.length = 0;
    while (userTopics.length < topicTotal) {
      const topic = userRng.int(o.topicCount);
      if (!userTopics.includes(topic)) {
        userTopics.push(topic);
        topicWeights.push(0.2 + userRng.uniform());
      }
    }
    let largestWeight = 0;
    for (let i = 0; i < userTopics.length; i++) {
      largestWeight = Math.max(largestWeight, topicWeights[i]!);
      if (userTopicWeights) userTopicWeights[u * o.topicCount + userTopics[i]!] = topicWeights[i]!;
    }
    const freshItem = (): number => {
      const topic = userTopics[userRng.weightedIndex(topicWeights)]!;
      const leaf = topic * o.subtopicsPerTopic + userRng.int(o.subtopicsPerTopic);
      return draw(userRng, leafSamplers[leaf]!);
    };
    let time = o.startTime + userRng.uniform() * span;
    let previous = 0;
    for (let t = 0; t < lengths[u]!; t++) {
      let item = 0;
      for (let attempt = 0; attempt < 20 && item === 0; attempt++) {
        const candidate = previous !== 0 && userRng.uniform() < o.transitionProbability ? successors[previous * k + successorSampler.sample(userRng)]! : freshItem();
        if (seenBy[candidate] !== u + 1) item = candidate;
      }
      while (item === 0) {
        const candidate = draw(userRng, globalSampler);
        if (seenBy[candidate] !== u + 1) item = candidate;
      }
      seenBy[item] = u + 1;
      items[position] = item;
      timestamps[position] = Math.round(time);
      if (ratings && affinities) {
        const topicIndex = userTopics.indexOf(itemTopic[item]!);
        const affinity = topicIndex < 0 ? 0 : topicWeights[topicIndex]! / largestWeight;
        affinities[position] = affinity;
        const latent = RATING_BASE + RATING_SLOPE * affinity + o.ratingNoise * ratingRng.normal();
        ratings[position] = Math.min(5, Math.max(1, Math.round(latent)));
      }
      time += -Math.log(1 - userRng.uniform()) * meanGap + 1;
      previous = item;
      position++;
    }
    offsets[u + 1] = position;
  }
  const userIds = new Int32Array(userCount);
  for (let u = 0; u < userCount; u++) userIds[u] = u + 1;
  const result: { -readonly [K in keyof SyntheticDataset]: SyntheticDataset[K] } = {
    dataset: { name: 'synthetic', userCount, itemCount, offsets, items, timestamps, userIds, ...(ratings ? { ratings } : {}) },
    catalog: { itemCount, records },
    topics,
    itemTopic,
    itemLeaf,
    successors,
    options: o,
  };
  if (userTopicWeights) result.userTopicWeights = userTopicWeights;
  if (affinities) result.affinities = affinities;
  return result;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] !== undefined) out[key] = value[key];
  return out;
}
