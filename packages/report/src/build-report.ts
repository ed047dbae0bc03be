import { GenrecError, writeFileAtomic } from '@genrec/core';
import { chartLibraries } from './assets.js';
import { reportCharts, type ChartSpec } from './charts.js';
import { CLIENT_SCRIPT } from './client-script.js';
import { escapeHtml, jsonForScript } from './html.js';
import type { ReportInput, ReportSystem, SeedSummary } from './report-input.js';

const STYLE = `
:root { color-scheme: light; --ink: #1d2430; --muted: #5b6675; --line: #d9dee5; --accent: #2f6fb0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fbfcfd; }
header, main { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; padding-bottom: 8px; border-bottom: 1px solid var(--line); }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 4px; }
.subtitle, .muted, figcaption { color: var(--muted); }
table { border-collapse: collapse; margin: 8px 0; background: #fff; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f1f4f8; }
tr.baseline td { background: #f7f9fb; }
.spread { color: var(--muted); font-size: 12px; }
.mark-higher { color: #1a7f37; font-weight: 600; }
.mark-lower { color: #c0392b; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
figure { margin: 0; padding: 12px; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
figcaption { font-size: 12px; margin-top: 4px; }
ul.notes { padding-left: 18px; }
code { font-size: 12px; }
`;

const fixed = (value: number, digits = 4): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

function metricCell(summary: SeedSummary | undefined, mark: 'higher' | 'lower' | undefined): string {
  if (summary === undefined) return '<td class="muted">–</td>';
  const spread = summary.n > 1 ? ` <span class="spread">± ${fixed(summary.std)}</span>` : '';
  const sign = mark === undefined ? '' : ` <span class="mark-${mark}" title="significantly ${mark} than the baseline">${mark === 'higher' ? '▲' : '▼'}†</span>`;
  return `<td>${fixed(summary.mean)}${spread}${sign}</td>`;
}

/** Metric keys of the table: the given ones, or every recall@K and ndcg@K found, by K. */
function tableMetrics(input: ReportInput): string[] {
  if (input.tableMetrics !== undefined) return input.tableMetrics;
  const keys = new Set<string>();
  for (const system of input.systems) for (const key of Object.keys(system.metrics)) if (/^(recall|ndcg)@\d+$/.test(key)) keys.add(key);
  return [...keys].sort((a, b) => {
    const [nameA, kA] = a.split('@') as [string, string];
    const [nameB, kB] = b.split('@') as [string, string];
    return nameA === nameB ? Number(kA) - Number(kB) : nameA.localeCompare(nameB) * -1; // recall before ndcg
  });
}

function metricsTable(input: ReportInput): string {
  const metrics = tableMetrics(input);
  const seeds = Math.max(1, ...input.systems.map((system) => Math.max(1, ...Object.values(system.metrics).map((summary) => summary.n))));
  const timed = input.systems.some((system) => system.trainingSeconds !== undefined);
  const head = `<tr><th>system</th>${metrics.map((key) => `<th>${escapeHtml(key)}</th>`).join('')}${timed ? '<th>training s</th>' : ''}</tr>`;
  const rows = input.systems.map((system: ReportSystem) => {
    const name = `${escapeHtml(system.name)}${system.baseline ? ' <span class="muted">(baseline)</span>' : ''}`;
    const cells = metrics.map((key) => metricCell(system.metrics[key], system.significance?.[key])).join('');
    const time = timed ? `<td>${system.trainingSeconds === undefined ? '–' : system.trainingSeconds.toFixed(1)}</td>` : '';
    return `<tr${system.baseline ? ' class="baseline"' : ''}><td>${name}</td>${cells}${time}</tr>`;
  });
  const notes: string[] = [];
  if (seeds > 1) notes.push(`Means over seeds, ± the sample standard deviation.`);
  if (input.significance !== undefined) {
    const { test, alpha, correction } = input.significance;
    notes.push(`▲† / ▼† significantly higher / lower than the baseline (${escapeHtml(test)}, ${escapeHtml(correction)}, α = ${alpha}${seeds > 1 ? ', in every seed' : ''}).`);
  }
  if (input.protocol !== undefined) notes.push(`Protocol: ${escapeHtml(input.protocol)}`);
  return `<table id="metrics-table"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>${notes.map((note) => `<p class="muted">${note}</p>`).join('')}`;
}

