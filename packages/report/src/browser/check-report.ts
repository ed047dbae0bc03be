import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

/** What a report looked like in the browser (see {@link checkReportInBrowser}). */
export interface BrowserCheck {
  /** `console.error` messages and uncaught page errors. */
  errors: string[];
  /** URLs the page requested other than the report file itself. */
  requests: string[];
  /** Per chart: its id, the marks it must draw, and the dots/bars found in its SVG. */
  charts: { id: string; expected: number; drawn: number; rendered: boolean }[];
  /** `data-charts-rendered` of the body (charts the page script drew). */
  chartsRendered: number;
  /** Rows of the metrics table. */
  tableRows: number;
}

// A string, evaluated in the page (the package compiles without DOM types).
const COUNT_MARKS = `Array.from(document.querySelectorAll('figure[data-chart]')).map((figure) => ({
  id: figure.id,
  expected: Number(figure.getAttribute('data-expected-marks')),
  drawn: figure.querySelectorAll('g[aria-label="dot"] circle, g[aria-label="bar"] rect').length,
  rendered: figure.getAttribute('data-rendered') === 'true',
}))`;

/**
 * Opens a report file in headless Chromium (playwright-core, the given executable), waits until
 * its script has drawn the charts, counts every chart's SVG marks, collects console errors and
 * network requests, and optionally writes a full-page screenshot.
 *
 * @param file - the report `.html`
 * @param options - the Chromium executable and an optional screenshot path (PNG)
 * @returns what was found
 * @example
 * ```ts
 * const check = await checkReportInBrowser('report.html', { executablePath: '/usr/bin/chromium', screenshot: 'report.png' });
 * check.errors; // []
 * ```
 */
export async function checkReportInBrowser(file: string, options: { executablePath: string; screenshot?: string; width?: number }): Promise<BrowserCheck> {
  const browser = await chromium.launch({ executablePath: options.executablePath, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: options.width ?? 1240, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    const url = pathToFileURL(file).href;
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
    page.on('request', (request) => {
      if (request.url() !== url && !request.url().startsWith('data:')) requests.push(request.url());
    });
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('body[data-charts-rendered]', { state: 'attached', timeout: 30_000 });
    const charts = (await page.evaluate(COUNT_MARKS)) as BrowserCheck['charts'];
    const chartsRendered = Number(await page.evaluate(`document.body.getAttribute('data-charts-rendered')`));
    const tableRows = Number(await page.evaluate(`document.querySelectorAll('#metrics-table tbody tr').length`));
    if (options.screenshot !== undefined) await page.screenshot({ path: options.screenshot, fullPage: true });
    return { errors, requests, charts, chartsRendered, tableRows };
  } finally {
    await browser.close();
  }
}
