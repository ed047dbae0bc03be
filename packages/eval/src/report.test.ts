import { GenrecError, Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { evaluateRankedLists } from './evaluate-ranked-lists.js';
import { itemSetsFromArrays } from './item-sets.js';
import { rankedListsFromArrays } from './ranked-lists.js';
import { compareResults, formatComparisonTable, formatResultTable } from './report.js';
import { evaluationResultFromJSON, evaluationResultToJSON } from './result-json.js';
import { formatSliceTable, quantileBuckets, sliceResult } from './slice.js';

function randomSystem(seed: number, quality: number, users: number, itemCount: number) {
  const rng = new Rng(seed);
  const targets: number[][] = [];
  const lists: number[][] = [];
  const truth = new Rng(99); // same targets for every system
  for (let u = 0; u < users; u++) targets.push([1 + truth.int(itemCount)]); // item ids 1..itemCount
  for (let u = 0; u < users; u++) {
    const list = Array.from(rng.permutation(itemCount), (i) => i + 1).slice(0, 10);
    if (rng.uniform() < quality && !list.includes(targets[u]![0]!)) list[rng.int(10)] = targets[u]![0]!;
    lists.push(list);
  }
  return { lists: rankedListsFromArrays(lists, 10), relevance: itemSetsFromArrays(targets) };
}

describe('reports', () => {
  const users = 300;
  const weak = randomSystem(1, 0.1, users, 50);
  const strong = randomSystem(2, 0.6, users, 50);
  const options = { itemCount: 50, ks: [5, 10] };
  const baseline = evaluateRankedLists(weak.lists, weak.relevance, { ...options, system: 'weak' });
  const better = evaluateRankedLists(strong.lists, strong.relevance, { ...options, system: 'strong' });

  it('JSON round trip keeps the protocol, means and per-user values (NaN as null)', () => {
    const lists = rankedListsFromArrays([[1, 2], [3]]);
    const result = evaluateRankedLists(lists, itemSetsFromArrays([[2], []]), { itemCount: 5, ks: [1, 2], exposure: {} });
    const json = JSON.parse(JSON.stringify(evaluationResultToJSON(result, { perUser: true })));
    expect(json.protocol.usersWithoutRelevant).toBe('skip');
    expect(json.perUser['ndcg@2'][1]).toBeNull();
    const back = evaluationResultFromJSON(json);
    expect(back.metrics).toEqual(result.metrics);
    expect(back.protocol).toEqual(result.protocol);
    expect(Array.from(back.perUser!['ndcg@2']!)).toEqual(Array.from(result.perUser!['ndcg@2']!));
    expect(back.exposure!.eeL).toBeCloseTo(result.exposure!.eeL, 15);
    expect(() => evaluationResultFromJSON({ kind: 'other', formatVersion: 1 })).toThrow(GenrecError);
    const lean = evaluationResultToJSON(result);
    expect(lean['perUser']).toBeNull();
  });

  it('Markdown table holds the numbers and the protocol', () => {
    const table = formatResultTable(baseline);
    expect(table).toContain('| metric | @5 | @10 |');
    expect(table).toContain(`| NDCG | ${baseline.metrics['ndcg@5']!.toFixed(4)} | ${baseline.metrics['ndcg@10']!.toFixed(4)} |`);
    expect(table).toContain('history not masked');
    expect(table).toContain('Decoding: invalid ids 0.0000');
  });

  it('comparison marks the significant difference and refuses mixed protocols', () => {
    const comparison = compareResults([baseline, better], { metrics: ['recall@10', 'ndcg@10'], test: 'wilcoxon' });
    expect(comparison.cells[1]![0]!.significant).toBe(true);
    expect(comparison.cells[1]![0]!.adjustedPValue).toBeGreaterThanOrEqual(comparison.cells[1]![0]!.test!.pValue);
    const table = formatComparisonTable(comparison);
    expect(table).toContain('| weak (baseline) |');
    expect(table).toContain(`${better.metrics['recall@10']!.toFixed(4)} ▲†`);
    const same = compareResults([baseline, baseline], { metrics: ['recall@10'] });
    expect(same.cells[1]![0]!.significant).toBe(false);
    const masked = evaluateRankedLists(weak.lists, weak.relevance, { ...options, history: weak.relevance, maskHistory: true });
    expect(() => compareResults([baseline, masked])).toThrow(/differs in: maskHistory/);
  });

  it('slices per-user values by group', () => {
    const groups = quantileBuckets(Array.from({ length: users }, (_, u) => u % 7), 2);
    const table = sliceResult(better, groups, { labels: ['short', 'long'], metrics: ['recall@10'] });
    expect(table.userCounts[0]! + table.userCounts[1]!).toBe(users);
    let sum = 0;
    let count = 0;
    for (let u = 0; u < users; u++) {
      if (groups[u] === 1) {
        sum += better.perUser!['recall@10']![u]!;
        count++;
      }
    }
    expect(table.means['recall@10']![1]).toBeCloseTo(sum / count, 15);
    expect(formatSliceTable(table)).toContain('| long |');
  });
});
