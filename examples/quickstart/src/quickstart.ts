import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, type CliIo } from '@genrec/cli';

/** A generative model the quickstart can train (a kind of the CLI's registry): its kind, small configuration and arguments. */
export interface GenerativeChoice {
  kind: string;
  preset: string;
  /** What it is, for the step's title. */
  what: string;
  /** Further arguments of its `genrec train` (`out`: the quickstart's folder). */
  args(out: string): string[];
}

/** SETRec (`@genrec/model-setrec`, in the CLI's registry); its CF tokens come from the SASRec trained just before. */
export const SETREC_CHOICE: GenerativeChoice = {
  kind: 'setrec',
  preset: 'quickstart',
  what: 'generative: each item a set of tokens (a CF token from the SASRec above, semantic tokens of its title) generated at once and grounded to catalogue items',
  args: (out) => ['--set', `model.options.sasrecModel=${join(out, 'runs', 'sasrec')}`],
};

/** TIGER (`@genrec/model-tiger`, in the CLI's registry): decodes over the semantic ids of step 1 with trie-constrained beam search. */
export const TIGER_CHOICE: GenerativeChoice = {
  kind: 'tiger',
  preset: 'quickstart',
  what: 'generative: the semantic ids of step 1 generated token by token by a Transformer, beam search constrained to the catalogue by a trie',
  args: (out) => ['--set', `ids.path=${join(out, 'ids')}`],
};

/**
 * The generative model of the quickstart: the best one available within the time budget. Measured
 * on the synthetic default with each one's quickstart configuration (2026-12-07, 2-core VM, one
 * after the other): SETRec Recall@10 0.218 in 21 s of training, TIGER 0.102 in 31 s (popularity
 * 0.075) — SETRec, until TIGER's quickstart configuration does better (then `TIGER_CHOICE`).
 * `null` leaves SASRec alone, and the quickstart says so.
 */
export const GENERATIVE_MODEL: GenerativeChoice | null = SETREC_CHOICE;

/** Options of {@link runQuickstart}. */
export interface QuickstartOptions {
  /** Folder of everything the quickstart writes (emptied first): `genrec.json`, `ids/`, `runs/`, `report.html`. */
  out: string;
  /** The `data` section of the config. @defaultValue the synthetic default (5,000 users, 2,000 items) */
  data?: Record<string, unknown>;
  /** Epochs of every trained model instead of the presets' (the smoke test uses 1). */
  epochs?: number;
  /** Streams of the `genrec` commands. @defaultValue the process's */
  io?: Partial<CliIo>;
  /** Where the quickstart's own lines go (the commands it runs). @defaultValue stdout */
  say?: (line: string) => void;
  /** Ctrl-C. */
  signal?: AbortSignal;
  /** The generative model. @defaultValue {@link GENERATIVE_MODEL} */
  generative?: GenerativeChoice | null;
}

/** What {@link runQuickstart} did. */
export interface QuickstartResult {
  /** 0, or the exit code of the first command that failed. */
  exitCode: number;
  /** The report file. */
  report: string;
  /** The model kinds trained, in order. */
  trained: string[];
  /** Wall time in seconds. */
  seconds: number;
}

/**
 * The main job: `genrec ids` (semantic ids of the catalogue titles, their health), `genrec train`
 * of SASRec's small configuration and of the generative model's (when one is available), each
 * evaluated against popularity with paired tests, then `genrec report`: the printed table and
 * `report.html`. Every step is a `genrec` command line, printed before it runs.
 *
 * @param options - the output folder (and, for tests, tiny data)
 * @returns the exit code, the report path and the wall time
 */
export async function runQuickstart(options: QuickstartOptions): Promise<QuickstartResult> {
  const started = performance.now();
  const say = options.say ?? ((line: string) => process.stdout.write(`${line}\n`));
  const out = options.out;
  if (existsSync(out)) rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const config = join(out, 'genrec.json');
  writeFileSync(
    config,
    JSON.stringify(
      {
        data: options.data ?? { path: 'synthetic' },
        ids: { kind: 'semantic', embeddings: 'text', dimension: 64, levels: 3, codebookSize: 32, seed: 0 },
        evaluation: { ks: [5, 10, 20], baselines: ['popularity'], test: 'paired-t' },
        seeds: [42],
        output: 'runs',
      },
      null,
      2,
    ) + '\n',
  );
  const generative = options.generative === undefined ? GENERATIVE_MODEL : options.generative;
  const epochs = options.epochs === undefined ? [] : ['--epochs', String(options.epochs)];
  const steps: { title: string; argv: string[] }[] = [
    { title: 'semantic ids of the item titles (residual k-means, the ids TIGER decodes over), and their health', argv: ['ids', '--config', config, '--out', join(out, 'ids')] },
  ];
  const trained: string[] = [];
  steps.push({ title: 'SASRec (quickstart configuration), evaluated against popularity', argv: ['train', 'sasrec', '--config', config, '--preset', 'quickstart', '--run-id', 'sasrec', ...epochs] });
  trained.push('sasrec');
  if (generative !== null) {
    steps.push({
      title: `${generative.kind} (${generative.preset} configuration), ${generative.what}; evaluated against popularity`,
      argv: ['train', generative.kind, '--config', config, '--preset', generative.preset, '--run-id', generative.kind, ...generative.args(out), ...epochs],
    });
    trained.push(generative.kind);
  } else {
    say('note: no generative model is available in this version; SASRec carries the quickstart alone.');
  }
  const report = join(out, 'report.html');
  steps.push({ title: 'the table and report.html', argv: ['report', join(out, 'runs'), '--ids', join(out, 'ids'), '--out', report, '--title', 'genrec quickstart'] });
  for (const [index, step] of steps.entries()) {
    say('');
    say(`[${index + 1}/${steps.length}] ${step.title}`);
    say(`$ genrec ${step.argv.map((arg) => arg.split(`${process.cwd()}/`).join('')).join(' ')}`);
    const code = await runCli(step.argv, { ...(options.io === undefined ? {} : { io: options.io }), ...(options.signal === undefined ? {} : { signal: options.signal }) });
    if (code !== 0) return { exitCode: code, report, trained, seconds: (performance.now() - started) / 1000 };
  }
  const seconds = (performance.now() - started) / 1000;
  say('');
  say(`quickstart done in ${seconds.toFixed(1)} s; open ${report} in a browser (one file, works offline)`);
  return { exitCode: 0, report, trained, seconds };
}
