import { GenrecError, type SemanticIdTable, type TokenLayout } from '@genrec/core';

const INITIAL_NODE_CAPACITY = 64;
const NO_NODE = -1;

/** Options of {@link PrefixTrie.fromTable} and the {@link PrefixTrie} constructor. */
export interface PrefixTrieOptions {
  /**
   * Keep a bitmask of allowed tokens per node (`ceil(vocabularySize / 32)` words each). Costs
   * `nodes x words x 4` bytes (3.5 MB for 12,000 four-token ids over 787 tokens) and makes
   * {@link PrefixTrie.isAllowed} and {@link PrefixTrie.maskOf} O(1).
   * @defaultValue true
   */
  bitmask?: boolean;
}

/**
 * A prefix trie over the catalogue's ordered semantic ids, stored in flat typed arrays.
 *
 * Nodes: `0` is the root (empty prefix); every distinct prefix of length `1..levels` is one node;
 * nodes at depth `levels` are leaves and carry the item id ({@link PrefixTrie.itemAt}). The
 * children of a node are kept as a list sorted by token, in a slice of one shared pool
 * (`childToken[childStart[n] .. childStart[n] + childCount[n])`, with the child node ids in
 * `childNode` at the same positions), and, optionally, as a bitmask over the vocabulary. Tokens
 * follow the {@link TokenLayout}: the child at depth `d` for code `c` is token
 * `levelOffsets[d] + c`.
 *
 * Incremental updates: {@link PrefixTrie.insert} adds an item (a node's child slice is moved to
 * the end of the pool with twice the room when it is full), {@link PrefixTrie.remove} deletes one
 * and prunes the nodes that no longer lead to any item, so every internal node always has at
 * least one child (a constrained search never reaches a dead end). Removed node ids are reused.
 *
 * The raw arrays are exposed for allocation-free hot loops; they may be replaced by a larger
 * copy on insert, so read them again after any update.
 *
 * @example
 * ```ts
 * const layout = createTokenLayout({ levelSizes: [4, 4] }); // tokens 3..6 and 7..10
 * const table = createSemanticIdTable({ itemIds: [10, 11], codes: [0, 1, 0, 2], levels: 2, codebookSizes: [4, 4] });
 * const trie = PrefixTrie.fromTable(table, layout);
 * trie.allowedTokens([]);   // Int32Array [3]
 * trie.allowedTokens([3]);  // Int32Array [8, 9]
 * trie.itemAt(trie.walk([3, 9])); // 11
 * ```
 */
export class PrefixTrie {
  /** The token layout the trie's tokens follow. */
  readonly layout: TokenLayout;
  /** Length of every semantic id (tokens from the root to a leaf). */
  readonly levels: number;
  /** Vocabulary size of the layout (width of the bitmask). */
  readonly vocabularySize: number;
  /** 32-bit words per node in the bitmask (0 when the bitmask is off). */
  readonly maskWords: number;
  /** The root node id. */
  readonly root = 0;

  #depth: Uint8Array;
  #itemOfNode: Int32Array;
  #parentOfNode: Int32Array;
  #tokenOfNode: Int32Array;
  #childStart: Int32Array;
  #childCount: Int32Array;
  #childCapacity: Int32Array;
  #childToken: Int32Array;
  #childNode: Int32Array;
  #mask: Uint32Array;
  #poolUsed = 0;
  #poolGarbage = 0;
  #nodeSlots = 1;
  #liveNodes = 1;
  #freeNodes: number[] = [];
  #leafOfItem = new Map<number, number>();