function figure(chart: ChartSpec): string {
  return `<figure id="${escapeHtml(chart.id)}" data-chart data-expected-marks="${chart.expectedMarks}"><h3>${escapeHtml(chart.title)}</h3><div class="chart"></div>${
    chart.caption === undefined ? '' : `<figcaption>${escapeHtml(chart.caption)}</figcaption>`
  }</figure>`;
}

function charts(all: ChartSpec[], section: string): string {
  const chosen = all.filter((chart) => chart.section === section);
  return chosen.length === 0 ? '' : `<div class="charts">${chosen.map(figure).join('')}</div>`;
}

function semanticIdTables(input: ReportInput): string {
  return (input.semanticIds ?? [])
    .map((ids) => {
      const rows = ids.utilisationPerLevel.map(
        (utilisation, level) =>
          `<tr><td>level ${level + 1}</td><td>${ids.codebookSizes[level] ?? '–'}</td><td>${(100 * utilisation).toFixed(1)}%</td><td>${
            ids.perplexityPerLevel?.[level] === undefined ? '–' : ids.perplexityPerLevel[level]!.toFixed(1)
          }</td></tr>`,
      );
      if (ids.codebookSizes.length > ids.utilisationPerLevel.length) rows.push(`<tr><td>collision</td><td>${ids.codebookSizes.at(-1)}</td><td>–</td><td>–</td></tr>`);
      const summary = Object.entries(ids.summary ?? {})
        .map(([name, value]) => `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(4)) : value)}</td></tr>`)
        .join('');
      return `<h3>${escapeHtml(ids.title)} <span class="muted">(${ids.itemCount} items)</span></h3><table><thead><tr><th>level</th><th>codes</th><th>utilisation</th><th>perplexity</th></tr></thead><tbody>${rows.join('')}</tbody></table>${
        summary === '' ? '' : `<table><tbody>${summary}</tbody></table>`
      }`;
    })
    .join('');
}

function exposureTable(input: ReportInput): string {
  const entries = input.exposure ?? [];
  if (entries.length === 0) return '';
  const tail = entries.some((entry) => entry.longTailShare !== undefined);
  const rows = entries.map(
    (entry) => `<tr><td>${escapeHtml(entry.name)}</td><td>${fixed(entry.gini)}</td>${tail ? `<td>${entry.longTailShare === undefined ? '–' : `${(100 * entry.longTailShare).toFixed(1)}%`}</td>` : ''}</tr>`,
  );
  return `<table><thead><tr><th>system</th><th>Gini of exposure</th>${tail ? '<th>long-tail share</th>' : ''}</tr></thead><tbody>${rows.join('')}</tbody></table>${
    input.longTailDefinition === undefined ? '' : `<p class="muted">${escapeHtml(input.longTailDefinition)}</p>`
  }`;
}

function checkInput(input: ReportInput): void {
  if (typeof input !== 'object' || input === null) throw new GenrecError('INVALID_INPUT', 'buildReport needs a ReportInput object', { details: { field: 'input' } });
  if (typeof input.title !== 'string' || input.title.length === 0) throw new GenrecError('INVALID_INPUT', 'the report needs a title', { details: { field: 'title' } });
  if (!Array.isArray(input.systems)) throw new GenrecError('INVALID_INPUT', 'systems must be an array', { details: { field: 'systems' } });
  input.systems.forEach((system, index) => {
    if (typeof system?.name !== 'string' || typeof system.metrics !== 'object' || system.metrics === null) {
      throw new GenrecError('INVALID_INPUT', `systems[${index}] needs a name and metrics`, { details: { field: `systems[${index}]` } });
    }
  });
}

