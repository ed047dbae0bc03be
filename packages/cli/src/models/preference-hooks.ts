import { GenrecError, type Recommender } from '@genrec/core';
import type { alignModel } from '@genrec/dpo';
import { sasrecPreferenceModel, setrecPreferenceModel, tigerPreferenceModel } from '@genrec/models';
import type { ModelRegistry } from './registry.js';

/** A model's preference hook (`@genrec/nn`'s `PreferenceModel`): what `@genrec/dpo`'s `alignModel` trains through. */
export type PreferenceHook = Parameters<typeof alignModel>[1];

/** The preference hook of a fitted model, by kind. */
export type PreferenceHookFactory = (model: Recommender) => PreferenceHook;

/**
 * The preference hooks of the model kinds `@genrec/models` ships (`sasrecPreferenceModel`,
 * `setrecPreferenceModel`, `tigerPreferenceModel`), by kind. The baselines (popularity, Markov,
 * item-kNN) have none: they are counts, not trained weights.
 */
export const PREFERENCE_HOOKS: Readonly<Record<string, PreferenceHookFactory>> = Object.freeze({
  sasrec: (model: Recommender) => sasrecPreferenceModel(model as Parameters<typeof sasrecPreferenceModel>[0]),
  setrec: (model: Recommender) => setrecPreferenceModel(model as Parameters<typeof setrecPreferenceModel>[0]),
  tiger: (model: Recommender) => tigerPreferenceModel(model as Parameters<typeof tigerPreferenceModel>[0]),
});

/**
 * The preference-hook factory of a model kind: the registry entry's own `preferenceModel`, else
 * {@link PREFERENCE_HOOKS}.
 *
 * @param registry - the command's registry
 * @param kind - the model kind (of a saved folder)
 * @returns the factory
 * @throws GenrecError `UNSUPPORTED` (exit 2) for a kind without a preference hook, naming those with one
 * @example
 * ```ts
 * const hook = preferenceHookFactory(createModelRegistry(), 'sasrec')(model);
 * ```
 */
export function preferenceHookFactory(registry: ModelRegistry, kind: string): PreferenceHookFactory {
  const own = Object.hasOwn(registry, kind) ? registry[kind]!.preferenceModel : undefined;
  if (own !== undefined) return own;
  const builtIn = Object.hasOwn(PREFERENCE_HOOKS, kind) ? PREFERENCE_HOOKS[kind] : undefined;
  if (builtIn === undefined) {
    const known = [...new Set([...Object.keys(PREFERENCE_HOOKS), ...Object.values(registry).filter((entry) => entry.preferenceModel !== undefined).map((entry) => entry.kind)])];
    throw new GenrecError('UNSUPPORTED', `a ${kind} model has no preference hook, so it cannot be aligned (kinds with one: ${known.join(', ')})`, { details: { field: 'model' } });
  }
  return builtIn;
}
