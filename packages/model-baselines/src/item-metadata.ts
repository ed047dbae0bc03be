import type { FitData, ItemCatalog, ItemRecord, StoredItem } from '@genrec/core';

/**
 * What a model folder keeps about items besides the model (`items.json`): external ids and titles,
 * so a service can answer with them. Kept by every baseline so that a loaded model saves the same
 * catalogue again.
 */
export interface ItemMetadata {
  /** External item ids by item id (index 0 unused). */
  externalItemIds?: readonly string[];
  /** The catalogue (only titles are stored). */
  catalog?: ItemCatalog;
}

/** The item metadata of training data: `train.externalItemIds` and `catalog`, when given. */
export function itemMetadataOf(data: FitData): ItemMetadata {
  const metadata: ItemMetadata = {};
  if (data.train.externalItemIds !== undefined) metadata.externalItemIds = data.train.externalItemIds;
  if (data.catalog !== undefined) metadata.catalog = data.catalog;
  return metadata;
}

/** Rebuilds {@link ItemMetadata} from a loaded `items.json` (index = item id - 1). */
export function itemMetadataFromStored(items: readonly StoredItem[]): ItemMetadata {
  const itemCount = items.length;
  let externalItemIds: string[] | undefined;
  let records: (ItemRecord | undefined)[] | undefined;
  for (let id = 1; id <= itemCount; id++) {
    const item = items[id - 1];
    if (typeof item?.externalId === 'string') {
      externalItemIds ??= new Array<string>(itemCount + 1);
      externalItemIds[id] = item.externalId;
    }
    if (typeof item?.title === 'string') {
      records ??= new Array<ItemRecord | undefined>(itemCount + 1);
      records[id] = { id, title: item.title, fields: {} };
    }
  }
  const metadata: ItemMetadata = {};
  if (externalItemIds !== undefined) metadata.externalItemIds = externalItemIds;
  if (records !== undefined) metadata.catalog = { itemCount, records };
  return metadata;
}
