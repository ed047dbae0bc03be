import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { GenrecError } from '@genrec/core';
import { alignCommand } from './commands/align.js';
import { dataCommand } from './commands/data.js';
import { evaluateCommand } from './commands/evaluate.js';
import { idsCommand } from './commands/ids.js';
import { modelsCommand } from './commands/models.js';
import { recommendCommand } from './commands/recommend.js';
import { reportCommand } from './commands/report.js';
import { reproduceCommand } from './commands/reproduce.js';
import { serveCommand } from './commands/serve.js';
import { serveFlagOptions } from './commands/serve-flags.js';
import { sweepCommand } from './commands/sweep.js';
import { trainCommand } from './commands/train.js';
import { parseAssignment, resolveConfig, setPath, type GenrecConfig } from './config/config.js';
import type { CliIo, CommandContext, CommandOutcome } from './context.js';
import { CliError, EXIT_CODES, exitCodeOf, type ExitCode } from './exit-codes.js';
import { createModelRegistry, type ModelEntry, type ModelRegistry } from './models/registry.js';
import { createProgressDisplay, type ProgressMode } from './progress/display.js';
import { RUN_FILES, readRunFolder } from './run/run-folder.js';
import { version } from './version.js';

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** Streams and working directory. @defaultValue the process's */
  io?: Partial<CliIo>;
  /** Further model kinds (registry entries) for `train`, `sweep`, `evaluate`, `recommend`. */
  models?: readonly ModelEntry[];
  /**
   * Aborted on Ctrl-C (the `genrec` binary wires SIGINT to it, and SIGTERM for `serve`): training
   * stops at the next step and keeps the best model; `serve` drains its requests and returns 0.
   * Without it, `serve` runs until the process ends.
   */
  signal?: AbortSignal;
}

type Args = Record<string, unknown> & { _: (string | number)[] };

const CONFIG_COMMANDS = ['data', 'ids', 'train', 'evaluate', 'recommend', 'sweep', 'align'] as const;

/** Every command, in the order of `genrec --help`. */
const COMMANDS: readonly string[] = ['data', 'ids', 'train', 'evaluate', 'recommend', 'report', 'reproduce', 'sweep', 'models', 'align', 'serve'];

/** The flags every command with a configuration takes. */
function configOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('config', { alias: 'c', type: 'string', describe: 'JSON config file (flags override it)' })
    .option('data', { type: 'string', describe: 'data: "synthetic", a sequence file, an interaction log, or a data folder (data.path)' })
    .option('catalog', { type: 'string', describe: 'item metadata, JSON lines (data.catalog)' })
    .option('format', { type: 'string', choices: ['auto', 'sequences', 'interactions', 'movielens'], describe: 'how to read --data (data.format)' })
    .option('seed', { type: 'number', describe: 'one seed (seeds = [n])' })
    .option('seeds', { type: 'string', describe: 'several seeds, comma-separated: one training each, tables show mean ± spread' })
    .option('threads', { type: 'number', describe: 'onnxruntime threads per operator, 0 = one per physical core (threads)' })
    .option('set', { type: 'string', array: true, describe: 'any config field: --set model.options.hiddenSize=32 (JSON values)' });
}

/** The flags of the commands that train or evaluate (`train`, `sweep`, `evaluate`). */
function runOptions<T>(y: Argv<T>): Argv<T> {
  return configOptions(y)
    .option('ks', { type: 'string', describe: 'cut-offs, comma-separated (evaluation.ks)' })
    .option('baselines', { type: 'string', describe: 'baseline kinds, comma-separated, the first one for significance; "none" for none (evaluation.baselines)' })
    .option('runs', { type: 'string', describe: 'folder receiving the run folder (output)' })
    .option('name', { type: 'string', describe: 'run name (name)' })
    .option('run-id', { type: 'string', describe: 'exact run folder name (default: <name>-<UTC time>)' });
}

