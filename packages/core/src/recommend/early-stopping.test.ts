import { describe, expect, it } from 'vitest';
import { GenrecError } from '../errors.js';
import { resolveEarlyStopping } from './early-stopping.js';

function fieldOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    expect(GenrecError.isInstance(error) && error.code).toBe('INVALID_OPTION');
    return (error as GenrecError).details?.field;
  }
  throw new Error('expected INVALID_OPTION');
}

describe('resolveEarlyStopping', () => {
  it('defaults to ndcg@10 with patience 3 (K capped at the catalogue) and none without validation or with false', () => {
    expect(resolveEarlyStopping(undefined, true, 100)).toEqual({ metric: 'ndcg', k: 10, name: 'ndcg@10', patience: 3, sampleUsers: undefined });
    expect(resolveEarlyStopping({}, true, 6)).toEqual({ metric: 'ndcg', k: 6, name: 'ndcg@6', patience: 3, sampleUsers: undefined });
    expect(resolveEarlyStopping({ metric: 'hitrate@5', patience: 1, sampleUsers: 40 }, true, 100)).toEqual({ metric: 'hitrate', k: 5, name: 'hitrate@5', patience: 1, sampleUsers: 40 });
    expect(resolveEarlyStopping({ metric: 'recall@20' }, false, 100)).toBeUndefined();
    expect(resolveEarlyStopping(false, true, 100)).toBeUndefined();
  });

  it('checks the option even without validation data, naming the field', () => {
    expect(fieldOf(() => resolveEarlyStopping({ metric: 'mrr@10' }, false, 100))).toBe('earlyStopping.metric');
    expect(fieldOf(() => resolveEarlyStopping({ metric: 'ndcg@101' }, true, 100))).toBe('earlyStopping.metric (K)');
    expect(fieldOf(() => resolveEarlyStopping({ patience: 0 }, true, 100))).toBe('earlyStopping.patience');
    expect(fieldOf(() => resolveEarlyStopping({ sampleUsers: 1.5 }, true, 100))).toBe('earlyStopping.sampleUsers');
    expect(fieldOf(() => resolveEarlyStopping({ patience: 2, extra: 1 } as never, true, 100))).toBe('extra');
    expect(() => resolveEarlyStopping({ metric: 'auc' }, true, 100)).toThrow("earlyStopping.metric must be 'ndcg@K', 'recall@K' or 'hitrate@K', got \"auc\"");
  });
});