  /**
   * An empty trie (only the root) for ids of `layout.levelSizes.length` tokens. Fill it with
   * {@link PrefixTrie.insert}, or use {@link PrefixTrie.fromTable}.
   *
   * @throws GenrecError `INVALID_OPTION` when the layout has no level.
   */
  constructor(layout: TokenLayout, options: PrefixTrieOptions = {}) {
    if (layout.levelSizes.length === 0) throw new GenrecError('INVALID_OPTION', 'the token layout has no level', { details: { field: 'layout' } });
    if (layout.levelSizes.length > 255) throw new GenrecError('INVALID_OPTION', `at most 255 levels are supported, got ${layout.levelSizes.length}`, { details: { field: 'layout' } });
    this.layout = layout;
    this.levels = layout.levelSizes.length;
    this.vocabularySize = layout.vocabularySize;
    this.maskWords = options.bitmask === false ? 0 : Math.ceil(layout.vocabularySize / 32);
    const capacity = INITIAL_NODE_CAPACITY;
    this.#depth = new Uint8Array(capacity);
    this.#itemOfNode = new Int32Array(capacity).fill(-1);
    this.#parentOfNode = new Int32Array(capacity).fill(NO_NODE);
    this.#tokenOfNode = new Int32Array(capacity).fill(-1);
    this.#childStart = new Int32Array(capacity);
    this.#childCount = new Int32Array(capacity);
    this.#childCapacity = new Int32Array(capacity);
    this.#childToken = new Int32Array(capacity * 2);
    this.#childNode = new Int32Array(capacity * 2);
    this.#mask = new Uint32Array(capacity * this.maskWords);
  }

  /**
   * Builds the trie of every item of `table`, children sorted by token.
   *
   * @param source - The catalogue's semantic ids: a {@link SemanticIdTable}, or any object holding
   *   one as `.table` (such as `@genrec/semantic-id`'s `SemanticIds`, so `fromTable(semanticIds, …)`
   *   and `fromTable(semanticIds.table, …)` both work). An empty table gives a trie with only the root.
   * @param layout - Maps level codes to tokens; must have `table.levels` levels, each at least as
   *   large as the table's codebook.
   * @throws GenrecError `INVALID_INPUT` when `source` is neither a table nor holds one,
   *   `SHAPE_MISMATCH` when the table's levels do not fit the layout.
   * @example
   * ```ts
   * const trie = PrefixTrie.fromTable(semanticIds, semanticIds.tokenLayout());
   * ```
   */
  static fromTable(source: SemanticIdTable | { readonly table: SemanticIdTable }, layout: TokenLayout, options: PrefixTrieOptions = {}): PrefixTrie {
    const table = semanticIdTableOf(source);
    if (typeof layout !== 'object' || layout === null || !Array.isArray(layout.levelSizes)) {
      throw new GenrecError('INVALID_INPUT', 'PrefixTrie.fromTable needs a token layout (e.g. semanticIds.tokenLayout()) as its second argument', { details: { field: 'layout' } });
    }
    if (table.levels !== layout.levelSizes.length) {
      throw new GenrecError('SHAPE_MISMATCH', `the semantic id table has ${table.levels} levels but the token layout has ${layout.levelSizes.length}`);
    }
    for (let level = 0; level < table.levels; level++) {
      if (table.codebookSizes[level]! > layout.levelSizes[level]!) {
        throw new GenrecError('SHAPE_MISMATCH', `level ${level} has ${table.codebookSizes[level]} codes in the table but ${layout.levelSizes[level]} in the token layout`);
      }
    }
    const trie = new PrefixTrie(layout, options);
    const levels = table.levels;
    // Insert in lexicographic order so that every child list is appended to in sorted order.
    const order = Array.from({ length: table.itemCount }, (_, row) => row);
    const codes = table.codes;
    order.sort((a, b) => {
      for (let level = 0; level < levels; level++) {
        const difference = codes[a * levels + level]! - codes[b * levels + level]!;
        if (difference !== 0) return difference;
      }
      return 0;
    });
    for (const row of order) trie.insert(table.itemIds[row]!, codes.subarray(row * levels, (row + 1) * levels));
    return trie;
  }

  /** Number of items (leaves). */
  get itemCount(): number {
    return this.#leafOfItem.size;
  }

  /** Number of live nodes, root and leaves included. */
  get nodeCount(): number {
    return this.#liveNodes;
  }