/**
 * Builds the report as one self-contained HTML page: every style, script and datum is inside the
 * file (d3 and Observable Plot are inlined from `node_modules`), so it opens offline, from a
 * `file:` URL, with no request to any server. Sections: metrics table (mean ± spread over seeds,
 * significance marks), metric@K curves, training curves, semantic-id health, popularity and
 * exposure (Lorenz curves, long-tail share), alignment rounds — each only when its data is given.
 *
 * @param input - what to show
 * @returns the HTML text (about 0.5 MB, most of it the two libraries)
 * @throws GenrecError `INVALID_INPUT` when the input has no title or malformed systems
 * @example
 * ```ts
 * const html = buildReport({ title: 'Toys', systems: [{ name: 'popularity', baseline: true, metrics: { 'recall@10': { mean: 0.03, std: 0, n: 1 } } }] });
 * ```
 */
export function buildReport(input: ReportInput): string {
  checkInput(input);
  const all = reportCharts(input);
  const libraries = chartLibraries();
  const dataset = input.dataset;
  const datasetLine =
    dataset === undefined
      ? ''
      : `<p class="muted">Data: <strong>${escapeHtml(dataset.name)}</strong>${[
          dataset.users === undefined ? '' : `${dataset.users.toLocaleString('en-US')} users`,
          dataset.items === undefined ? '' : `${dataset.items.toLocaleString('en-US')} items`,
          dataset.interactions === undefined ? '' : `${dataset.interactions.toLocaleString('en-US')} interactions`,
          dataset.fingerprint === undefined ? '' : `fingerprint <code>${escapeHtml(dataset.fingerprint)}</code>`,
        ]
          .filter(Boolean)
          .map((part) => ` · ${part}`)
          .join('')}</p>`;
  const sections: string[] = [`<section id="metrics"><h2>Metrics</h2>${metricsTable(input)}${charts(all, 'metrics')}</section>`];
  if (all.some((chart) => chart.section === 'training')) sections.push(`<section id="training"><h2>Training</h2>${charts(all, 'training')}</section>`);
  if ((input.semanticIds ?? []).length > 0) sections.push(`<section id="semantic-ids"><h2>Semantic-id health</h2>${semanticIdTables(input)}${charts(all, 'semantic-ids')}</section>`);
  if ((input.exposure ?? []).length > 0) sections.push(`<section id="exposure"><h2>Popularity and exposure</h2>${exposureTable(input)}${charts(all, 'exposure')}</section>`);
  if ((input.alignment ?? []).length > 0) sections.push(`<section id="alignment"><h2>Alignment rounds</h2>${charts(all, 'alignment')}</section>`);
  if ((input.notes ?? []).length > 0) sections.push(`<section id="notes"><h2>Notes</h2><ul class="notes">${input.notes!.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul></section>`);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="@genrec/report">`,
    `<title>${escapeHtml(input.title)}</title>`,
    `<link rel="icon" href="data:,">`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<header><h1>${escapeHtml(input.title)}</h1>${input.subtitle === undefined ? '' : `<p class="subtitle">${escapeHtml(input.subtitle)}</p>`}${datasetLine}${
      input.generatedAt === undefined ? '' : `<p class="muted">Generated ${escapeHtml(input.generatedAt)}</p>`
    }</header>`,
    `<main>${sections.join('\n')}</main>`,
    `<script type="application/json" id="genrec-report-data">${jsonForScript({ charts: all })}</script>`,
    ...libraries.map((library) => `<script data-library="${escapeHtml(library.name)}">${library.source}</script>`),
    `<script>${CLIENT_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * Builds the report ({@link buildReport}) and writes it atomically.
 *
 * @param path - the `.html` file to write
 * @param input - what to show
 * @returns the number of charts in the page
 * @throws GenrecError as {@link buildReport}, `IO_ERROR` when the file cannot be written
 * @example
 * ```ts
 * writeReport('report.html', input);
 * ```
 */
export function writeReport(path: string, input: ReportInput): number {
  const html = buildReport(input);
  writeFileAtomic(path, html);
  return reportCharts(input).length;
}
