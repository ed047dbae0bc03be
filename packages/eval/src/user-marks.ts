import { GenrecError } from '@genrec/core';
import { gainOf } from './accuracy-accumulator.js';
import type { GainForm } from './protocol.js';
import type { UserItemSets } from './item-sets.js';

/**
 * Per-item stamp arrays that mark one user's relevant and history items in O(|set|) without
 * clearing (a stamp equals the current user's tag). Indexed by item id `1 .. itemCount` (slot 0,
 * the padding id, is never marked). Internal to the evaluators.
 */
export class UserMarks {
  /** relevantTag[item] === tag when the item is relevant to the current user. */
  readonly relevantTag: Int32Array;
  /** Gain (NDCG) of the current user's relevant items, valid where relevantTag matches. */
  readonly gain: Float64Array;
  /** historyTag[item] === tag when the item is in the current user's history and not relevant. */
  readonly historyTag: Int32Array;
  /** Gains of the user's relevant items (for the ideal DCG). */
  readonly idealGains: Float64Array;
  /** The masked items of the current user (first `maskedCount` entries). */
  maskedItems: Int32Array;
  relevantCount = 0;
  maskedCount = 0;

  constructor(itemCount: number, maxRelevant: number, maxHistory = 0) {
    this.maskedItems = new Int32Array(Math.max(1, maxHistory));
    this.relevantTag = new Int32Array(itemCount + 1);
    this.gain = new Float64Array(itemCount + 1);
    this.historyTag = new Int32Array(itemCount + 1);
    this.idealGains = new Float64Array(Math.max(1, maxRelevant));
  }

  /**
   * Marks user `u`'s relevant items (grade > 0) and, when `history` is given, the history items to
   * mask. Returns the tag (`u + 1`).
   */
  mark(u: number, relevance: UserItemSets, gainForm: GainForm, history: UserItemSets | undefined): number {
    const tag = u + 1;
    const { offsets, items, grades } = relevance;
    let count = 0;
    for (let i = offsets[u]!; i < offsets[u + 1]!; i++) {
      const item = items[i]!;
      const grade = grades === undefined ? 1 : grades[i]!;
      if (this.relevantTag[item] === tag || this.relevantTag[item] === -tag) {
        throw new GenrecError('INVALID_INPUT', `the relevant items of user ${u} list item ${item} twice`, { details: { field: 'relevance', user: u, item } });
      }
      if (grade > 0) {
        this.relevantTag[item] = tag;
        const gain = gainOf(grade, gainForm);
        this.gain[item] = gain;
        this.idealGains[count++] = gain;
      } else {
        this.relevantTag[item] = -tag; // listed with grade <= 0: not relevant, but seen for the duplicate check
      }
    }
    this.relevantCount = count;
    this.maskedCount = 0;
    if (history !== undefined) {
      for (let i = history.offsets[u]!; i < history.offsets[u + 1]!; i++) {
        const item = history.items[i]!;
        if (this.relevantTag[item] === tag || this.historyTag[item] === tag) continue;
        this.historyTag[item] = tag;
        this.maskedItems[this.maskedCount++] = item;
      }
    }
    return tag;
  }
}

/** Largest number of items any user has in `sets`. */
export function maxSetSize(sets: UserItemSets): number {
  let largest = 0;
  for (let u = 0; u < sets.userCount; u++) largest = Math.max(largest, sets.offsets[u + 1]! - sets.offsets[u]!);
  return largest;
}
