import { resolve } from 'node:path';
import { writeReport } from '@genrec/report';
import type { CommandContext, CommandOutcome } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { collectRuns, readIdsHealth, reportFromRuns } from '../report/collect-runs.js';
import { formatQualityTable } from '../tables.js';

/**
 * `genrec report <runs…> --out report.html`: one self-contained HTML report (and the printed
 * table) over finished run folders on the same data; a folder of run folders counts as all of them.
 * `ids` adds the health of ids folders written by `genrec ids --out`.
 * @example
 * ```ts
 * await runCli(['report', 'runs', '--out', 'report.html']); // what calls it
 * ```
 */
export function reportCommand(context: CommandContext, options: { runs: string[]; out?: string; title?: string; ids?: string[] }): CommandOutcome {
  const { runs, skipped } = collectRuns(options.runs, context.io.cwd);
  for (const folder of skipped) context.display.line(`skipped ${folder}: not finished`);
  const report = reportFromRuns(runs, options.title === undefined ? {} : { title: options.title });
  for (const folder of options.ids ?? []) {
    const health = readIdsHealth(resolve(context.io.cwd, folder));
    report.input.semanticIds = [...(report.input.semanticIds ?? []), health];
  }
  const out = resolve(context.io.cwd, options.out ?? 'report.html');
  const charts = writeReport(out, report.input);
  const table = formatQualityTable(report.table, report.tableMetrics, { baseline: report.baseline, test: runs[0]!.metrics.significance.test, alpha: runs[0]!.metrics.significance.alpha, seeds: report.seeds });
  return {
    exitCode: EXIT_CODES.ok,
    text: `${table}\n\nProtocol: ${runs[0]!.metrics.protocol}\nreport: ${out} (${charts} charts, ${runs.length} run${runs.length === 1 ? '' : 's'})\n`,
    json: { ok: true, command: 'report', report: out, charts, runs: runs.map((run) => run.path), skipped, systems: report.table },
  };
}
