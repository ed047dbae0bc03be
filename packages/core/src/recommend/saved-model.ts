import type { ItemCatalog, ItemRecord } from '../contracts/dataset.js';
import { GenrecError } from '../errors.js';
import type { StoredItem } from './model-folder.js';

/**
 * Re-validates the spec stored in a model folder's manifest with the model's own resolver, so a
 * hand-edited or damaged manifest fails as a corrupt artifact rather than as a bad option.
 *
 * @param saved - the manifest's `spec` field.
 * @param resolve - the model's spec resolver (`resolveSasrecSpec`…), which throws on bad values.
 * @param file - the manifest's path (`details.file`).
 * @returns the resolved spec.
 * @throws GenrecError `CORRUPT_ARTIFACT` (`details.field: 'spec'`, the resolver's error as `cause`):
 * `the saved spec is invalid: <the resolver's message>`.
 * @example
 * ```ts
 * const spec = resolveSavedSpec(manifest.spec, resolveSasrecSpec, join(folder.artifact.directory, MODEL_FILES.manifest));
 * ```
 */
export function resolveSavedSpec<Spec, Saved>(saved: Saved, resolve: (saved: Saved) => Spec, file: string): Spec {
  try {
    return resolve(saved);
  } catch (error) {
    throw new GenrecError('CORRUPT_ARTIFACT', `the saved spec is invalid: ${(error as Error).message}`, { cause: error, details: { file, field: 'spec' } });
  }
}

/**
 * Checks the training summary stored in a model folder's manifest: an object with an integer
 * `epoch` and a `losses` array (the fields every trained model's summary has).
 *
 * @param training - the manifest's `training` field.
 * @param file - the manifest's path (`details.file`).
 * @throws GenrecError `CORRUPT_ARTIFACT` (`details.field: 'training'`) otherwise.
 * @example
 * ```ts
 * checkSavedTraining(manifest.training, source); // passes for { epoch: 3, losses: [...], ... }
 * ```
 */
export function checkSavedTraining(training: unknown, file: string): void {
  const summary = training as { epoch?: unknown; losses?: unknown } | null;
  if (typeof summary !== 'object' || summary === null || !Number.isInteger(summary.epoch) || !Array.isArray(summary.losses)) {
    throw new GenrecError('CORRUPT_ARTIFACT', 'the manifest has no valid training summary', { details: { file, field: 'training' } });
  }
}

/**
 * Turns a model folder's `items.json` entries (index = item id - 1) back into the fields a model
 * keeps: `externalItemIds` (index = item id, `''` where unknown) when any item has an external id,
 * and a titles-only `catalog` when any item has a title.
 *
 * @param items - the stored items (`OpenedModelFolder.readItems()`).
 * @param itemCount - the catalogue size.
 * @returns the fields that are present (spread them into the model's init).
 * @example
 * ```ts
 * storedItemFields([{ externalId: 'a', title: 'A' }, {}], 2);
 * // { externalItemIds: ['', 'a', ''], catalog: { itemCount: 2, records: [, { id: 1, title: 'A', fields: {} }, ,] } }
 * ```
 */
export function storedItemFields(items: readonly (StoredItem | undefined)[], itemCount: number): { externalItemIds?: string[]; catalog?: ItemCatalog } {
  let externalItemIds: string[] | undefined;
  const records: (ItemRecord | undefined)[] = new Array(itemCount + 1);
  let titled = false;
  items.forEach((entry, j) => {
    if (entry?.externalId !== undefined) {
      externalItemIds ??= new Array<string>(itemCount + 1).fill('');
      externalItemIds[j + 1] = entry.externalId;
    }
    if (entry?.title !== undefined) {
      titled = true;
      records[j + 1] = { id: j + 1, title: entry.title, fields: {} };
    }
  });
  return { ...(externalItemIds ? { externalItemIds } : {}), ...(titled ? { catalog: { itemCount, records } } : {}) };
}