  /** One past the largest node id ever used (size of per-node arrays a caller may keep). */
  get nodeIdLimit(): number {
    return this.#nodeSlots;
  }

  /** Raw: start of each node's child slice in {@link PrefixTrie.childTokenPool}. */
  get childStartArray(): Int32Array {
    return this.#childStart;
  }

  /** Raw: number of children of each node. */
  get childCountArray(): Int32Array {
    return this.#childCount;
  }

  /** Raw: the pool of child tokens (sorted ascending inside each node's slice). */
  get childTokenPool(): Int32Array {
    return this.#childToken;
  }

  /** Raw: the pool of child node ids, parallel to {@link PrefixTrie.childTokenPool}. */
  get childNodePool(): Int32Array {
    return this.#childNode;
  }

  /** Raw: the item id of each node (`-1` for internal nodes). */
  get itemOfNodeArray(): Int32Array {
    return this.#itemOfNode;
  }

  /** Raw: the bitmask, `nodeIdLimit x maskWords` words; bit `t % 32` of word `t >> 5` = token `t` allowed. */
  get maskArray(): Uint32Array {
    return this.#mask;
  }

  /** Depth of `node` (0 for the root, `levels` for a leaf). */
  depth(node: number): number {
    this.#checkNode(node);
    return this.#depth[node]!;
  }

  /** The item at a leaf, or `-1` for an internal node. */
  itemAt(node: number): number {
    this.#checkNode(node);
    return this.#itemOfNode[node]!;
  }

  /** True when `node` is a leaf (depth `levels`). */
  isLeaf(node: number): boolean {
    return this.depth(node) === this.levels;
  }

  /** Number of children of `node`. */
  childCount(node: number): number {
    this.#checkNode(node);
    return this.#childCount[node]!;
  }

  /** The allowed next tokens after `node`, ascending (a view into the pool: copy it to keep it). */
  childTokens(node: number): Int32Array {
    this.#checkNode(node);
    const start = this.#childStart[node]!;
    return this.#childToken.subarray(start, start + this.#childCount[node]!);
  }

  /** The child node ids of `node`, parallel to {@link PrefixTrie.childTokens} (a view). */
  childNodes(node: number): Int32Array {
    this.#checkNode(node);
    const start = this.#childStart[node]!;
    return this.#childNode.subarray(start, start + this.#childCount[node]!);
  }

  /** The child of `node` reached by `token`, or `-1`. */
  child(node: number, token: number): number {
    this.#checkNode(node);
    const index = this.#findChild(node, token);
    return index < 0 ? NO_NODE : this.#childNode[index]!;
  }

