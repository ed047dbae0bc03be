/**
 * A self-contained static HTML report of genrec runs: metrics with significance, curves,
 * semantic-id health, exposure. One file, offline: d3 and Observable Plot are inlined.
 *
 * @packageDocumentation
 * @module @genrec/report
 */

/** The package version this source belongs to. */
export const version = '0.0.0';
export type { AlignmentRound, ExposureSection, ReportInput, ReportSystem, SeedSummary, SemanticIdSection, SignificanceMark, TrainingCurve } from './report-input.js';
export { buildReport, writeReport } from './build-report.js';
export { SERIES_PALETTE, reportCharts, type ChartPoint, type ChartSpec } from './charts.js';
export { chartLibraries, type ChartLibrary } from './assets.js';
export { escapeHtml, jsonForScript } from './html.js';
export { lorenzCurve, meanAndSpread } from './statistics.js';
