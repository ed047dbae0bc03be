import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { RUN_FILES, collectRuns, readRunFolder, reportFromRuns, runCli, type CliIo, type ModelEntry, type TableSystem } from '@genrec/cli';

/** The models of the table by default: every trained kind of the CLI's registry (popularity is the baseline of every run). */
export const DEFAULT_MODELS: readonly string[] = ['markov', 'item-knn', 'sasrec', 'setrec', 'tiger'];

/**
 * Model options of the table that differ from the package defaults, each chosen on Toys validation
 * in its package's benchmark: TIGER's semantic ids from the CLI's text vectors concatenated with
 * the item embeddings of a SASRec trained first (`@genrec/model-tiger`'s README: text + SASRec
 * beat either alone).
 */
export const MODEL_OPTIONS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  tiger: { itemVectors: ['given', 'sasrec'] },
};

/** Options of {@link runBenchmark}. */
export interface BenchmarkOptions {
  /** A data folder (one sequence file, optionally `items.jsonl`), e.g. `../shared/data/amazon2014-toys`. */
  data: string;
  /** Output folder: `<out>/<data folder name>/{genrec.json, runs/<model>/, report.html, table.md}`. */
  out: string;
  /** Model kinds, in table order. @defaultValue {@link DEFAULT_MODELS} */
  models?: readonly string[];
  /** Seeds of every trained model. @defaultValue [42] */
  seeds?: readonly number[];
  /** Epochs instead of each model's defaults (the smoke test uses 1). */
  epochs?: number;
  /** Further registry entries (kinds beyond the CLI's, or replacing one of them). @defaultValue none */
  extraModels?: readonly ModelEntry[];
  /** Streams of the `genrec` commands. */
  io?: Partial<CliIo>;
  /** The benchmark's own lines. @defaultValue stdout */
  say?: (line: string) => void;
  /** Ctrl-C. */
  signal?: AbortSignal;
  /** Model options by kind, passed as `--set model.options.<name>=<json>`. @defaultValue {@link MODEL_OPTIONS} */
  modelOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** What {@link runBenchmark} did. */
export interface BenchmarkResult {
  exitCode: number;
  /** Models trained now, and models whose finished run was kept. */
  trained: string[];
  skipped: string[];
  /** The report and the Markdown table. */
  report: string;
  table: string;
  markdown: string;
}

const metric = (system: TableSystem, key: string): string => {
  const summary = system.summary[key];
  if (summary === undefined) return '–';
  const mark = system.significantInEverySeed[key] === 'higher' ? ' ▲' : system.significantInEverySeed[key] === 'lower' ? ' ▼' : '';
  return `${summary.mean.toFixed(4)}${summary.n > 1 ? ` ± ${summary.std.toFixed(4)}` : ''}${mark}`;
};

/**
 * The benchmark table of one data folder: `genrec train <model>` for every model into
 * `runs/<model>` (a finished run is kept and skipped: the benchmark resumes where it stopped; an
 * unfinished one is trained again), then `genrec report` over all runs and a Markdown table.
 *
 * @param options - the data folder, the output folder, the models
 * @returns the exit code (the first failing command's), the models trained and skipped, the files written
 */
export async function runBenchmark(options: BenchmarkOptions): Promise<BenchmarkResult> {
  const say = options.say ?? ((line: string) => process.stdout.write(`${line}\n`));
  const data = resolve(options.data);
  const name = basename(data);
  const out = join(resolve(options.out), name);
  const runs = join(out, 'runs');
  mkdirSync(runs, { recursive: true });
  const config = join(out, 'genrec.json');
  writeFileSync(
    config,
    JSON.stringify({ name, data: { path: data }, evaluation: { ks: [10, 20], baselines: ['popularity'] }, seeds: options.seeds ?? [42], output: runs }, null, 2) + '\n',
  );
  const cliOptions = { ...(options.io === undefined ? {} : { io: options.io }), ...(options.extraModels === undefined ? {} : { models: options.extraModels }), ...(options.signal === undefined ? {} : { signal: options.signal }) };
  const trained: string[] = [];
  const skipped: string[] = [];
  const report = join(out, 'report.html');
  const markdownFile = join(out, 'table.md');
  const result = (exitCode: number, table = '', markdown = ''): BenchmarkResult => ({ exitCode, trained, skipped, report, table, markdown });
  const models = options.models ?? DEFAULT_MODELS;
  for (const model of models) {
    const folder = join(runs, model);
    if (existsSync(join(folder, RUN_FILES.record))) {
      const status = readRunFolder(folder).record.status;
      if (status === 'complete') {
        say(`${model}: finished run in ${folder}, skipped`);
        skipped.push(model);
        continue;
      }
      say(`${model}: the run in ${folder} is ${status}; training again`);
    }
    rmSync(folder, { recursive: true, force: true });
    const modelOptions: Record<string, unknown> = { ...(options.modelOptions ?? MODEL_OPTIONS)[model] };
    // SETRec's CF tokens from the table's own SASRec when it is one of the models (trained before it)
    const sasrecAt = models.indexOf('sasrec');
    if (model === 'setrec' && sasrecAt >= 0 && sasrecAt < models.indexOf(model) && modelOptions['sasrecModel'] === undefined) modelOptions['sasrecModel'] = join(runs, 'sasrec');
    const sets = Object.entries(modelOptions).flatMap(([field, value]) => ['--set', `model.options.${field}=${JSON.stringify(value)}`]);
    const argv = ['train', model, '--config', config, '--run-id', model, ...sets, ...(options.epochs === undefined ? [] : ['--epochs', String(options.epochs)])];
    say(`$ genrec ${argv.join(' ')}`);
    const code = await runCli(argv, cliOptions);
    if (code !== 0) return result(code);
    trained.push(model);
  }
  const folders = models.map((model) => join(runs, model));
  let table = '';
  const code = await runCli(['report', ...folders, '--out', report, '--title', `genrec benchmark: ${name}`], {
    ...cliOptions,
    io: { ...options.io, stdout: { write: (text: string) => (table += text) } },
  });
  if (code !== 0) return result(code);
  (options.io?.stdout ?? process.stdout).write(table);
  const collected = reportFromRuns(collectRuns(folders, process.cwd()).runs);
  const header = '| model | Recall@10 | NDCG@10 | Recall@20 | NDCG@20 | train s | seeds |';
  const rows = collected.table.map(
    (system) =>
      `| ${system.name}${system.baseline ? ' (baseline)' : ''} | ${metric(system, 'recall@10')} | ${metric(system, 'ndcg@10')} | ${metric(system, 'recall@20')} | ${metric(system, 'ndcg@20')} | ${
        system.summary['trainingSeconds'] === undefined ? '–' : system.summary['trainingSeconds'].mean.toFixed(1)
      } | ${Math.max(1, system.summary['recall@10']?.n ?? 1)} |`,
  );
  const markdown = [header, '|---|---:|---:|---:|---:|---:|---:|', ...rows, '', `▲ / ▼: significantly higher / lower than popularity (paired t-test, Holm-corrected, α 0.05${(options.seeds?.length ?? 1) > 1 ? ', every seed' : ''}). ${collected.input.protocol ?? ''}`].join('\n') + '\n';
  writeFileSync(markdownFile, markdown);
  say(`Markdown table: ${markdownFile}`);
  return result(0, table, markdown);
}
