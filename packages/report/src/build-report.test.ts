import { describe, expect, it } from 'vitest';
import { GenrecError } from '@genrec/core';
import { buildReport } from './build-report.js';
import { reportCharts } from './charts.js';
import { jsonForScript } from './html.js';
import { sampleReportInput } from './sample-input.js';

const dataBlock = (html: string): { charts: { id: string; expectedMarks: number; points: unknown[] }[] } => {
  const match = /<script type="application\/json" id="genrec-report-data">([\s\S]*?)<\/script>/.exec(html);
  return JSON.parse(match![1]!);
};

describe('buildReport', () => {
  const input = sampleReportInput();
  const html = buildReport(input);

  it('is one self-contained page: no external script, style, image or link', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link[^>]*href="(?!data:)/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/@import|url\(http/i);
    // both libraries inlined, d3 before Plot (Plot's bundle reads the global d3)
    expect(html.indexOf('data-library="d3"')).toBeGreaterThan(0);
    expect(html.indexOf('data-library="@observablehq/plot"')).toBeGreaterThan(html.indexOf('data-library="d3"'));
    expect(html.length).toBeGreaterThan(400_000);
  });

  it('escapes text and embeds the chart data so that it parses back unchanged', () => {
    expect(html).toContain('<title>genrec sample report &lt;&amp;&gt;</title>');
    expect(html).not.toContain('tiger "small"');
    expect(html).toContain('tiger &quot;small&quot;');
    const data = dataBlock(html);
    expect(data.charts).toEqual(JSON.parse(JSON.stringify(reportCharts(input))));
    const tricky = { text: '</script><script>alert(1)</script>\u2028&' };
    expect(JSON.parse(jsonForScript(tricky))).toEqual(tricky);
    expect(jsonForScript(tricky)).not.toMatch(/[<>&\u2028]/);
  });

  it('has a figure per chart with the number of marks it must draw', () => {
    const charts = reportCharts(input);
    expect(charts.map((chart) => chart.id)).toEqual([
      'chart-recall-at-k',
      'chart-ndcg-at-k',
      'chart-training-loss',
      'chart-training-validation',
      'chart-semantic-id-utilisation-1',
      'chart-semantic-id-collisions-1',
      'chart-exposure-lorenz',
      'chart-long-tail',
      'chart-alignment-ndcg-10',
    ]);
    const byId = Object.fromEntries(charts.map((chart) => [chart.id, chart.expectedMarks]));
    expect(byId['chart-recall-at-k']).toBe(3 * 3); // 3 systems x 3 cut-offs
    expect(byId['chart-training-loss']).toBe(5 + 5 + 4);
    expect(byId['chart-semantic-id-utilisation-1']).toBe(3);
    expect(byId['chart-semantic-id-collisions-1']).toBe(3);
    expect(byId['chart-exposure-lorenz']).toBe(3 * 51);
    expect(byId['chart-long-tail']).toBe(2); // the training data has no long-tail share
    expect(byId['chart-alignment-ndcg-10']).toBe(3);
    for (const chart of charts) expect(html).toContain(`<figure id="${chart.id}" data-chart data-expected-marks="${chart.expectedMarks}">`);
  });

  it('gives each series one colour across all charts', () => {
    const colours = new Map<string, string>();
    for (const chart of reportCharts(input)) {
      chart.colors!.domain.forEach((name, index) => {
        const colour = chart.colors!.range[index]!;
        expect(colours.get(name) ?? colour, `${chart.id}: ${name}`).toBe(colour);
        colours.set(name, colour);
      });
      expect(chart.colors!.domain.sort()).toEqual([...new Set(chart.points.map((point) => point.series))].sort());
    }
    expect(colours.get('popularity')).toBe('#4e79a7'); // the systems in table order first
    expect(colours.get('sasrec')).toBe('#f28e2c');
  });

  it('renders the metrics table with spread over seeds and significance marks', () => {
    const table = /<table id="metrics-table">([\s\S]*?)<\/table>/.exec(html)![1]!;
    expect(table).toContain('<th>recall@5</th><th>recall@10</th><th>recall@20</th><th>ndcg@5</th>');
    const sasrec = input.systems[1]!.metrics['recall@10']!;
    expect(table).toContain(`${sasrec.mean.toFixed(4)} <span class="spread">± ${sasrec.std.toFixed(4)}</span> <span class="mark-higher"`);
    expect(table.match(/mark-higher/g)).toHaveLength(4); // two systems x two significant metrics
    expect(table).toContain('popularity <span class="muted">(baseline)</span>');
    expect(html).toContain('in every seed');
  });

  it('leaves out sections without data and skips non-finite points', () => {
    const minimal = buildReport({ title: 'minimal', systems: [{ name: 'a', metrics: { 'recall@10': { mean: Number.NaN, std: 0, n: 1 }, 'ndcg@10': { mean: 0.1, std: 0, n: 1 } } }] });
    expect(minimal).not.toContain('id="training"');
    expect(minimal).not.toContain('id="semantic-ids"');
    expect(minimal).not.toContain('id="exposure"');
    expect(minimal).not.toContain('id="alignment"');
    expect(minimal).toContain('<td>n/a</td>');
    const charts = dataBlock(minimal).charts;
    expect(charts.map((chart) => [chart.id, chart.expectedMarks, chart.points.length])).toEqual([
      ['chart-recall-at-k', 0, 0],
      ['chart-ndcg-at-k', 1, 1],
    ]);
  });

  it('refuses input without a title or with malformed systems', () => {
    expect(() => buildReport({ title: '', systems: [] })).toThrow(GenrecError);
    expect(() => buildReport({ title: 'x', systems: [{ name: 'a' } as never] })).toThrow(/systems\[0\] needs a name and metrics/);
  });
});