/** The flags of `genrec align`: `alignModel`'s main options (every other one through `--set align.<option>=…`). */
function alignOptions<T>(y: Argv<T>): Argv<T> {
  return runOptions(y)
    .option('seed', { type: 'number', describe: 'seed of user sampling, cuts and batch order (align.seed)' })
    .option('source', { type: 'string', choices: ['self-hard-negatives', 'reward-model', 'explicit-feedback'], describe: 'pair source (align.source)' })
    .option('loss', { type: 'string', choices: ['dpo', 'cdpo', 'ipo', 'sdpo'], describe: 'preference loss (align.loss)' })
    .option('beta', { type: 'number', describe: 'β of the loss (align.beta)' })
    .option('rejected', { type: 'number', describe: 'rejected items per user (align.rejected)' })
    .option('rounds', { type: 'number', describe: 'rounds; each trains against the previous round’s model (align.rounds)' })
    .option('user-share', { type: 'number', describe: 'share of the training users sampled per round (align.userShare)' })
    .option('steps', { type: 'number', describe: 'preference steps per round (align.steps; default one pass over the pairs)' })
    .option('learning-rate', { type: 'number', describe: 'Adam learning rate (align.learningRate)' })
    .option('lambda', { type: 'number', describe: 'λ: weight of the supervised loss in each preference step (align.supervisedWeight)' })
    .option('reward-model', { type: 'string', describe: 'reward-model pairs: the model kind fitted on the training part as the reward (align.rewardModel)' });
}

/** The numbers of a comma-separated flag (`NaN` for a part that is not a number: the schema names it). */
const numberList = (text: string): number[] => text.split(',').map((part) => (part.trim() === '' ? Number.NaN : Number(part)));

/** Flags in the shape of the configuration. */
function configFlags(args: Args): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  const put = (name: string, path: string, value: (raw: unknown) => unknown = (raw) => raw): void => {
    if (args[name] !== undefined) setPath(flags, path, value(args[name]));
  };
  put('data', 'data.path');
  put('catalog', 'data.catalog');
  put('format', 'data.format');
  if (String(args._[0]) === 'align') put('seed', 'align.seed');
  else put('seed', 'seeds', (raw) => [raw]);
  put('seeds', 'seeds', (raw) => numberList(String(raw)));
  put('threads', 'threads');
  put('ks', 'evaluation.ks', (raw) => numberList(String(raw)));
  put('baselines', 'evaluation.baselines', (raw) => (String(raw) === 'none' ? [] : String(raw).split(',').map((part) => part.trim())));
  put('runs', 'output');
  put('name', 'name');
  put('preset', 'model.preset');
  put('epochs', 'model.options.epochs');
  put('kind', 'ids.kind');
  put('embeddings', 'ids.embeddings');
  put('levels', 'ids.levels');
  put('codebook-size', 'ids.codebookSize');
  put('metric', 'sweep.metric');
  put('source', 'align.source');
  put('loss', 'align.loss');
  put('beta', 'align.beta');
  put('rejected', 'align.rejected');
  put('rounds', 'align.rounds');
  put('user-share', 'align.userShare');
  put('steps', 'align.steps');
  put('learning-rate', 'align.learningRate');
  put('lambda', 'align.supervisedWeight');
  put('reward-model', 'align.rewardModel');
  for (const grid of (args['grid'] as string[] | undefined) ?? []) {
    const { path, value } = parseAssignment(grid);
    const values = typeof value === 'string' ? value.split(',').map((part) => parseAssignment(`x=${part}`).value) : Array.isArray(value) ? value : [value];
    setPath(flags, `sweep.grid.${path}`, values);
  }
  for (const assignment of (args['set'] as string[] | undefined) ?? []) {
    const { path, value } = parseAssignment(assignment);
    setPath(flags, path, value);
  }
  return flags;
}