  /** True when `token` may follow `node`'s prefix (uses the bitmask when present). */
  isAllowed(node: number, token: number): boolean {
    this.#checkNode(node);
    if (!Number.isInteger(token) || token < 0 || token >= this.vocabularySize) return false;
    if (this.maskWords > 0) return ((this.#mask[node * this.maskWords + (token >>> 5)]! >>> (token & 31)) & 1) === 1;
    return this.#findChild(node, token) >= 0;
  }

  /**
   * The bitmask of `node`'s allowed tokens, `maskWords` words (a view).
   *
   * @throws GenrecError `UNSUPPORTED` when the trie was built with `bitmask: false`.
   */
  maskOf(node: number): Uint32Array {
    this.#checkNode(node);
    if (this.maskWords === 0) throw new GenrecError('UNSUPPORTED', 'this trie was built without a bitmask (bitmask: false)');
    return this.#mask.subarray(node * this.maskWords, (node + 1) * this.maskWords);
  }

  /**
   * The node of a token prefix, or `-1` when the prefix is not a prefix of any catalogue id.
   *
   * @throws GenrecError `INVALID_INPUT` when the prefix is longer than the id length.
   */
  walk(prefixTokens: ArrayLike<number>): number {
    if (prefixTokens.length > this.levels) {
      throw new GenrecError('INVALID_INPUT', `prefix of ${prefixTokens.length} tokens is longer than the semantic id length ${this.levels}`, {
        details: { field: 'prefix' },
      });
    }
    let node = this.root;
    for (let i = 0; i < prefixTokens.length; i++) {
      const index = this.#findChild(node, prefixTokens[i]!);
      if (index < 0) return NO_NODE;
      node = this.#childNode[index]!;
    }
    return node;
  }

  /**
   * A copy of the tokens allowed after a token prefix (empty when the prefix leads nowhere or is
   * a complete id).
   *
   * @throws GenrecError `INVALID_INPUT` when the prefix is longer than the id length.
   */
  allowedTokens(prefixTokens: ArrayLike<number>): Int32Array {
    const node = this.walk(prefixTokens);
    return node < 0 ? new Int32Array(0) : this.childTokens(node).slice();
  }

  /** True when `itemId` is in the trie. */
  has(itemId: number): boolean {
    return this.#leafOfItem.has(itemId);
  }

  /** The leaf node of an item, or `-1`. */
  leafOf(itemId: number): number {
    return this.#leafOfItem.get(itemId) ?? NO_NODE;
  }

  /** The token sequence of an item (root to leaf), or undefined. */
  tokensOf(itemId: number): Int32Array | undefined {
    let node = this.#leafOfItem.get(itemId);
    if (node === undefined) return undefined;
    const tokens = new Int32Array(this.levels);
    for (let level = this.levels - 1; level >= 0; level--) {
      tokens[level] = this.#tokenOfNode[node]!;
      node = this.#parentOfNode[node]!;
    }
    return tokens;
  }

  /** The item whose full token sequence is `tokens`, or `-1`. */
  itemOfTokens(tokens: ArrayLike<number>): number {
    if (tokens.length !== this.levels) return -1;
    const node = this.walk(tokens);
    return node < 0 ? -1 : this.#itemOfNode[node]!;
  }

  /** Every item id in the trie (insertion order). */
  itemIds(): Int32Array {
    return Int32Array.from(this.#leafOfItem.keys());
  }

  /**
   * Adds an item with the given level codes (not tokens).
   *
   * @throws GenrecError `DUPLICATE_ID` when the item is present; `INVALID_INPUT` when the id is
   *   not an integer, a code is outside its level or another item already has these codes.
   */
  insert(itemId: number, codes: ArrayLike<number>): void {
    if (!Number.isInteger(itemId)) throw new GenrecError('INVALID_INPUT', `item id must be an integer, got ${itemId}`);
    if (this.#leafOfItem.has(itemId)) throw new GenrecError('DUPLICATE_ID', `item ${itemId} is already in the trie`, { details: { itemId } });
    if (codes.length !== this.levels) {
      throw new GenrecError('SHAPE_MISMATCH', `item ${itemId} has ${codes.length} codes, expected ${this.levels}`, { details: { itemId } });
    }
    for (let level = 0; level < this.levels; level++) {
      const code = codes[level]!;
      if (!Number.isInteger(code) || code < 0 || code >= this.layout.levelSizes[level]!) {
        throw new GenrecError('INVALID_INPUT', `item ${itemId} has code ${code} at level ${level}, outside 0..${this.layout.levelSizes[level]! - 1}`, { details: { itemId } });
      }
    }
    // Check for a taken id before changing anything.
    const existing = this.walk(Array.from(codes, (code, level) => this.layout.levelOffsets[level]! + code));
    if (existing >= 0) {
      throw new GenrecError('INVALID_INPUT', `item ${itemId} has the same semantic id as item ${this.#itemOfNode[existing]}`, { details: { itemId } });
    }
    let node = this.root;
    for (let level = 0; level < this.levels; level++) {
      const token = this.layout.levelOffsets[level]! + codes[level]!;
      const index = this.#findChild(node, token);
      if (index >= 0) {
        node = this.#childNode[index]!;
        continue;
      }
      const child = this.#allocateNode(level + 1, node, token);
      this.#addChild(node, token, child);
      node = child;
    }
    this.#itemOfNode[node] = itemId;
    this.#leafOfItem.set(itemId, node);
  }

  /**
   * Removes an item and every node that no longer leads to an item.
   *
   * @throws GenrecError `UNKNOWN_ID` when the item is not in the trie.
   */
  remove(itemId: number): void {
    const leaf = this.#leafOfItem.get(itemId);
    if (leaf === undefined) throw new GenrecError('UNKNOWN_ID', `item ${itemId} is not in the trie`, { details: { itemId } });
    this.#leafOfItem.delete(itemId);
    let node = leaf;
    while (node !== this.root && this.#childCount[node] === 0) {
      const parent = this.#parentOfNode[node]!;
      this.#removeChild(parent, this.#tokenOfNode[node]!);
      this.#freeNode(node);
      node = parent;
    }
  }

  #checkNode(node: number): void {
    if (!Number.isInteger(node) || node < 0 || node >= this.#nodeSlots || (node !== this.root && this.#parentOfNode[node] === NO_NODE)) {
      throw new GenrecError('INVALID_INPUT', `node ${node} is not a live node of the trie`);
    }
  }

  /** Index into the pools of `node`'s child with `token` (binary search), or -1. */
  #findChild(node: number, token: number): number {
    let low = this.#childStart[node]!;
    let high = low + this.#childCount[node]! - 1;
    const tokens = this.#childToken;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const value = tokens[middle]!;
      if (value === token) return middle;
      if (value < token) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  #allocateNode(depth: number, parent: number, token: number): number {
    let node = this.#freeNodes.pop();
    if (node === undefined) {
      node = this.#nodeSlots++;
      if (node >= this.#depth.length) this.#growNodes(this.#depth.length * 2);
    }
    this.#depth[node] = depth;
    this.#parentOfNode[node] = parent;
    this.#tokenOfNode[node] = token;
    this.#itemOfNode[node] = -1;
    this.#childCount[node] = 0;
    this.#childCapacity[node] = 0;
    this.#childStart[node] = 0;
    this.#liveNodes++;
    return node;
  }

  #freeNode(node: number): void {
    this.#poolGarbage += this.#childCapacity[node]!;
    this.#parentOfNode[node] = NO_NODE;
    this.#itemOfNode[node] = -1;
    this.#childCount[node] = 0;
    this.#childCapacity[node] = 0;
    if (this.maskWords > 0) this.#mask.fill(0, node * this.maskWords, (node + 1) * this.maskWords);
    this.#freeNodes.push(node);
    this.#liveNodes--;
  }

  #growNodes(capacity: number): void {
    const grow = <T extends Uint8Array | Int32Array | Uint32Array>(array: T, size: number, fill?: number): T => {
      const next = new (array.constructor as new (length: number) => T)(size);
      if (fill !== undefined) next.fill(fill);
      next.set(array);
      return next;
    };
    this.#depth = grow(this.#depth, capacity);
    this.#itemOfNode = grow(this.#itemOfNode, capacity, -1);
    this.#parentOfNode = grow(this.#parentOfNode, capacity, NO_NODE);
    this.#tokenOfNode = grow(this.#tokenOfNode, capacity, -1);
    this.#childStart = grow(this.#childStart, capacity);
    this.#childCount = grow(this.#childCount, capacity);
    this.#childCapacity = grow(this.#childCapacity, capacity);
    this.#mask = grow(this.#mask, capacity * this.maskWords);
  }

  #addChild(node: number, token: number, child: number): void {
    let count = this.#childCount[node]!;
    if (count === this.#childCapacity[node]) this.#relocateChildren(node, Math.max(2, count * 2));
    const start = this.#childStart[node]!;
    // Insertion keeps the slice sorted by token.
    let position = start + count;
    while (position > start && this.#childToken[position - 1]! > token) {
      this.#childToken[position] = this.#childToken[position - 1]!;
      this.#childNode[position] = this.#childNode[position - 1]!;
      position--;
    }
    this.#childToken[position] = token;
    this.#childNode[position] = child;
    this.#childCount[node] = ++count;
    if (this.maskWords > 0) this.#mask[node * this.maskWords + (token >>> 5)]! |= 1 << (token & 31);
  }

  #removeChild(node: number, token: number): void {
    const index = this.#findChild(node, token);
    const end = this.#childStart[node]! + this.#childCount[node]!;
    this.#childToken.copyWithin(index, index + 1, end);
    this.#childNode.copyWithin(index, index + 1, end);
    this.#childCount[node]!--;
    if (this.maskWords > 0) this.#mask[node * this.maskWords + (token >>> 5)]! &= ~(1 << (token & 31));
  }

