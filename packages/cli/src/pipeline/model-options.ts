import { GenrecError } from '@genrec/core';
import type { ModelConfig } from '../config/config.js';
import { validateField } from '../config/schema.js';
import { modelEntry, type ModelEntry, type ModelRegistry } from '../models/registry.js';

/**
 * An `INVALID_OPTION` error of a model package (naming its option `hiddenSize`) restated for the
 * config (`model.options.hiddenSize`); other errors are returned as they are.
 * @example
 * ```ts
 * throw inModelOptions(error, 'sasrec'); // 'config field model.options.dropout (sasrec): …'
 * ```
 */
export function inModelOptions(error: unknown, kind: string): unknown {
  if (!GenrecError.isInstance(error) || error.code !== 'INVALID_OPTION') return error;
  const field = typeof error.details.field === 'string' ? error.details.field : undefined;
  if (field === undefined || field.startsWith('model.')) return error;
  const path = `model.options.${field}`;
  const message = error.message.replace(/ \(field "[^"]*"\)$/, '');
  const restated = new GenrecError('INVALID_OPTION', `config field ${path} (${kind}): ${message}`, { cause: error });
  restated.details.field = path;
  return restated;
}

/**
 * The model entry of a configuration and its options: the preset (`model.preset`), then
 * `model.options`; every option's name and type is checked against the entry, then its ranges
 * (`entry.check`), before any data is read.
 *
 * @returns the entry and the merged options
 * @throws GenrecError `INVALID_OPTION` naming the field: unknown kind (with the known ones), unknown preset, unknown option, wrong type, out of range
 * @example
 * ```ts
 * resolveModel(MODEL_REGISTRY, { kind: 'sasrec', preset: 'quickstart', options: { epochs: 3 } }).options.epochs; // 3
 * ```
 */
export function resolveModel(registry: ModelRegistry, model: ModelConfig): { entry: ModelEntry; options: Record<string, unknown> } {
  const entry = modelEntry(registry, model.kind);
  let preset: Readonly<Record<string, unknown>> = {};
  if (model.preset !== null) {
    const found = Object.hasOwn(entry.presets, model.preset) ? entry.presets[model.preset] : undefined;
    if (found === undefined) {
      const known = Object.keys(entry.presets);
      const error = new GenrecError('INVALID_OPTION', `config field model.preset: "${model.preset}" is not a preset of ${entry.kind} (${known.length > 0 ? `known: ${known.join(', ')}` : 'it has none'})`);
      error.details.field = 'model.preset';
      throw error;
    }
    preset = found;
  }
  validateField(model.options, { type: 'object', fields: entry.options }, 'model.options', {});
  const options = { ...preset, ...model.options };
  try {
    entry.check?.(options);
  } catch (error) {
    throw inModelOptions(error, entry.kind);
  }
  return { entry, options };
}

/**
 * Checks the baselines of the `evaluation` section: known kinds, each once.
 *
 * @throws GenrecError `INVALID_OPTION` naming `evaluation.baselines`
 * @example
 * ```ts
 * checkBaselines(MODEL_REGISTRY, ['popularity', 'markov']);
 * ```
 */
export function checkBaselines(registry: ModelRegistry, baselines: readonly string[]): void {
  baselines.forEach((kind, index) => modelEntry(registry, kind, `evaluation.baselines[${index}]`));
  if (new Set(baselines).size !== baselines.length) {
    const error = new GenrecError('INVALID_OPTION', `config field evaluation.baselines: each kind once, found ${JSON.stringify(baselines)}`);
    error.details.field = 'evaluation.baselines';
    throw error;
  }
}
