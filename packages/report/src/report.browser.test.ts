// The report checked in a real browser: headless Chromium (Debian's package) driven by
// playwright-core. Without Chromium it skips with the reason printed, except with CI=true, where it
// fails (CI must run it; the repository's pnpm test installs Chromium first: tooling/system-packages.mjs).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeReport } from './build-report.js';
import { checkReportInBrowser } from './browser/check-report.js';
import { findChromium } from './browser/chromium.js';
import { reportCharts } from './charts.js';
import { sampleReportInput } from './sample-input.js';

const chromium = findChromium();
const required = process.env.CI === 'true';
if (chromium.path === undefined && !required) console.log(`skip @genrec/report browser test: ${chromium.reason}`);
if (chromium.path === undefined && required) {
  it('finds Chromium (CI=true runs the browser test, never skips it)', () => {
    throw new Error(chromium.reason);
  });
}
const folder = mkdtempSync(join(tmpdir(), 'genrec-report-browser-'));
afterAll(() => {
  if (process.env.GENREC_KEEP_SCREENSHOTS !== '1') rmSync(folder, { recursive: true, force: true });
});

describe.skipIf(chromium.path === undefined)('the report in headless Chromium', () => {
  it('loads with no console error and no request, and every chart draws all its data points', async () => {
    const input = sampleReportInput();
    const file = join(folder, 'report.html');
    writeReport(file, input);
    const screenshot = join(folder, 'report.png');
    const check = await checkReportInBrowser(file, { executablePath: chromium.path!, screenshot });
    expect(check.errors).toEqual([]);
    expect(check.requests).toEqual([]);
    const charts = reportCharts(input);
    expect(check.chartsRendered).toBe(charts.length);
    expect(check.charts.map((chart) => chart.id)).toEqual(charts.map((chart) => chart.id));
    for (const chart of check.charts) {
      expect(chart.rendered, chart.id).toBe(true);
      expect(chart.expected, chart.id).toBeGreaterThan(0);
      expect(chart.drawn, chart.id).toBe(chart.expected);
    }
    expect(check.tableRows).toBe(input.systems.length);
    expect(statSync(screenshot).size).toBeGreaterThan(20_000);
    console.log(`report screenshot: ${screenshot}${process.env.GENREC_KEEP_SCREENSHOTS === '1' ? '' : ' (removed after the run; GENREC_KEEP_SCREENSHOTS=1 keeps it)'}`);
    if (process.env.GENREC_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(join(import.meta.dirname, '..', 'docs'), { recursive: true });
      copyFileSync(screenshot, join(import.meta.dirname, '..', 'docs', 'sample-report.png'));
    }
  });

  it('reports a chart that cannot be drawn as a console error (the check can fail)', async () => {
    const input = sampleReportInput();
    const file = join(folder, 'broken.html');
    writeReport(file, input);
    // break the written page: one chart's spec names a figure that is not there
    const { readFileSync, writeFileSync } = await import('node:fs');
    const original = readFileSync(file, 'utf8');
    const broken = original.replace('"id":"chart-long-tail"', '"id":"chart-long-tail-elsewhere"');
    expect(broken).not.toBe(original);
    writeFileSync(file, broken);
    const check = await checkReportInBrowser(file, { executablePath: chromium.path! });
    expect(check.errors.join('\n')).toMatch(/chart chart-long-tail-elsewhere failed: the page has no figure for it/);
    expect(check.chartsRendered).toBe(reportCharts(input).length - 1);
    const longTail = check.charts.find((chart) => chart.id === 'chart-long-tail')!;
    expect(longTail).toMatchObject({ rendered: false, drawn: 0, expected: 2 });
    expect(existsSync(file)).toBe(true);
  });
});
