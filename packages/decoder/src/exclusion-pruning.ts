import type { PrefixTrie } from './prefix-trie.js';

/**
 * Per user of a batch, the trie nodes whose leaves are **all** excluded for that user: a
 * constrained search never extends a hypothesis into such a node, at any level, so excluded items
 * (a user's whole history, items sold out for them…) cannot use up beams, and a search with
 * `beamWidth >= resultCount` returns `min(resultCount, items left)` results for every user.
 *
 * Built in time proportional to the excluded items (their paths only, never the whole trie): for
 * each excluded item present in the trie its leaf is blocked, then each ancestor counts its
 * blocked children and is blocked when that count reaches its child count (all its leaves are
 * excluded). Items not in the trie (unknown or removed ids) are ignored. Checking a node is one
 * byte read, plus a set lookup for nodes that some user of the batch blocks.
 *
 * The trie must not change while a pruner built on it is in use.
 *
 * @example
 * ```ts
 * const pruner = new ExclusionPruner(trie, [new Set([3, 7]), undefined]);
 * pruner.isBlocked(0, trie.leafOf(3)); // true
 * pruner.isBlocked(1, trie.leafOf(3)); // false: user 1 excludes nothing
 * pruner.excludedLeaves(0);            // 2 (when both items are in the trie)
 * ```
 */
export class ExclusionPruner {
  /** Per user: the blocked nodes, or undefined when the user blocks none. */
  readonly #blocked: (Set<number> | undefined)[];
  /** Per node id: 1 when some user of the batch blocks it (a cheap pre-check before the set lookup). */
  readonly #anyBlocked: Uint8Array;
  /** Per user: the number of excluded items present in the trie. */
  readonly #excludedLeaves: Int32Array;

  /**
   * @param trie - the catalogue's trie (read only)
   * @param exclude - per user, the excluded item ids (`undefined`: none)
   */
  constructor(trie: PrefixTrie, exclude: ReadonlyArray<ReadonlySet<number> | ArrayLike<number> | undefined>) {
    this.#blocked = new Array<Set<number> | undefined>(exclude.length);
    this.#anyBlocked = new Uint8Array(trie.nodeIdLimit);
    this.#excludedLeaves = new Int32Array(exclude.length);
    const childCount = trie.childCountArray;
    const levels = trie.levels;
    const path = new Int32Array(levels + 1);
    const blockedChildren = new Map<number, number>();
    for (let user = 0; user < exclude.length; user++) {
      const entry = exclude[user];
      if (entry === undefined) continue;
      const items: Iterable<number> = entry instanceof Set ? entry : Array.from(entry as ArrayLike<number>);
      let blocked: Set<number> | undefined;
      blockedChildren.clear();
      let leaves = 0;
      for (const item of items) {
        const leaf = trie.leafOf(item);
        if (leaf < 0 || blocked?.has(leaf)) continue; // not in the trie, or listed twice
        const tokens = trie.tokensOf(item)!;
        path[0] = trie.root;
        for (let level = 0; level < levels; level++) path[level + 1] = trie.child(path[level]!, tokens[level]!);
        blocked ??= new Set<number>();
        blocked.add(leaf);
        this.#anyBlocked[leaf] = 1;
        leaves++;
        // walk up while every child of the ancestor is blocked
        for (let level = levels - 1; level >= 0; level--) {
          const node = path[level]!;
          const count = (blockedChildren.get(node) ?? 0) + 1;
          blockedChildren.set(node, count);
          if (count < childCount[node]!) break;
          blocked.add(node);
          this.#anyBlocked[node] = 1;
        }
      }
      this.#blocked[user] = blocked;
      this.#excludedLeaves[user] = leaves;
    }
  }

  /** Users the pruner was built for. */
  get users(): number {
    return this.#blocked.length;
  }

  /**
   * Whether every leaf under `node` is excluded for `user` (then the node must not be extended).
   *
   * @param user - the user's index in the batch the pruner was built for
   * @param node - a node id of the trie
   * @returns true when the node is blocked for the user
   */
  isBlocked(user: number, node: number): boolean {
    return this.#anyBlocked[node] === 1 && this.#blocked[user]?.has(node) === true;
  }

  /**
   * The number of distinct excluded items of `user` that are in the trie: the user can receive
   * `trie.itemCount - excludedLeaves(user)` items.
   *
   * @param user - the user's index in the batch
   * @returns a count
   */
  excludedLeaves(user: number): number {
    return this.#excludedLeaves[user]!;
  }
}
