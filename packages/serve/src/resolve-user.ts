import { HttpError, type UnknownItem } from './http-error.js';
import type { ModelSlot } from './model-slot.js';
import type { UnknownItemsPolicy } from './options.js';

/** The user fields of a request body (already checked against the route schema). */
export interface UserFields {
  history?: number[];
  externalHistory?: string[];
  exclude?: number[];
  externalExclude?: string[];
}

/** A warning in an answer (unknown ids dropped under the `drop` policy). */
export interface AnswerWarning {
  code: 'UNKNOWN_ITEMS_DROPPED';
  message: string;
  unknownItems: UnknownItem[];
}

/** A user mapped to internal ids. */
export interface ResolvedUser {
  history: Int32Array;
  exclude: Int32Array | undefined;
  /** Unknown ids left out (policy `drop`). */
  dropped: UnknownItem[];
}

/** Most unknown items listed in an error or warning. */
export const LISTED_UNKNOWN_ITEMS = 20;

function describeUnknown(item: UnknownItem): string {
  return `${item.field}/${item.index} = ${item.externalId !== undefined ? JSON.stringify(item.externalId) : item.id}`;
}

/**
 * Maps a user's `history` / `externalHistory` / `exclude` / `externalExclude` to internal ids of
 * the slot's model, applying the unknown-items policy: `reject` throws `UNKNOWN_ITEMS` (422)
 * naming the first unknown ids and their positions; `drop` leaves them out and returns them.
 *
 * @param fields - the user's fields (the route schema has checked types and lengths).
 * @param slot - the model they are checked against.
 * @param policy - what to do with unknown ids.
 * @param pointer - JSON pointer of the user in the body (`''`, or `/users/3`).
 * @throws HttpError `UNKNOWN_ITEMS` (policy `reject`), `NO_EXTERNAL_IDS` for external ids given to a folder without them.
 */
export function resolveUser(fields: UserFields, slot: ModelSlot, policy: UnknownItemsPolicy, pointer: string): ResolvedUser {
  const unknown: UnknownItem[] = [];
  const itemCount = slot.model.itemCount;
  const internal = (ids: readonly number[] | undefined, field: string): number[] => {
    const out: number[] = [];
    if (ids === undefined) return out;
    ids.forEach((id, index) => {
      if (id <= itemCount) out.push(id);
      else unknown.push({ field: `${pointer}/${field}`, index, id });
    });
    return out;
  };
  const external = (ids: readonly string[] | undefined, field: string): number[] => {
    const out: number[] = [];
    if (ids === undefined) return out;
    const index = slot.externalIndex;
    if (index === undefined) {
      throw new HttpError('NO_EXTERNAL_IDS', `${pointer}/${field}: this model folder (${slot.info.kind} ${slot.info.version}) has no external item ids; send internal ids in ${field === 'externalHistory' ? 'history' : 'exclude'}`, {
        field: `${pointer}/${field}`,
      });
    }
    ids.forEach((externalId, position) => {
      const id = index.get(externalId);
      if (id !== undefined) out.push(id);
      else unknown.push({ field: `${pointer}/${field}`, index: position, externalId });
    });
    return out;
  };
  const history = [...internal(fields.history, 'history'), ...external(fields.externalHistory, 'externalHistory')];
  const excluded = [...internal(fields.exclude, 'exclude'), ...external(fields.externalExclude, 'externalExclude')];
  if (unknown.length > 0 && policy === 'reject') {
    const listed = unknown.slice(0, LISTED_UNKNOWN_ITEMS);
    throw new HttpError(
      'UNKNOWN_ITEMS',
      `${unknown.length} item id${unknown.length === 1 ? ' is' : 's are'} not in this model's catalogue (internal ids 1..${itemCount}): ${listed.slice(0, 5).map(describeUnknown).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}; send known ids, or "unknownItems": "drop" to leave them out`,
      { field: `${listed[0]!.field}/${listed[0]!.index}`, unknownItems: listed },
    );
  }
  return {
    history: Int32Array.from(history),
    exclude: excluded.length > 0 ? Int32Array.from(excluded) : undefined,
    dropped: unknown,
  };
}

/** The warning of an answer whose request had unknown ids dropped (undefined when none were). */
export function droppedWarning(dropped: readonly UnknownItem[]): AnswerWarning | undefined {
  if (dropped.length === 0) return undefined;
  const listed = dropped.slice(0, LISTED_UNKNOWN_ITEMS);
  return {
    code: 'UNKNOWN_ITEMS_DROPPED',
    message: `${dropped.length} unknown item id${dropped.length === 1 ? ' was' : 's were'} left out: ${listed.slice(0, 5).map(describeUnknown).join(', ')}${dropped.length > 5 ? ` and ${dropped.length - 5} more` : ''}`,
    unknownItems: listed,
  };
}
