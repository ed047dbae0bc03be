import type { TokenLayout } from './contracts/semantic-id.js';
import { GenrecError } from './errors.js';

/** Options of {@link createTokenLayout}. */
export interface TokenLayoutOptions {
  /** Number of codes of each level, in order. */
  levelSizes: readonly number[];
  /**
   * Special token names, given ids `0 .. n-1` before the first level.
   * @defaultValue `['pad', 'bos', 'eos']`
   */
  specialTokens?: readonly string[];
}

/**
 * A layout with the special tokens first and then each level's codes in order (the layout of
 * TIGER-style models: PAD 0, BOS 1, EOS 2, level 0 from 3…).
 *
 * @example
 * ```ts
 * const layout = createTokenLayout({ levelSizes: [256, 256, 256, 16] });
 * layout.levelOffsets; // [3, 259, 515, 771]
 * layout.vocabularySize; // 787
 * ```
 */
export function createTokenLayout(options: TokenLayoutOptions): TokenLayout {
  const names = options.specialTokens ?? ['pad', 'bos', 'eos'];
  if (!names.includes('pad')) throw new GenrecError('INVALID_OPTION', 'specialTokens must include "pad"', { details: { field: 'specialTokens' } });
  if (new Set(names).size !== names.length) throw new GenrecError('INVALID_OPTION', 'specialTokens has duplicate names', { details: { field: 'specialTokens' } });
  const specialTokens: Record<string, number> = {};
  names.forEach((name, index) => (specialTokens[name] = index));
  const levelOffsets: number[] = [];
  let next = names.length;
  options.levelSizes.forEach((size, level) => {
    if (!Number.isInteger(size) || size <= 0) {
      throw new GenrecError('INVALID_OPTION', `level ${level} size must be a positive integer, got ${size}`, { details: { field: 'levelSizes' } });
    }
    levelOffsets.push(next);
    next += size;
  });
  return {
    vocabularySize: next,
    levelOffsets,
    levelSizes: [...options.levelSizes],
    specialTokens: specialTokens as TokenLayout['specialTokens'],
  };
}

/**
 * The token of code `code` at `level`.
 *
 * @throws GenrecError `INVALID_INPUT` when the level or code is out of range.
 */
export function tokenOf(layout: TokenLayout, level: number, code: number): number {
  const size = layout.levelSizes[level];
  if (size === undefined || !Number.isInteger(code) || code < 0 || code >= size) {
    throw new GenrecError('INVALID_INPUT', `code ${code} at level ${level} is outside the layout (levels: ${layout.levelSizes.join(', ')})`);
  }
  return layout.levelOffsets[level]! + code;
}

/** The `{ level, code }` a token stands for, or undefined for special or out-of-range tokens. */
export function codeOf(layout: TokenLayout, token: number): { level: number; code: number } | undefined {
  for (let level = 0; level < layout.levelOffsets.length; level++) {
    const code = token - layout.levelOffsets[level]!;
    if (code >= 0 && code < layout.levelSizes[level]!) return { level, code };
  }
  return undefined;
}
