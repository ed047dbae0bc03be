// Opens a report in headless Chromium, checks it (console errors, requests, marks drawn per
// chart) and writes a full-page screenshot: the README pictures come from here.
//   npx tsx --conditions=@genrec/source scripts/screenshot.ts report.html docs/report.png [viewport width]
import { checkReportInBrowser } from '../src/browser/check-report.js';
import { findChromium } from '../src/browser/chromium.js';

const [file, png, width] = process.argv.slice(2);
if (file === undefined || png === undefined) {
  console.error('usage: screenshot.ts <report.html> <out.png> [viewport width]');
  process.exit(2);
}
const chromium = findChromium();
if (chromium.path === undefined) {
  console.error(chromium.reason);
  process.exit(3);
}
const check = await checkReportInBrowser(file, { executablePath: chromium.path, screenshot: png, ...(width === undefined ? {} : { width: Number(width) }) });
const ok = check.errors.length === 0 && check.requests.length === 0 && check.charts.every((chart) => chart.rendered && chart.drawn === chart.expected);
console.log(JSON.stringify({ ok, errors: check.errors, requests: check.requests, chartsRendered: check.chartsRendered, charts: check.charts }));
process.exitCode = ok ? 0 : 1;
