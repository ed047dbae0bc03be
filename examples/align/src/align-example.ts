import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadData, resolveConfig, runCli, textTable, type CliIo, type ComparedMetric, type RunMetrics } from '@genrec/cli';
import { alignModel, type AlignOptions } from '@genrec/dpo';
import { loadRecommender, sasrecPreferenceModel, type SasrecModel } from '@genrec/models';

/** One configuration of the screen: the loss and β (the rest is the shared budget). */
export interface ScreenedConfiguration {
  loss: 'dpo' | 'cdpo' | 'ipo' | 'sdpo';
  beta: number;
}

/** The configurations screened on validation: DPO and S-DPO (3 rejected items) at β 0.1 and 1. */
export const SCREEN: readonly ScreenedConfiguration[] = [
  { loss: 'dpo', beta: 0.1 },
  { loss: 'dpo', beta: 1 },
  { loss: 'sdpo', beta: 0.1 },
  { loss: 'sdpo', beta: 1 },
];

/**
 * The alignment budget every configuration gets, as the `align` section of the config file (the
 * same names as `alignModel`'s options, so the screen and `genrec align` read one object): the
 * model's own top items as rejected (self-hard negatives), two rounds on 10% of the training users,
 * one pass over each round's pairs, the package's defaults for the rest.
 */
export const BUDGET = { source: 'self-hard-negatives', rounds: 2, userShare: 0.1, seed: 1 } as const satisfies AlignOptions;

/** Options of {@link runAlignExample}. */
export interface AlignExampleOptions {
  /** Folder of everything the example writes (emptied first): `genrec.json`, `runs/sasrec/`, `runs/aligned/`. */
  out: string;
  /** The `data` section of the config. @defaultValue the synthetic default (5,000 users, 2,000 items) */
  data?: Record<string, unknown>;
  /** SASRec's epochs instead of the quickstart preset's 6 (the smoke test uses 1). */
  epochs?: number;
  /** The budget (the config's `align` section). @defaultValue {@link BUDGET} */
  budget?: Record<string, unknown>;
  /** The configurations screened. @defaultValue {@link SCREEN} */
  screen?: readonly ScreenedConfiguration[];
  /** Streams of the `genrec` commands. @defaultValue the process's */
  io?: Partial<CliIo>;
  /** Where the example's own lines go. @defaultValue stdout */
  say?: (line: string) => void;
  /** Ctrl-C. */
  signal?: AbortSignal;
}

/** One row of the validation screen. */
export interface ScreenRow {
  configuration: ScreenedConfiguration;
  /** Pairs per round. */
  pairs: number[];
  /** Mean `rewards/margins` of the last round's steps. */
  margins: number;
  /** KL to the reference, summed over the rounds. */
  kl: number;
  /** The validation users' diagnostics after the last round (`ndcg@10`, `recall@10`, `coverage@10`…). */
  validation: Record<string, number>;
}

/** What {@link runAlignExample} did. */
export interface AlignExampleResult {
  /** 0, or the exit code of the first command that failed. */
  exitCode: number;
  /** The un-aligned model's validation diagnostics. */
  unaligned: Record<string, number> | null;
  /** Every configuration screened. */
  screen: ScreenRow[];
  /** The configuration chosen on validation (highest NDCG@10; the first on ties). */
  chosen: ScreenedConfiguration | null;
  /** Test NDCG@10 of the un-aligned and the aligned model with the paired test (`genrec align`'s `metrics.json`). */
  test: ComparedMetric | null;
  /** The run folder of `genrec align`. */
  run: string;
  /** Wall time in seconds. */
  seconds: number;
}

const fixed = (value: number | undefined, digits = 4): string => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits));
const nameOf = (configuration: ScreenedConfiguration): string => `${configuration.loss} β=${configuration.beta}`;

/**
 * Screens the configurations on the validation users with `@genrec/dpo`'s `alignModel` (each from
 * the same saved SASRec, at the same budget) and returns one row each, plus the un-aligned model's
 * validation numbers. Pairs come from the training part only; test users are not touched.
 */
async function screenOnValidation(config: string, cwd: string, modelFolder: string, budget: Record<string, unknown>, screen: readonly ScreenedConfiguration[], signal?: AbortSignal): Promise<{ unaligned: Record<string, number> | null; rows: ScreenRow[] }> {
  const resolved = resolveConfig({ file: config, cwd });
  const data = await loadData(resolved.data);
  const rows: ScreenRow[] = [];
  let unaligned: Record<string, number> | null = null;
  for (const configuration of screen) {
    const model = (await loadRecommender(modelFolder)) as SasrecModel;
    try {
      const result = await alignModel(
        model,
        sasrecPreferenceModel(model),
        { train: data.split.train, validation: data.split.validation },
        { ...(budget as AlignOptions), ...configuration, threads: resolved.threads, ...(signal === undefined ? {} : { signal }) },
      );
      await result.model.dispose();
      const last = result.rounds.at(-1);
      unaligned ??= result.before.validation;
      rows.push({
        configuration,
        pairs: result.rounds.map((round) => round.pairs),
        margins: last?.training['rewards/margins'] ?? Number.NaN,
        kl: result.rounds.reduce((sum, round) => sum + (round.after.kl ?? 0), 0),
        validation: last?.after.validation ?? {},
      });
    } finally {
      await model.dispose();
    }
  }
  return { unaligned, rows };
}

