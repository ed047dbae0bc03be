/** A mean over seeds with its spread (see {@link meanAndSpread}). */
export interface SeedSummary {
  /** Mean over the seeds. */
  mean: number;
  /** Sample standard deviation over the seeds (0 for a single seed). */
  std: number;
  /** Number of seeds. */
  n: number;
}

/** Direction of a significant difference from the baseline. */
export type SignificanceMark = 'higher' | 'lower';

/** One row of the metrics table: a system (model) with its metrics over seeds. */
export interface ReportSystem {
  /** Name shown in tables and legends (`sasrec`, `tiger (quickstart)`). */
  name: string;
  /** Model kind, when different from the name. */
  kind?: string;
  /** True for the baseline that significance marks refer to. */
  baseline?: boolean;
  /** Metric key (`recall@10`, `ndcg@10`, `coverage@10`…) → mean and spread over seeds. */
  metrics: Record<string, SeedSummary>;
  /**
   * Significant differences from the baseline by metric key (after the multiple-comparison
   * correction), set only where the paired test was significant for every seed.
   */
  significance?: Record<string, SignificanceMark>;
  /** Training wall time in seconds (mean over seeds), when trained. */
  trainingSeconds?: number;
  /** The run folder the row comes from, for reference. */
  run?: string;
}

/** Loss and validation values of one training run, epoch by epoch. */
export interface TrainingCurve {
  /** System name (and seed, when several). */
  name: string;
  /** One entry per epoch. */
  epochs: { epoch: number; loss: number; validation?: Record<string, number> }[];
}

/** Semantic-id health of an item tokenisation (from `@genrec/semantic-id`'s `semanticIdHealth`). */
export interface SemanticIdSection {
  /** Which ids (`semantic ids, 3 levels x 32 codes`). */
  title: string;
  /** Items in the table. */
  itemCount: number;
  /** Codes per level (the collision level last, when present). */
  codebookSizes: number[];
  /** Used codes / codebook size per quantiser level, in [0, 1]. */
  utilisationPerLevel: number[];
  /** exp(entropy) of each quantiser level's code distribution. */
  perplexityPerLevel?: number[];
  /** Items sharing one quantiser-level tuple: `size` items in a group, `count` such groups. */
  collisionGroups: { size: number; count: number }[];
  /** Further numbers shown as a list (`relative quantisation error` → 0.41). */
  summary?: Record<string, number | string>;
}

/** Popularity and exposure of one system's recommendations (or of the training data itself). */
export interface ExposureSection {
  /** System name (`training data` for the interactions themselves). */
  name: string;
  /** Lorenz curve points: x = share of items (least exposed first), y = share of exposure, both in [0, 1]. */
  lorenz: { x: number; y: number }[];
  /** Gini index of the item exposure. */
  gini: number;
  /** Share of recommended slots that go to long-tail items (see `longTailDefinition`). */
  longTailShare?: number;
}

/** One round of preference alignment (DPO and the like). */
export interface AlignmentRound {
  /** 1-based round number (0 = before alignment). */
  round: number;
  /** System the round belongs to. */
  name: string;
  /** Metrics after the round (`ndcg@10`, `reward`…). */
  metrics: Record<string, number>;
}

/** Everything a report shows; every section but the title and the systems is optional. */
export interface ReportInput {
  /** Page title. */
  title: string;
  /** A line under the title (data set, protocol in a few words). */
  subtitle?: string;
  /** When the report was made (shown as given; leave out for byte-identical output). */
  generatedAt?: string;
  /** The data set. */
  dataset?: { name: string; users?: number; items?: number; interactions?: number; fingerprint?: string };
  /** The metrics table rows. */
  systems: ReportSystem[];
  /** Metric keys shown in the table, in order. @defaultValue every `recall@K` and `ndcg@K` found */
  tableMetrics?: string[];
  /** Metric names drawn as metric@K curves. @defaultValue `['recall', 'ndcg']` */
  curveMetrics?: string[];
  /** How significance was decided (shown under the table). */
  significance?: { test: string; alpha: number; correction: string };
  /** The evaluation protocol in one line. */
  protocol?: string;
  /** Training curves, one per run. */
  training?: TrainingCurve[];
  /** Validation metric drawn in the training section. @defaultValue the first validation key found */
  validationMetric?: string;
  /** Semantic-id health, when the models use ids. */
  semanticIds?: SemanticIdSection[];
  /** Popularity and exposure, one entry per system (and the training data). */
  exposure?: ExposureSection[];
  /** What `longTailShare` counts (shown under the chart). */
  longTailDefinition?: string;
  /** Alignment rounds, when present. */
  alignment?: AlignmentRound[];
  /** Free notes shown at the end (commands, machine). */
  notes?: string[];
}
