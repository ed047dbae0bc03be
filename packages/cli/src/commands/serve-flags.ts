import type { Argv } from 'yargs';
import { SERVE_OPTIONS, parseServeOption, serveOptionsFromEnv, type EnvServeOptions, type ServeOptionSpec } from '@genrec/serve';

/** Where an option's value came from: its default, a `GENREC_SERVE_*` variable, or a flag. */
export type ServeOptionSource = 'default' | 'env' | 'flag';

/** One option of `genrec serve` as it was resolved: its value and where the value came from. */
export interface ResolvedServeFlag {
  /** The value (undefined only for `modelDir` when neither flag nor variable sets it). */
  value: string | number | boolean | undefined;
  /** `'default'`, `'env'` (the variable named in `SERVE_OPTIONS`) or `'flag'`. */
  source: ServeOptionSource;
}

/** The flag's name as yargs knows it (`max-batch-size` for `--max-batch-size`). */
const flagName = (option: ServeOptionSpec): string => option.flag.replace(/^--/, '');

/** The type and bounds of an option, for its help line (`integer 1..4096`, `one of reject, drop`). */
function describeType(option: ServeOptionSpec): string {
  switch (option.type) {
    case 'integer':
    case 'number':
      return `${option.type} ${option.minimum}..${option.maximum}`;
    case 'enum':
      return `one of ${(option.values ?? []).join(', ')}`;
    default:
      return option.type;
  }
}

/**
 * Adds one flag per entry of `@genrec/serve`'s `SERVE_OPTIONS` (every option of the service, with
 * its description, type, bounds, default and environment variable in the help text). Values stay
 * text here (booleans: yargs booleans, so `--no-batching` works) and are checked by
 * {@link serveFlagValues}, so every bad value gets the same one-line message; no yargs default is
 * set, so an unset flag leaves the environment variable in force.
 *
 * @param y - the `serve` command's yargs builder
 * @returns the builder with the flags
 * @example
 * ```ts
 * yargs().command('serve [model]', 'serve a model', (y) => serveFlagOptions(y));
 * ```
 */
export function serveFlagOptions<T>(y: Argv<T>): Argv<T> {
  let builder = y;
  for (const option of SERVE_OPTIONS) {
    const describe = `${option.description} (${describeType(option)}; env ${option.env})`;
    const defaultDescription = option.defaultValue === undefined ? 'the positional <model>' : String(option.defaultValue);
    builder = builder.option(flagName(option), { type: option.type === 'boolean' ? 'boolean' : 'string', describe, defaultDescription, group: 'Service options:' });
  }
  return builder;
}

/**
 * The options set by `genrec serve`'s flags, parsed and checked with `@genrec/serve`'s
 * `parseServeOption` (a repeated flag: the last one wins).
 *
 * @param args - yargs' parsed arguments
 * @returns the options the flags set (unset flags are left out)
 * @throws GenrecError `INVALID_OPTION` naming the flag, the expected form and the text found
 * @example
 * ```ts
 * serveFlagValues({ 'max-k': '7', port: '0' }); // { maxK: 7, port: 0 }
 * ```
 */
export function serveFlagValues(args: Readonly<Record<string, unknown>>): EnvServeOptions {
  const out: Record<string, string | number | boolean> = {};
  for (const option of SERVE_OPTIONS) {
    let raw = args[flagName(option)];
    if (Array.isArray(raw)) raw = raw.at(-1);
    if (raw === undefined) continue;
    out[option.name] = parseServeOption(option, String(raw), option.flag);
  }
  return out as EnvServeOptions;
}

/**
 * Every option of `genrec serve` with its value and source: defaults < `GENREC_SERVE_*`
 * environment variables < flags.
 *
 * @param env - the environment (the CLI's `io.env`)
 * @param flags - what {@link serveFlagValues} returned
 * @returns option name → value and source, in `SERVE_OPTIONS` order
 * @throws GenrecError `INVALID_OPTION` for a bad or unknown `GENREC_SERVE_*` variable (named)
 * @example
 * ```ts
 * resolveServeFlags({ GENREC_SERVE_MAX_K: '5' }, { maxK: 7 }).maxK; // { value: 7, source: 'flag' }
 * ```
 */
export function resolveServeFlags(env: Readonly<Record<string, string | undefined>>, flags: EnvServeOptions): Record<string, ResolvedServeFlag> {
  const fromEnv = serveOptionsFromEnv(env) as Record<string, string | number | boolean | undefined>;
  const fromFlags = flags as Record<string, string | number | boolean | undefined>;
  const resolved: Record<string, ResolvedServeFlag> = {};
  for (const option of SERVE_OPTIONS) {
    if (fromFlags[option.name] !== undefined) resolved[option.name] = { value: fromFlags[option.name], source: 'flag' };
    else if (fromEnv[option.name] !== undefined) resolved[option.name] = { value: fromEnv[option.name], source: 'env' };
    else resolved[option.name] = { value: option.defaultValue, source: 'default' };
  }
  return resolved;
}
