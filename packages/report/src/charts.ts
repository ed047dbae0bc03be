import type { ReportInput } from './report-input.js';

/** One data point of a chart: a dot on a line chart, a bar on a bar chart. */
export interface ChartPoint {
  /** Position on the x axis (a number for line charts, a label for bar charts). */
  x: number | string;
  /** Value. */
  y: number;
  /** Series (line or bar colour) the point belongs to. */
  series: string;
}

/**
 * What the page's script draws for one chart (Observable Plot): a line with a dot per point, or a
 * bar per point. `expectedMarks` is the number of dots or bars the drawn SVG must hold, which the
 * browser test counts.
 */
export interface ChartSpec {
  /** Element id of the chart's `<figure>`. */
  id: string;
  /** Section the chart belongs to (`metrics`, `training`, `semantic-ids`, `exposure`, `alignment`). */
  section: string;
  /** Heading of the chart. */
  title: string;
  /** A sentence under the chart. */
  caption?: string;
  /** `lines` (a line and a dot per point, grouped by series) or `bars` (a bar per point). */
  type: 'lines' | 'bars';
  /** x axis label. */
  xLabel: string;
  /** y axis label. */
  yLabel: string;
  /** Tick values of the x axis (line charts); whole numbers, shown without decimals. */
  xTicks?: number[];
  /** The colour of each series in the chart (one colour per series name across the whole report). */
  colors?: { domain: string[]; range: string[] };
  /** Show y values as percentages. */
  yPercent?: boolean;
  /** The data points (finite y only). */
  points: ChartPoint[];
  /** A dashed reference line without dots (the diagonal of a Lorenz chart). */
  reference?: { x: number; y: number }[];
  /** Dots (line charts) or bars (bar charts) the chart draws: `points.length`. */
  expectedMarks: number;
}

const METRIC_NAMES: Record<string, string> = { recall: 'Recall', ndcg: 'NDCG', hitrate: 'HitRate', mrr: 'MRR', precision: 'Precision', map: 'MAP' };

const spec = (fields: Omit<ChartSpec, 'expectedMarks' | 'points'> & { points: ChartPoint[] }): ChartSpec => {
  const points = fields.points.filter((point) => Number.isFinite(point.y));
  return { ...fields, points, expectedMarks: points.length };
};

/** Integer ticks from the smallest to the largest x of the points, when there are at most 25 of them. */
function integerTicks(points: readonly ChartPoint[]): { xTicks?: number[] } {
  const xs = points.map((point) => point.x).filter((x): x is number => typeof x === 'number');
  if (xs.length === 0) return {};
  const low = Math.floor(Math.min(...xs));
  const high = Math.ceil(Math.max(...xs));
  return high - low > 24 ? {} : { xTicks: Array.from({ length: high - low + 1 }, (_, i) => low + i) };
}

/** Cut-offs K present for `metric` in any system, ascending. */
function cutoffsOf(input: ReportInput, metric: string): number[] {
  const ks = new Set<number>();
  for (const system of input.systems) {
    for (const key of Object.keys(system.metrics)) {
      const match = /^([a-z]+)@(\d+)$/.exec(key);
      if (match && match[1] === metric) ks.add(Number(match[2]));
    }
  }
  return [...ks].sort((a, b) => a - b);
}

/**
 * The charts of a report, in page order; sections without data give no chart.
 *
 * @param input - the report's content
 * @returns one spec per chart
 * @example
 * ```ts
 * reportCharts(input).map((chart) => `${chart.id}: ${chart.expectedMarks} marks`);
 * ```
 */
export function reportCharts(input: ReportInput): ChartSpec[] {
  const charts = chartsWithoutColors(input);
  const palette = seriesColors(input, charts);
  return charts.map((chart) => {
    const domain = [...new Set(chart.points.map((point) => point.series))];
    return { ...chart, colors: { domain, range: domain.map((name) => palette.get(name)!) } };
  });
}

/** Observable's tableau10, the colours of the series. */
export const SERIES_PALETTE = ['#4e79a7', '#f28e2c', '#e15759', '#76b7b2', '#59a14f', '#edc949', '#af7aa1', '#ff9da7', '#9c755f', '#bab0ab'];

/** One colour per series name: the systems in table order first, then other series in order of appearance. */
function seriesColors(input: ReportInput, charts: readonly ChartSpec[]): Map<string, string> {
  const names = [...input.systems.map((system) => system.name), ...charts.flatMap((chart) => chart.points.map((point) => point.series))];
  const colors = new Map<string, string>();
  for (const name of names) if (!colors.has(name)) colors.set(name, SERIES_PALETTE[colors.size % SERIES_PALETTE.length]!);
  return colors;
}

