import { GenrecError } from '@genrec/core';

/**
 * The type of one configuration field. A small schema language, enough for genrec's config: each
 * mismatch is reported with the field's dotted path.
 */
export type FieldSpec =
  | { type: 'string'; enum?: readonly string[]; nonEmpty?: boolean }
  | { type: 'integer'; min?: number; max?: number }
  /** `minExclusive`: the value must be above `min`, not equal to it. */
  | { type: 'number'; min?: number; max?: number; minExclusive?: boolean }
  | { type: 'boolean' }
  | { type: 'null' }
  | { type: 'array'; items: FieldSpec; minItems?: number }
  /** An object with known fields (any other key is an error), or with any key when `values` is given. */
  | { type: 'object'; fields?: Readonly<Record<string, FieldSpec>>; values?: FieldSpec }
  /** The value matches one of the specs (tried in order). */
  | { type: 'either'; options: readonly FieldSpec[] }
  /** Anything (checked elsewhere). */
  | { type: 'any' };

/** Where a validated value came from, for messages (`the config file x.json`, `--set`). */
export interface ValidationSource {
  /** The config file, when the value comes from one. */
  file?: string;
  /** Where else the value came from, shown after the field (`set on the command line`). */
  origin?: string;
}

const describeType = (spec: FieldSpec): string => {
  switch (spec.type) {
    case 'string':
      return spec.enum ? `one of ${spec.enum.map((value) => JSON.stringify(value)).join(', ')}` : 'a string';
    case 'integer':
      return spec.min !== undefined && spec.max !== undefined ? `an integer in [${spec.min}, ${spec.max}]` : spec.min !== undefined ? `an integer >= ${spec.min}` : 'an integer';
    case 'number': {
      const low = spec.minExclusive === true ? '(' : '[';
      if (spec.min !== undefined && spec.max !== undefined) return `a number in ${low}${spec.min}, ${spec.max}]`;
      return spec.min !== undefined ? `a number ${spec.minExclusive === true ? '>' : '>='} ${spec.min}` : 'a number';
    }
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'array':
      return `a list, each entry ${describeType(spec.items)}`;
    case 'object':
      return 'an object';
    case 'either':
      return spec.options.map(describeType).join(' or ');
    case 'any':
      return 'any value';
  }
};

/**
 * A short description of a found value for messages: `"64" (a string)`, `NaN`, `an object`.
 *
 * @example
 * ```ts
 * describeValue('64'); // '"64" (a string)'
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)} (a string)`;
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN (not a number)' : String(value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function fail(path: string, message: string, source: ValidationSource): never {
  const where = `${path === '' ? 'the config' : `config field ${path}`}${source.origin === undefined ? '' : ` (${source.origin})`}`;
  // the field is in the message already: details.file only, so the message does not repeat it
  const error = new GenrecError('INVALID_OPTION', `${where}: ${message}`, source.file === undefined ? {} : { details: { file: source.file } });
  error.details.field = path;
  throw error;
}

function matches(value: unknown, spec: FieldSpec): boolean {
  try {
    validateField(value, spec, 'x', { origin: 'probe' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks `value` against `spec`, recursively.
 *
 * @param value - the value (parsed JSON, or a flag)
 * @param spec - its expected type
 * @param path - the dotted path of the field (`model.options.hiddenSize`), used in messages
 * @param source - where the value came from (the config file is named in `details.file`)
 * @throws GenrecError `INVALID_OPTION` naming the field: an unknown field (with the known ones), a
 * wrong type (expected and found), a number out of range, a value not in the allowed list
 * @example
 * ```ts
 * validateField({ epochs: '3' }, { type: 'object', fields: { epochs: { type: 'integer' } } }, 'model.options', {});
 * // throws: config field model.options.epochs: expected an integer, found "3" (a string)
 * ```
 */
export function validateField(value: unknown, spec: FieldSpec, path: string, source: ValidationSource): void {
  const wrongType = (): never => fail(path, `expected ${describeType(spec)}, found ${describeValue(value)}`, source);
  switch (spec.type) {
    case 'any':
      return;
    case 'null':
      if (value !== null) wrongType();
      return;
    case 'boolean':
      if (typeof value !== 'boolean') wrongType();
      return;
    case 'string':
      if (typeof value !== 'string') wrongType();
      if (spec.nonEmpty && value === '') fail(path, 'expected a non-empty string', source);
      if (spec.enum && !spec.enum.includes(value as string)) wrongType();
      return;
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) wrongType();
      if (spec.type === 'integer' && !Number.isSafeInteger(value)) wrongType();
      const number = value as number;
      const belowMinimum = spec.min !== undefined && (number < spec.min || (spec.type === 'number' && spec.minExclusive === true && number === spec.min));
      if (belowMinimum || (spec.max !== undefined && number > spec.max)) wrongType();
      return;
    }
    case 'array': {
      if (!Array.isArray(value)) wrongType();
      const list = value as unknown[];
      if (spec.minItems !== undefined && list.length < spec.minItems) fail(path, `expected at least ${spec.minItems} entr${spec.minItems === 1 ? 'y' : 'ies'}, found ${list.length}`, source);
      list.forEach((item, index) => validateField(item, spec.items, `${path}[${index}]`, source));
      return;
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) wrongType();
      const record = value as Record<string, unknown>;
      for (const [key, item] of Object.entries(record)) {
        const child = path === '' ? key : `${path}.${key}`;
        const field = spec.fields !== undefined && Object.hasOwn(spec.fields, key) ? spec.fields[key] : spec.values;
        if (field === undefined) {
          const known = Object.keys(spec.fields ?? {});
          fail(child, `unknown field${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`, source);
        }
        validateField(item, field, child, source);
      }
      return;
    }
    case 'either':
      if (!spec.options.some((option) => matches(value, option))) {
        // the message of the closest option: the object option when the value is an object
        const closest = spec.options.find((option) => option.type === 'object' && typeof value === 'object' && value !== null && !Array.isArray(value));
        if (closest) validateField(value, closest, path, source);
        wrongType();
      }
      return;
  }
}