function buildParser(): Argv {
  return yargs()
    .scriptName('genrec')
    .usage('genrec <command> [options]\n\nThe genrec command line: data, item ids, training, evaluation, reports and reproducible run folders.')
    .strict()
    .exitProcess(false)
    .help()
    .alias('h', 'help')
    .version(version)
    .wrap(110)
    .option('json', { type: 'boolean', default: false, global: true, describe: 'print one JSON document on stdout (nothing else)' })
    .option('progress', { type: 'string', choices: ['auto', 'bars', 'plain', 'none'], default: 'auto', global: true, describe: 'progress on stderr: bars in a terminal, plain lines otherwise' })
    .command('data <action>', 'dataset statistics (stats) or write the split (split --out)', (y) =>
      configOptions(y)
        .positional('action', { type: 'string', choices: ['stats', 'split'] })
        .option('out', { type: 'string', describe: 'split: folder to write' }),
    )
    .command('ids', 'build semantic ids or set ids and print their health', (y) =>
      configOptions(y)
        .option('kind', { type: 'string', choices: ['semantic', 'set'], describe: 'ids.kind' })
        .option('embeddings', { type: 'string', choices: ['auto', 'text', 'collaborative'], describe: 'ids.embeddings' })
        .option('levels', { type: 'number', describe: 'ids.levels' })
        .option('codebook-size', { type: 'number', describe: 'ids.codebookSize' })
        .option('out', { type: 'string', describe: 'save the ids in this folder (use with --set ids.path=…)' }),
    )
    .command('train [model]', 'train a model, evaluate it against the baselines, write a run folder', (y) =>
      runOptions(y)
        .positional('model', { type: 'string', describe: 'model kind (genrec models lists them); default: the config’s model.kind' })
        .option('preset', { type: 'string', describe: 'a named configuration of the model (model.preset)' })
        .option('epochs', { type: 'number', describe: 'model.options.epochs' }),
    )
    .command('evaluate <model>', 'evaluate a saved model folder (or a run folder) against the baselines', (y) =>
      runOptions(y).positional('model', { type: 'string', describe: 'a model folder, or a run folder (its models; its data unless --data/--config)' }),
    )
    .command('recommend <model>', 'top-k items of a saved model for histories or users', (y) =>
      configOptions(y)
        .positional('model', { type: 'string', describe: 'a model folder, or a run folder' })
        .option('history', { type: 'string', array: true, describe: 'item ids of one history, comma-separated (repeatable)' })
        .option('user', { type: 'string', array: true, describe: 'a user of the data (repeatable)' })
        .option('k', { type: 'number', default: 10, describe: 'items per user' })
        .option('include-history', { type: 'boolean', default: false, describe: 'allow items of the history' }),
    )
    .command('report <runs..>', 'one self-contained HTML report over run folders', (y) =>
      y
        .positional('runs', { type: 'string', array: true, describe: 'run folders, or folders of run folders' })
        .option('out', { type: 'string', default: 'report.html', describe: 'the HTML file' })
        .option('title', { type: 'string', describe: 'report title' })
        .option('ids', { type: 'string', array: true, describe: 'an ids folder (genrec ids --out) whose health the report shows (repeatable)' }),
    )
    .command('reproduce <run>', 'rerun a finished run and say whether every number matches', (y) =>
      y.positional('run', { type: 'string', describe: 'a run folder' }).option('runs', { type: 'string', describe: 'folder receiving the rerun (default: beside the run)' }),
    )
    .command('sweep [model]', 'a small grid of options chosen on validation, then trained and tested', (y) =>
      runOptions(y)
        .positional('model', { type: 'string' })
        .option('preset', { type: 'string', describe: 'model.preset' })
        .option('epochs', { type: 'number', describe: 'model.options.epochs' })
        .option('grid', { type: 'string', array: true, describe: 'option=v1,v2 (repeatable): the grid (sweep.grid)' })
        .option('metric', { type: 'string', describe: 'validation metric that chooses (sweep.metric)' }),
    )
    .command('models', 'list the model kinds and their presets')
    .command('align <model>', 'preference alignment (@genrec/dpo) of a saved model folder (or a run folder), evaluated against the un-aligned model and the baselines', (y) =>
      alignOptions(y.positional('model', { type: 'string', describe: 'a model folder, or a run folder (its models; its data unless --data/--config)' })),
    )
    .command('serve [model]', 'serve a saved model over HTTP (@genrec/serve) until Ctrl-C or SIGTERM; SIGHUP reloads it', (y) =>
      serveFlagOptions(y.positional('model', { type: 'string', describe: 'a model folder, or a run folder (its first seed’s model); or --model-dir / GENREC_SERVE_MODEL_DIR' })).epilogue(
        'Every flag also reads GENREC_SERVE_<NAME> (defaults < environment < flags). Logs: JSON lines on stderr. Exit 0 after a graceful shutdown; 2 a bad flag, variable or address; 4 a model folder missing or not loadable.',
      ),
    )
    .demandCommand(1, 'name a command (genrec --help lists them)')
    .epilogue(
      `Exit codes: 0 ok; 1 internal error; 2 usage or configuration; 3 input data; 4 artifact (run or model folder); 5 reproduce mismatch; 130 interrupted (Ctrl-C). serve exits 0 after a graceful shutdown (Ctrl-C or SIGTERM).`,
    )
    .fail((message, error) => {
      throw error ?? new CliError(EXIT_CODES.usage, 'INVALID_OPTION', message.replace(/\s*\n\s*/g, '; '));
    });
}

/** Makes the path options of the configured model (its entry's `pathOptions`) absolute, against the working directory. */
function resolveModelPaths(config: GenrecConfig, registry: ModelRegistry, cwd: string, file: string | undefined, flags: Record<string, unknown>): GenrecConfig {
  const entry = Object.hasOwn(registry, config.model.kind) ? registry[config.model.kind] : undefined;
  const flagOptions = ((flags['model'] as Record<string, unknown> | undefined)?.['options'] ?? {}) as Record<string, unknown>;
  for (const key of entry?.pathOptions ?? []) {
    const value = config.model.options[key];
    // set by a flag: relative to the working directory; in the config file: to the file's folder
    const base = flagOptions[key] !== undefined || file === undefined ? cwd : dirname(resolve(cwd, file));
    if (typeof value === 'string' && value !== '') config.model.options[key] = resolve(base, value);
  }
  return config;
}