function chartsWithoutColors(input: ReportInput): ChartSpec[] {
  const charts: ChartSpec[] = [];
  for (const metric of input.curveMetrics ?? ['recall', 'ndcg']) {
    const ks = cutoffsOf(input, metric);
    if (ks.length === 0) continue;
    const name = METRIC_NAMES[metric] ?? metric;
    charts.push(
      spec({
        id: `chart-${metric}-at-k`,
        section: 'metrics',
        title: `${name}@K`,
        caption: `Test ${name} at each cut-off K (mean over seeds).`,
        type: 'lines',
        xLabel: 'K',
        yLabel: `${name}@K`,
        xTicks: ks,
        points: input.systems.flatMap((system) =>
          ks.filter((k) => system.metrics[`${metric}@${k}`] !== undefined).map((k) => ({ x: k, y: system.metrics[`${metric}@${k}`]!.mean, series: system.name })),
        ),
      }),
    );
  }
  const training = (input.training ?? []).filter((curve) => curve.epochs.length > 0);
  if (training.length > 0) {
    const lossPoints = training.flatMap((curve) => curve.epochs.map((epoch) => ({ x: epoch.epoch, y: epoch.loss, series: curve.name })));
    charts.push(
      spec({
        id: 'chart-training-loss',
        section: 'training',
        title: 'Training loss',
        caption: 'Mean training loss of each epoch.',
        type: 'lines',
        xLabel: 'epoch',
        yLabel: 'loss',
        points: lossPoints,
        ...integerTicks(lossPoints),
      }),
    );
    const metric = input.validationMetric ?? training.flatMap((curve) => curve.epochs.flatMap((epoch) => Object.keys(epoch.validation ?? {})))[0];
    if (metric !== undefined) {
      const points = training.flatMap((curve) =>
        curve.epochs.filter((epoch) => epoch.validation?.[metric] !== undefined).map((epoch) => ({ x: epoch.epoch, y: epoch.validation![metric]!, series: curve.name })),
      );
      if (points.length > 0) {
        charts.push(spec({ id: 'chart-training-validation', section: 'training', title: `Validation ${metric}`, caption: `Validation ${metric} after each epoch.`, type: 'lines', xLabel: 'epoch', yLabel: metric, points, ...integerTicks(points) }));
      }
    }
  }
  (input.semanticIds ?? []).forEach((ids, index) => {
    charts.push(
      spec({
        id: `chart-semantic-id-utilisation-${index + 1}`,
        section: 'semantic-ids',
        title: `Code utilisation per level — ${ids.title}`,
        caption: 'Share of each level’s codebook used by at least one item.',
        type: 'bars',
        xLabel: 'level',
        yLabel: 'codes used',
        yPercent: true,
        points: ids.utilisationPerLevel.map((value, level) => ({ x: `level ${level + 1}`, y: value, series: ids.title })),
      }),
    );
    if (ids.collisionGroups.length > 0) {
      charts.push(
        spec({
          id: `chart-semantic-id-collisions-${index + 1}`,
          section: 'semantic-ids',
          title: `Collision groups — ${ids.title}`,
          caption: 'Number of groups of items that share all quantiser codes, by group size (1 = an item alone).',
          type: 'bars',
          xLabel: 'items sharing a code tuple',
          yLabel: 'groups',
          points: [...ids.collisionGroups].sort((a, b) => a.size - b.size).map((group) => ({ x: String(group.size), y: group.count, series: ids.title })),
        }),
      );
    }
  });
  const exposure = input.exposure ?? [];
  if (exposure.length > 0) {
    charts.push(
      spec({
        id: 'chart-exposure-lorenz',
        section: 'exposure',
        title: 'Lorenz curve of item exposure',
        caption: 'Items sorted from the least to the most exposed; the dashed diagonal is perfect equality.',
        type: 'lines',
        xLabel: 'share of items',
        yLabel: 'share of exposure',
        points: exposure.flatMap((entry) => entry.lorenz.map((point) => ({ x: point.x, y: point.y, series: entry.name }))),
        reference: [
          { x: 0, y: 0 },
          { x: 1, y: 1 },
        ],
      }),
    );
    const tail = exposure.filter((entry) => entry.longTailShare !== undefined);
    if (tail.length > 0) {
      charts.push(
        spec({
          id: 'chart-long-tail',
          section: 'exposure',
          title: 'Long-tail share',
          ...(input.longTailDefinition === undefined ? {} : { caption: input.longTailDefinition }),
          type: 'bars',
          xLabel: 'system',
          yLabel: 'long-tail share',
          yPercent: true,
          points: tail.map((entry) => ({ x: entry.name, y: entry.longTailShare!, series: entry.name })),
        }),
      );
    }
  }
  const rounds = input.alignment ?? [];
  if (rounds.length > 0) {
    const metrics = [...new Set(rounds.flatMap((round) => Object.keys(round.metrics)))];
    for (const metric of metrics) {
      const points = rounds.filter((round) => round.metrics[metric] !== undefined).map((round) => ({ x: round.round, y: round.metrics[metric]!, series: round.name }));
      charts.push(
        spec({
          id: `chart-alignment-${metric.replace(/[^a-z0-9]+/gi, '-')}`,
          section: 'alignment',
          title: `${metric} by alignment round`,
          type: 'lines',
          xLabel: 'round',
          yLabel: metric,
          points,
          ...integerTicks(points),
        }),
      );
    }
  }
  return charts;
}
