import { describe, expect, it } from 'vitest';
import { DEFAULT_CHROMIUM, findChromium } from './chromium.js';

describe('findChromium', () => {
  it('takes GENREC_CHROMIUM when set and present', () => {
    expect(findChromium({ GENREC_CHROMIUM: process.execPath })).toEqual({ path: process.execPath });
  });

  it('gives the reason, naming the path looked at, when the browser is missing (and installs nothing, CI or not)', () => {
    for (const CI of ['true', undefined]) {
      const lookup = findChromium({ GENREC_CHROMIUM: '/nonexistent/chromium', ...(CI ? { CI } : {}) });
      expect(lookup.path).toBeUndefined();
      expect(lookup.path === undefined && lookup.reason).toMatch(/^no Chromium at \/nonexistent\/chromium \(install Debian's chromium/);
    }
  });

  it('falls back to Debian\'s path when GENREC_CHROMIUM is empty', () => {
    const lookup = findChromium({ GENREC_CHROMIUM: '' });
    expect(lookup.path ?? (lookup.path === undefined ? lookup.reason : '')).toContain(DEFAULT_CHROMIUM);
  });
});
