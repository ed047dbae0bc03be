import { afterEach, describe, expect, it, vi } from 'vitest';

describe('demo (pnpm start)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints the statistics and the leave-one-out split sizes of the synthetic default', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...values: unknown[]) => {
      lines.push(values.join(' '));
    });
    await import('./demo.js');
    const output = lines.join('\n');
    expect(output).toContain('genrec: synthetic default dataset');
    expect(output).toMatch(/users\s+5,000/);
    expect(output).toMatch(/items\s+2,000/);
    expect(output).toMatch(/interactions\s+59,439/);
    expect(output).toMatch(/popularity Gini\s+0\.\d{4}/);
    // every user has >= 5 items, so all 5,000 are evaluated; train = interactions - 2 x users
    expect(output).toMatch(/train\s+5,000\s+49,439/);
    expect(output).toMatch(/validation\s+5,000\s+5,000/);
    expect(output).toMatch(/test\s+5,000\s+5,000/);
  });
});