/** The configuration of a command: defaults < (a run folder's for `evaluate`, `recommend`, `align <run>`) < config file < flags. */
function commandConfig(command: string, args: Args, io: CliIo, registry: ModelRegistry): GenrecConfig {
  const flags = configFlags(args);
  if (command === 'train' || command === 'sweep') {
    if (typeof args['model'] === 'string') setPath(flags, 'model.kind', args['model']);
  }
  const file = typeof args['config'] === 'string' ? args['config'] : undefined;
  if (command === 'evaluate' || command === 'recommend' || command === 'align') {
    // a run folder brings its data and evaluation sections, unless a config file or --data is given
    const target = resolve(io.cwd, String(args['model']));
    if (existsSync(join(target, RUN_FILES.record)) && file === undefined && args['data'] === undefined) {
      const stored = readRunFolder(target);
      return resolveConfig({ base: { data: stored.config.data, evaluation: stored.config.evaluation, threads: stored.config.threads }, flags, cwd: io.cwd });
    }
  }
  return resolveModelPaths(resolveConfig({ ...(file === undefined ? {} : { file }), flags, cwd: io.cwd }), registry, io.cwd, file, flags);
}

function errorLine(error: unknown, debug: boolean): string {
  if (GenrecError.isInstance(error)) return error.message.replace(/\s*\n\s*/g, '; ');
  const message = error instanceof Error ? error.message : String(error);
  if (debug && error instanceof Error && error.stack) return `internal error: ${error.stack}`;
  return `internal error: ${message.replace(/\s*\n\s*/g, '; ')} (a bug in genrec; GENREC_DEBUG=1 prints its stack trace)`;
}

function errorJson(command: string, error: unknown, exitCode: ExitCode): unknown {
  const genrec = GenrecError.isInstance(error) ? error : undefined;
  return {
    ok: false,
    command,
    exitCode,
    error: {
      code: genrec?.code ?? 'INTERNAL',
      message: error instanceof Error ? error.message : String(error),
      ...(genrec?.details.field === undefined ? {} : { field: genrec.details.field }),
      ...(genrec?.details.file === undefined ? {} : { file: genrec.details.file }),
      ...(genrec?.details.line === undefined ? {} : { line: genrec.details.line }),
    },
  };
}

/**
 * Runs one `genrec` command line in this process and returns its exit code (the `genrec` binary
 * is this plus SIGINT wiring). Results go to `io.stdout` (a table, or one JSON document with
 * `--json`), progress and messages to `io.stderr`; an error is one line on stderr (and a JSON
 * document with `--json`), never a stack trace unless `GENREC_DEBUG=1` and it is a bug.
 *
 * @param argv - the arguments after `genrec`
 * @param options - streams, extra model kinds, the abort signal
 * @returns the exit code ({@link EXIT_CODES})
 * @example
 * ```ts
 * const code = await runCli(['data', 'stats', '--json']); // prints the synthetic default's statistics as JSON
 * ```
 */
