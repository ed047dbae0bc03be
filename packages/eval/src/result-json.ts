import { GenrecError } from '@genrec/core';
import type { EvaluationResult } from './evaluation-result.js';
import type { ExposureResult } from './exposure.js';

/** Options of {@link evaluationResultToJSON}. */
export interface ResultJsonOptions {
  /**
   * Include per-user values (`null` for NaN).
   * @defaultValue false
   */
  perUser?: boolean;
  /**
   * Include per-item exposure arrays (indexed by item id: `itemCount + 1` numbers, entry 0 unused).
   * @defaultValue false
   */
  itemExposure?: boolean;
}

const finiteOrNull = (value: number): number | null => (Number.isFinite(value) ? value : null);

function numbersOrNull(record: Record<string, number> | null): Record<string, number | null> | null {
  if (record === null) return null;
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, finiteOrNull(value)]));
}

/**
 * A plain JSON-ready object of a result, protocol included (typed arrays become number arrays, NaN
 * becomes `null`; `rankings` are left out).
 *
 * @param result - an evaluation result
 * @param options - what large arrays to include
 * @returns an object for `JSON.stringify`
 * @example
 * ```ts
 * writeFileSync('result.json', JSON.stringify(evaluationResultToJSON(result)));
 * ```
 */
export function evaluationResultToJSON(result: EvaluationResult, options: ResultJsonOptions = {}): Record<string, unknown> {
  const exposure = result.exposure;
  return {
    kind: result.kind,
    formatVersion: result.formatVersion,
    system: result.system,
    protocol: result.protocol,
    beyondAccuracyProtocol: result.beyondAccuracyProtocol,
    userCount: result.userCount,
    evaluatedUserCount: result.evaluatedUserCount,
    skippedUserCount: result.skippedUserCount,
    metrics: numbersOrNull(result.metrics),
    beyondAccuracy: numbersOrNull(result.beyondAccuracy),
    decoding: result.decoding,
    exposure:
      exposure === null
        ? null
        : {
            ...exposure,
            eeD: finiteOrNull(exposure.eeD),
            eeR: finiteOrNull(exposure.eeR),
            eeL: finiteOrNull(exposure.eeL),
            perUser:
              options.perUser && exposure.perUser !== null
                ? Object.fromEntries(Object.entries(exposure.perUser).map(([key, values]) => [key, Array.from(values as Float64Array, finiteOrNull)]))
                : null,
            itemExposure: options.itemExposure ? Array.from(exposure.itemExposure) : null,
            itemTargetExposure: options.itemExposure ? Array.from(exposure.itemTargetExposure) : null,
          },
    perUser:
      options.perUser && result.perUser !== null
        ? Object.fromEntries(Object.entries(result.perUser).map(([key, values]) => [key, Array.from(values, finiteOrNull)]))
        : null,
  };
}

const restoreNumbers = (record: unknown): Record<string, number> | null =>
  record === null || record === undefined
    ? null
    : Object.fromEntries(Object.entries(record as Record<string, number | null>).map(([key, value]) => [key, value ?? Number.NaN]));

const restoreArray = (values: unknown): Float64Array => Float64Array.from(values as (number | null)[], (v) => v ?? Number.NaN);

/**
 * Rebuilds a result from {@link evaluationResultToJSON} output (e.g. `JSON.parse` of a saved file).
 *
 * @param json - the parsed object
 * @returns the result (per-user arrays restored when present; item exposure arrays empty when not saved)
 * @throws GenrecError `FORMAT_VERSION` for another kind or version
 */
export function evaluationResultFromJSON(json: unknown): EvaluationResult {
  const object = json as Record<string, unknown>;
  if (typeof object !== 'object' || object === null || object['kind'] !== 'genrec-evaluation' || object['formatVersion'] !== 1) {
    throw new GenrecError('FORMAT_VERSION', `expected a genrec-evaluation result of format version 1, got kind ${String(object?.['kind'])} version ${String(object?.['formatVersion'])}`);
  }
  const exposureJson = object['exposure'] as Record<string, unknown> | null;
  let exposure: ExposureResult | null = null;
  if (exposureJson !== null && exposureJson !== undefined) {
    const perUser = exposureJson['perUser'] as Record<string, unknown> | null;
    exposure = {
      ...(exposureJson as unknown as ExposureResult),
      eeD: (exposureJson['eeD'] as number | null) ?? Number.NaN,
      eeR: (exposureJson['eeR'] as number | null) ?? Number.NaN,
      eeL: (exposureJson['eeL'] as number | null) ?? Number.NaN,
      perUser: perUser === null ? null : { eeD: restoreArray(perUser['eeD']), eeR: restoreArray(perUser['eeR']), eeL: restoreArray(perUser['eeL']) },
      itemExposure: restoreArray(exposureJson['itemExposure'] ?? []),
      itemTargetExposure: restoreArray(exposureJson['itemTargetExposure'] ?? []),
    };
  }
  const perUserJson = object['perUser'] as Record<string, unknown> | null;
  return {
    kind: 'genrec-evaluation',
    formatVersion: 1,
    system: (object['system'] as string | null) ?? null,
    protocol: object['protocol'] as EvaluationResult['protocol'],
    beyondAccuracyProtocol: (object['beyondAccuracyProtocol'] as EvaluationResult['beyondAccuracyProtocol']) ?? null,
    userCount: object['userCount'] as number,
    evaluatedUserCount: object['evaluatedUserCount'] as number,
    skippedUserCount: object['skippedUserCount'] as number,
    metrics: restoreNumbers(object['metrics']) ?? {},
    beyondAccuracy: restoreNumbers(object['beyondAccuracy']),
    decoding: (object['decoding'] as EvaluationResult['decoding']) ?? null,
    exposure,
    perUser: perUserJson === null || perUserJson === undefined ? null : Object.fromEntries(Object.entries(perUserJson).map(([key, values]) => [key, restoreArray(values)])),
  };
}
