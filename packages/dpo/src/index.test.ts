import { describe, expect, it } from 'vitest';
import { version } from './index.js';

describe('@genrec/dpo', () => {
  it('exposes its version', () => {
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