export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<ExitCode> {
  const io: CliIo = {
    stdout: options.io?.stdout ?? process.stdout,
    stderr: options.io?.stderr ?? process.stderr,
    stdoutIsTTY: options.io?.stdoutIsTTY ?? process.stdout.isTTY === true,
    cwd: options.io?.cwd ?? process.cwd(),
    env: options.io?.env ?? process.env,
  };
  const json = argv.includes('--json');
  let command = String(argv.find((arg) => !arg.startsWith('-')) ?? '');
  const first = argv[0];
  if (first !== undefined && !first.startsWith('-') && !COMMANDS.includes(first)) {
    io.stderr.write(`genrec: error: unknown command "${first}" (commands: ${COMMANDS.join(', ')}; genrec --help)\n`);
    if (json) io.stdout.write(JSON.stringify(errorJson('', new CliError(EXIT_CODES.usage, 'INVALID_OPTION', `unknown command "${first}"`), EXIT_CODES.usage)) + '\n');
    return EXIT_CODES.usage;
  }
  let parsed: Args;
  let help = '';
  try {
    parsed = (await buildParser().parseAsync([...argv], {}, (_error: unknown, _args: unknown, output: string) => {
      help = output;
    })) as Args;
  } catch (error) {
    const exitCode = exitCodeOf(error) === EXIT_CODES.internal ? EXIT_CODES.usage : exitCodeOf(error);
    const line = GenrecError.isInstance(error) || !(error instanceof Error) ? errorLine(error, false) : error.message.replace(/\s*\n\s*/g, '; ');
    io.stderr.write(`genrec${command ? ` ${command}` : ''}: error: ${line} (genrec --help)\n`);
    if (json) io.stdout.write(JSON.stringify(errorJson(command, error, exitCode)) + '\n');
    return exitCode;
  }
  if (help !== '') {
    io.stdout.write(help.endsWith('\n') ? help : `${help}\n`);
    return EXIT_CODES.ok;
  }
  command = String(parsed._[0] ?? '');
  const display = createProgressDisplay({ mode: (parsed['progress'] as 'auto' | ProgressMode | undefined) ?? 'auto', stream: io.stderr, stdoutIsTTY: io.stdoutIsTTY });
  const context: CommandContext = {
    io,
    registry: createModelRegistry(options.models ?? []),
    display,
    json,
    signal: options.signal ?? new AbortController().signal,
    argv: [...argv],
  };
  let outcome: CommandOutcome;
  const label = command === 'data' ? `data ${String(parsed['action'])}` : command;
  try {
    outcome = await dispatch(command, parsed, context);
  } catch (error) {
    display.close();
    const exitCode = context.signal.aborted && !GenrecError.isInstance(error) ? EXIT_CODES.interrupted : exitCodeOf(error);
    io.stderr.write(`genrec ${label}: error: ${errorLine(error, io.env['GENREC_DEBUG'] === '1')}\n`);
    if (json) io.stdout.write(JSON.stringify(errorJson(label, error, exitCode)) + '\n');
    return exitCode;
  }
  display.close();
  if (outcome.error !== undefined) io.stderr.write(`genrec ${label}: ${outcome.exitCode === EXIT_CODES.ok ? '' : 'error: '}${outcome.error}\n`);
  if (json) io.stdout.write(JSON.stringify(outcome.json ?? { ok: outcome.exitCode === EXIT_CODES.ok, command: label }, null, 2) + '\n');
  else if (outcome.text !== undefined && outcome.text !== '') io.stdout.write(outcome.text);
  return outcome.exitCode;
}

async function dispatch(command: string, args: Args, context: CommandContext): Promise<CommandOutcome> {
  if (command === 'models') return modelsCommand(context);
  if (command === 'report') {
    return reportCommand(context, {
      runs: (args['runs'] as string[]).map(String),
      out: String(args['out']),
      ...(typeof args['title'] === 'string' ? { title: args['title'] } : {}),
      ...(Array.isArray(args['ids']) ? { ids: (args['ids'] as unknown[]).map(String) } : {}),
    });
  }
  if (command === 'serve') return serveCommand(context, { model: typeof args['model'] === 'string' ? args['model'] : undefined, args });
  if (command === 'reproduce') return reproduceCommand(context, { run: resolve(context.io.cwd, String(args['run'])), ...(typeof args['runs'] === 'string' ? { output: resolve(context.io.cwd, args['runs']) } : {}) });
  if (!(CONFIG_COMMANDS as readonly string[]).includes(command)) throw new CliError(EXIT_CODES.usage, 'INVALID_OPTION', `unknown command ${command} (genrec --help lists them)`);
  const config = commandConfig(command, args, context.io, context.registry);
  const runId = typeof args['run-id'] === 'string' ? { runId: args['run-id'] } : {};
  const out = typeof args['out'] === 'string' ? { out: args['out'] } : {};
  switch (command) {
    case 'data':
      return dataCommand(args['action'] as 'stats' | 'split', config, context, out);
    case 'ids':
      return idsCommand(config, context, out);
    case 'train':
      return trainCommand(config, context, runId);
    case 'sweep':
      return sweepCommand(config, context, runId);
    case 'evaluate':
      return evaluateCommand(config, context, { model: resolve(context.io.cwd, String(args['model'])), ...runId });
    case 'align':
      return alignCommand(config, context, { model: resolve(context.io.cwd, String(args['model'])), ...runId });
    default:
      return recommendCommand(config, context, {
        model: resolve(context.io.cwd, String(args['model'])),
        histories: ((args['history'] as string[] | undefined) ?? []).map(String),
        users: ((args['user'] as string[] | undefined) ?? []).map(String),
        k: args['k'] as number,
        includeHistory: args['include-history'] === true,
      });
  }
}
