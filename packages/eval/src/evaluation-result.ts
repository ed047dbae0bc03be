import type { BeyondAccuracyProtocol } from './beyond-accuracy.js';
import type { ExposureResult } from './exposure.js';
import type { EvaluationProtocol } from './protocol.js';

/** Statistics of generated ranked lists before filtering (generative decoding diagnostics). */
export interface DecodingDiagnostics {
  /** Number of users (lists). */
  listCount: number;
  /** Number of list entries read (sum of list lengths with `listDepth: 'whole-list'`). */
  entryCount: number;
  /** Entries whose id lies outside the catalogue. */
  invalidCount: number;
  /** Entries repeating an id seen earlier in the same list. */
  duplicateCount: number;
  /** Entries removed because they are history items (with `maskHistory`). */
  maskedCount: number;
  /** invalidCount / entryCount (0 when there are no entries). */
  invalidRate: number;
  /** duplicateCount / entryCount (0 when there are no entries). */
  duplicateRate: number;
  /** Per K (`"@10"`): fraction of lists with fewer than K entries as generated. */
  shortListRate: Record<string, number>;
  /** Per K: fraction of lists with fewer than K entries after dropping invalid, duplicate and masked ids per the protocol. */
  shortAfterFilteringRate: Record<string, number>;
}

/**
 * The result of an evaluation: the protocol it was computed under, the means, and (when kept) the
 * per-user values. Serialise it with `evaluationResultToJSON`, render it with `formatResultTable`.
 */
export interface EvaluationResult {
  /** Marks the object kind in JSON. */
  kind: 'genrec-evaluation';
  /** JSON format version. */
  formatVersion: 1;
  /** The system's name, if given. */
  system: string | null;
  /** Every choice that changes a number. */
  protocol: EvaluationProtocol;
  /** Beyond-accuracy settings, when computed. */
  beyondAccuracyProtocol: BeyondAccuracyProtocol | null;
  /** Users in the input. */
  userCount: number;
  /** Users in the accuracy means. */
  evaluatedUserCount: number;
  /** Users left out (no relevant item, `usersWithoutRelevant: 'skip'`). */
  skippedUserCount: number;
  /** Accuracy means: `hitrate@K`, `recall@K`, `precision@K`, `ndcg@K`, `mrr@K`, `map@K`, `mrr@full`, and `auc` (score matrices). */
  metrics: Record<string, number>;
  /** Beyond-accuracy values (`coverage@K`, `gini@K`, `entropy@K`, `popularity@K`, `tail@K`, `novelty@K`, `ild@K`), when computed. */
  beyondAccuracy: Record<string, number> | null;
  /** Generative decoding diagnostics (ranked lists only). */
  decoding: DecodingDiagnostics | null;
  /** Expected-exposure fairness, when computed. */
  exposure: ExposureResult | null;
  /** Per-user values keyed like `metrics` and `beyondAccuracy` (NaN where a user is not counted), when kept. */
  perUser: Record<string, Float64Array> | null;
}