/**
 * The example: `genrec train sasrec --preset quickstart` on the synthetic default; then the
 * configurations of {@link SCREEN} aligned from that SASRec with `@genrec/dpo` and compared on the
 * **validation** users only; the best validation NDCG@10 is chosen (a rule fixed before looking at
 * test); then `genrec align` aligns the chosen configuration and compares it once with the
 * un-aligned model on the **test** users (paired t-test, Holm over the table metrics). Every
 * `genrec` step is printed as a command line before it runs.
 *
 * @param options - the output folder (and, for tests, tiny data)
 * @returns the screen, the choice, the test comparison and the wall time
 * @example
 * ```ts
 * const result = await runAlignExample({ out: 'out' });
 * console.log(result.chosen, result.test?.difference, result.test?.pValue);
 * ```
 */
export async function runAlignExample(options: AlignExampleOptions): Promise<AlignExampleResult> {
  const started = performance.now();
  const say = options.say ?? ((line: string) => process.stdout.write(`${line}\n`));
  const out = options.out;
  const budget = options.budget ?? { ...BUDGET };
  const screen = options.screen ?? SCREEN;
  const run = join(out, 'runs', 'aligned');
  const result: AlignExampleResult = { exitCode: 0, unaligned: null, screen: [], chosen: null, test: null, run, seconds: 0 };
  const finish = (exitCode: number): AlignExampleResult => ({ ...result, exitCode, seconds: (performance.now() - started) / 1000 });
  if (existsSync(out)) rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const config = join(out, 'genrec.json');
  writeFileSync(
    config,
    JSON.stringify({ data: options.data ?? { path: 'synthetic' }, evaluation: { ks: [5, 10, 20], baselines: ['popularity'], test: 'paired-t' }, seeds: [42], output: 'runs', align: budget }, null, 2) + '\n',
  );
  const genrec = async (argv: string[]): Promise<number> => {
    say(`$ genrec ${argv.map((arg) => arg.split(`${process.cwd()}/`).join('')).join(' ')}`);
    return runCli(argv, { ...(options.io === undefined ? {} : { io: options.io }), ...(options.signal === undefined ? {} : { signal: options.signal }) });
  };

  say('');
  say('[1/3] SASRec (quickstart configuration), evaluated against popularity');
  const epochs = options.epochs === undefined ? [] : ['--epochs', String(options.epochs)];
  const trained = await genrec(['train', 'sasrec', '--config', config, '--preset', 'quickstart', '--run-id', 'sasrec', ...epochs]);
  if (trained !== 0) return finish(trained);

  say('');
  say(`[2/3] ${screen.length} configurations screened on the validation users (@genrec/dpo alignModel; budget ${JSON.stringify(budget)}); test users untouched`);
  const screened = await screenOnValidation(config, process.cwd(), join(out, 'runs', 'sasrec', 'seeds', '42', 'model'), budget, screen, options.signal);
  result.unaligned = screened.unaligned;
  result.screen = screened.rows;
  const header = ['configuration', 'pairs', 'margins', 'KL', 'val ndcg@10', 'val recall@10', 'coverage@10', 'popularity@10'];
  const validation = (numbers: Record<string, number> | null): string[] => [fixed(numbers?.['ndcg@10']), fixed(numbers?.['recall@10']), fixed(numbers?.['coverage@10'], 3), fixed(numbers?.['popularity@10'], 1)];
  let best: ScreenRow | undefined;
  for (const row of screened.rows) if (best === undefined || (row.validation['ndcg@10'] ?? -1) > (best.validation['ndcg@10'] ?? -1)) best = row;
  say(
    textTable([
      header,
      ['(un-aligned)', '-', '-', '0', ...validation(screened.unaligned)],
      ...screened.rows.map((row) => [`${nameOf(row.configuration)}${row === best ? ' (chosen)' : ''}`, row.pairs.join(' + '), fixed(row.margins), fixed(row.kl), ...validation(row.validation)]),
    ]),
  );
  if (best === undefined) return finish(0);
  result.chosen = best.configuration;
  const gain = (best.validation['ndcg@10'] ?? Number.NaN) - (screened.unaligned?.['ndcg@10'] ?? Number.NaN);
  say(`chosen on validation (highest NDCG@10, before looking at test): ${nameOf(best.configuration)}, ${gain >= 0 ? '+' : ''}${fixed(gain)} over the un-aligned model on validation`);

  say('');
  say('[3/3] the chosen configuration aligned by genrec align, compared once with the un-aligned model on the test users');
  const aligned = await genrec(['align', join(out, 'runs', 'sasrec'), '--config', config, '--loss', best.configuration.loss, '--beta', String(best.configuration.beta), '--run-id', 'aligned']);
  if (aligned !== 0) return finish(aligned);
  const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as RunMetrics;
  const ndcg = metrics.comparison?.seeds[0]?.metrics['ndcg@10'];
  result.test = ndcg ?? null;
  if (ndcg !== undefined) {
    const p = (value: number): string => (value >= 0.001 ? value.toFixed(4) : value.toExponential(1));
    say('');
    say(
      `test NDCG@10 (${metrics.comparison!.seeds[0]!.users} users): un-aligned ${fixed(ndcg.reference)} → ${nameOf(best.configuration)} ${fixed(ndcg.system)} (${ndcg.difference >= 0 ? '+' : ''}${fixed(ndcg.difference)}); ` +
        `paired t-test p = ${p(ndcg.pValue)}, Holm-adjusted ${p(ndcg.adjustedPValue)}: ${ndcg.significant ? `significantly ${ndcg.direction}` : 'no significant difference'} at alpha ${metrics.significance.alpha}`,
    );
  }
  const done = finish(0);
  say(`align example done in ${done.seconds.toFixed(1)} s; run folders in ${join(out, 'runs')}`);
  return done;
}