  #relocateChildren(node: number, capacity: number): void {
    if (this.#poolUsed + capacity > this.#childToken.length) {
      if (this.#poolGarbage > this.#poolUsed / 2) this.#compactPool();
      if (this.#poolUsed + capacity > this.#childToken.length) {
        const size = Math.max(this.#childToken.length * 2, this.#poolUsed + capacity);
        const tokens = new Int32Array(size);
        tokens.set(this.#childToken.subarray(0, this.#poolUsed));
        const nodes = new Int32Array(size);
        nodes.set(this.#childNode.subarray(0, this.#poolUsed));
        this.#childToken = tokens;
        this.#childNode = nodes;
      }
    }
    const start = this.#childStart[node]!;
    const count = this.#childCount[node]!;
    this.#childToken.copyWithin(this.#poolUsed, start, start + count);
    this.#childNode.copyWithin(this.#poolUsed, start, start + count);
    this.#poolGarbage += this.#childCapacity[node]!;
    this.#childStart[node] = this.#poolUsed;
    this.#childCapacity[node] = capacity;
    this.#poolUsed += capacity;
  }

  /** Moves every live slice to the front of the pool, dropping the space of moved or freed slices. */
  #compactPool(): void {
    const tokens = new Int32Array(this.#childToken.length);
    const nodes = new Int32Array(this.#childNode.length);
    let used = 0;
    for (let node = 0; node < this.#nodeSlots; node++) {
      if (node !== this.root && this.#parentOfNode[node] === NO_NODE) continue;
      const capacity = this.#childCapacity[node]!;
      if (capacity === 0) continue;
      const start = this.#childStart[node]!;
      const count = this.#childCount[node]!;
      tokens.set(this.#childToken.subarray(start, start + count), used);
      nodes.set(this.#childNode.subarray(start, start + count), used);
      this.#childStart[node] = used;
      used += capacity;
    }
    this.#childToken = tokens;
    this.#childNode = nodes;
    this.#poolUsed = used;
    this.#poolGarbage = 0;
  }
}

/** Checks the shape of a semantic-id table. */
function isSemanticIdTable(value: unknown): value is SemanticIdTable {
  if (typeof value !== 'object' || value === null) return false;
  const table = value as Partial<SemanticIdTable>;
  return (
    typeof table.levels === 'number' &&
    typeof table.itemCount === 'number' &&
    Array.isArray(table.codebookSizes) &&
    table.itemIds instanceof Int32Array &&
    table.codes instanceof Int32Array &&
    table.itemIds.length === table.itemCount &&
    table.codes.length === table.itemCount * table.levels
  );
}

/** The table of `source`: the table itself, or the `.table` of an object holding one (duck-typed). */
function semanticIdTableOf(source: unknown): SemanticIdTable {
  if (isSemanticIdTable(source)) return source;
  const held = typeof source === 'object' && source !== null ? (source as { table?: unknown }).table : undefined;
  if (isSemanticIdTable(held)) return held;
  throw new GenrecError(
    'INVALID_INPUT',
    'PrefixTrie.fromTable needs a semantic-id table ({ levels, codebookSizes, itemCount, itemIds, codes }) or an object holding one as .table (e.g. SemanticIds)',
    { details: { field: 'table' } },
  );
}
