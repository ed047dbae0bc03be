import { GenrecError } from './errors.js';

/**
 * The rule every genrec package follows for user options: a value outside what the object supports
 * is rejected with `INVALID_OPTION` naming the option, before anything is allocated or mutated. It
 * is never silently clamped. These helpers implement the rule once.
 */

/**
 * Checks that `value` is an integer in `[minimum, maximum]`.
 *
 * @param field - the option's name, used in the message and in `details.field`
 * @returns the value
 * @throws GenrecError `INVALID_OPTION` naming `field` otherwise (also for NaN, strings, fractions).
 * @example
 * ```ts
 * const epochs = checkIntegerOption(options.epochs ?? 20, 'epochs', 1, 10_000);
 * ```
 */
export function checkIntegerOption(value: unknown, field: string, minimum: number, maximum: number = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum || value > maximum) {
    throw new GenrecError('INVALID_OPTION', `${field} must be an integer in [${minimum}, ${maximum}], got ${describe(value)}`, { details: { field } });
  }
  return value;
}

/**
 * Checks that `value` is a finite number in `[minimum, maximum]` (or the open interval on a side
 * where `exclusive` says so).
 *
 * @throws GenrecError `INVALID_OPTION` naming `field` otherwise (NaN and infinities included).
 * @example
 * ```ts
 * const dropout = checkNumberOption(options.dropout ?? 0.2, 'dropout', 0, 1, { maximumExclusive: true });
 * ```
 */
export function checkNumberOption(
  value: unknown,
  field: string,
  minimum: number = -Number.MAX_VALUE,
  maximum: number = Number.MAX_VALUE,
  bounds: { minimumExclusive?: boolean; maximumExclusive?: boolean } = {},
): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (bounds.minimumExclusive ? value > minimum : value >= minimum) &&
    (bounds.maximumExclusive ? value < maximum : value <= maximum);
  if (!ok) {
    const low = bounds.minimumExclusive ? '(' : '[';
    const high = bounds.maximumExclusive ? ')' : ']';
    throw new GenrecError('INVALID_OPTION', `${field} must be a finite number in ${low}${minimum}, ${maximum}${high}, got ${describe(value)}`, {
      details: { field },
    });
  }
  return value;
}

/**
 * Checks a string option against its allowed values (unknown values are never ignored).
 *
 * @throws GenrecError `INVALID_OPTION` listing the allowed values.
 * @example
 * ```ts
 * const loss = checkEnumOption(options.loss ?? 'ce', 'loss', ['ce', 'bce', 'sampled-softmax']);
 * ```
 */
export function checkEnumOption<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new GenrecError('INVALID_OPTION', `${field} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`, {
      details: { field },
    });
  }
  return value as T;
}

/**
 * Checks a boolean option.
 *
 * @throws GenrecError `INVALID_OPTION` for anything but `true` or `false`.
 */
export function checkBooleanOption(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') {
    throw new GenrecError('INVALID_OPTION', `${field} must be true or false, got ${describe(value)}`, { details: { field } });
  }
  return value;
}

/**
 * Checks a result-size option such as `k` or `beamWidth` against the largest value the object
 * supports (`maxK`). The one rule shared by indexes, decoders and the `Recommender` contract: a
 * value above the maximum is an error, never clamped.
 *
 * @param maxK - the largest value supported (e.g. the catalogue size, or a model's declared `maxK`)
 * @param what - what bounds it, for the message (e.g. `'the catalogue holds 12 items'`)
 * @throws GenrecError `INVALID_OPTION` when `k` is not an integer in `[1, maxK]`.
 * @example
 * ```ts
 * checkResultSize(options.k, 'k', model.maxK, `the model supports at most ${model.maxK} results`);
 * ```
 */
export function checkResultSize(k: unknown, field: string, maxK: number, what?: string): number {
  if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 1 || k > maxK) {
    const reason = what === undefined ? '' : ` (${what})`;
    throw new GenrecError('INVALID_OPTION', `${field} must be an integer in [1, ${maxK}]${reason}, got ${describe(k)}`, { details: { field, maximum: maxK } });
  }
  return k;
}

/**
 * Rejects option names a function does not know (a typo such as `timestampUnit` spelled
 * `timestampUnits` would otherwise be ignored silently).
 *
 * @throws GenrecError `INVALID_OPTION` naming the unknown option and listing the known ones.
 */
export function checkKnownOptions(options: object | undefined, known: readonly string[], where: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new GenrecError('INVALID_OPTION', `${where}: options must be an object, got ${describe(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!known.includes(name) && (options as Record<string, unknown>)[name] !== undefined) {
      throw new GenrecError('INVALID_OPTION', `${where}: unknown option "${name}" (known: ${known.join(', ')})`, { details: { field: name } });
    }
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
