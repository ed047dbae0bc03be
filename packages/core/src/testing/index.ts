/**
 * Test helpers for packages that write genrec artifacts (`@genrec/core/testing`): a kill-mid-save
 * harness. Not part of the runtime API.
 *
 * @module @genrec/core/testing
 */
export { killDuringSaves, type KillDuringSavesOptions } from './kill-saves.js';
