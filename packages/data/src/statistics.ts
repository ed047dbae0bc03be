import type { SequenceDataset } from '@genrec/core';

/** Summary numbers of a dataset (see {@link datasetStatistics}). */
export interface DatasetStatistics {
  /** User rows. */
  users: number;
  /** Item ids (`itemCount`). */
  items: number;
  /** Item ids with at least one interaction. */
  interactedItems: number;
  /** Interactions. */
  interactions: number;
  /** `interactions / (users * items)`. */
  density: number;
  /** Sequence length per user. */
  sequenceLength: { min: number; median: number; mean: number; max: number };
  /** Interactions per item: min and max over items with at least one interaction. */
  itemFrequency: { min: number; max: number };
  /**
   * Gini coefficient of item popularity over all `items` ids (0 = every item equally popular,
   * towards 1 = a few items take all interactions): with counts sorted ascending `x_1..x_n`,
   * `G = 2 * sum(i * x_i) / (n * sum(x)) - (n + 1) / n`.
   */
  popularityGini: number;
}

/**
 * Counts users, items, interactions, density, sequence lengths (min / median / mean / max; the
 * median of an even count is the mean of the two middle values) and the Gini coefficient of item
 * popularity.
 *
 * @example
 * ```ts
 * datasetStatistics(createSequenceDataset({ sequences: [[1, 2], [1]] })).density; // 3 / (2 * 2)
 * ```
 */
export function datasetStatistics(dataset: SequenceDataset): DatasetStatistics {
  const { offsets, items, userCount, itemCount } = dataset;
  const lengths = new Int32Array(userCount);
  for (let row = 0; row < userCount; row++) lengths[row] = offsets[row + 1]! - offsets[row]!;
  lengths.sort();
  const interactions = items.length;
  const median =
    userCount === 0 ? 0 : userCount % 2 === 1 ? lengths[(userCount - 1) / 2]! : (lengths[userCount / 2 - 1]! + lengths[userCount / 2]!) / 2;
  const counts = new Int32Array(itemCount + 1);
  for (let i = 0; i < interactions; i++) counts[items[i]!]!++;
  const popularity = counts.subarray(1).slice().sort();
  let weighted = 0;
  let interactedItems = 0;
  let minFrequency = 0;
  for (let i = 0; i < popularity.length; i++) {
    weighted += (i + 1) * popularity[i]!;
    if (popularity[i]! > 0) {
      if (interactedItems === 0) minFrequency = popularity[i]!;
      interactedItems++;
    }
  }
  const n = popularity.length;
  const popularityGini = n === 0 || interactions === 0 ? 0 : (2 * weighted) / (n * interactions) - (n + 1) / n;
  return {
    users: userCount,
    items: itemCount,
    interactedItems,
    interactions,
    density: userCount === 0 || itemCount === 0 ? 0 : interactions / (userCount * itemCount),
    sequenceLength: {
      min: userCount === 0 ? 0 : lengths[0]!,
      median,
      mean: userCount === 0 ? 0 : interactions / userCount,
      max: userCount === 0 ? 0 : lengths[userCount - 1]!,
    },
    itemFrequency: { min: minFrequency, max: n === 0 ? 0 : popularity[n - 1]! },
    popularityGini,
  };
}

/**
 * Formats statistics as aligned `label  value` lines for console output.
 *
 * @example
 * ```ts
 * console.log(formatStatistics(datasetStatistics(dataset)));
 * ```
 */
export function formatStatistics(statistics: DatasetStatistics): string {
  const { sequenceLength: length } = statistics;
  const rows: [string, string][] = [
    ['users', statistics.users.toLocaleString('en-US')],
    ['items', `${statistics.items.toLocaleString('en-US')} (${statistics.interactedItems.toLocaleString('en-US')} with interactions)`],
    ['interactions', statistics.interactions.toLocaleString('en-US')],
    ['density', statistics.density.toExponential(3)],
    ['sequence length', `min ${length.min}, median ${length.median}, mean ${length.mean.toFixed(3)}, max ${length.max}`],
    ['item frequency', `min ${statistics.itemFrequency.min}, max ${statistics.itemFrequency.max}`],
    ['popularity Gini', statistics.popularityGini.toFixed(4)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}
