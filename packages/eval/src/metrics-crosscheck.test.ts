/**
 * Randomised cross-checks of both evaluators against naive implementations written straight from
 * the definitions: build the complete ranking (sorting, or enumerating every order of tied items),
 * then compute each metric by walking the list. Item ids are 1..itemCount; score column j is item
 * j + 1.
 */
import { Rng, createMatrix } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { evaluateRankedLists } from './evaluate-ranked-lists.js';
import { evaluateScores } from './evaluate-scores.js';
import { itemSetsFromArrays } from './item-sets.js';
import type { ApDenominator, GainForm, TiePolicy } from './protocol.js';
import { rankedListOf, rankedListsFromArrays } from './ranked-lists.js';

type Metrics = Record<string, number>;

function gainOf(grade: number, form: GainForm): number {
  return form === 'binary' ? 1 : form === 'linear' ? grade : 2 ** grade - 1;
}

/** Metrics of one concrete ranking (entries: item ids, 0 = a slot that is never relevant). */
function naiveListMetrics(ranking: number[], grades: Map<number, number>, ks: number[], gain: GainForm, ap: ApDenominator): Metrics {
  const relevantCount = grades.size;
  const isRelevant = (item: number): boolean => grades.has(item);
  const ideal = [...grades.values()].map((g) => gainOf(g, gain)).sort((a, b) => b - a);
  const out: Metrics = {};
  for (const k of ks) {
    const top = ranking.slice(0, k);
    let hits = 0;
    let dcg = 0;
    let apSum = 0;
    let rr = 0;
    top.forEach((item, i) => {
      if (!isRelevant(item)) return;
      hits++;
      dcg += gainOf(grades.get(item)!, gain) / Math.log2(i + 2);
      apSum += hits / (i + 1);
      if (rr === 0) rr = 1 / (i + 1);
    });
    let idcg = 0;
    for (let i = 0; i < Math.min(relevantCount, k); i++) idcg += ideal[i]! / Math.log2(i + 2);
    out[`hitrate@${k}`] = hits > 0 ? 1 : 0;
    out[`recall@${k}`] = hits / relevantCount;
    out[`precision@${k}`] = hits / k;
    out[`ndcg@${k}`] = dcg / idcg;
    out[`mrr@${k}`] = rr;
    out[`map@${k}`] = apSum / (ap === 'relevant' ? relevantCount : Math.min(relevantCount, k));
  }
  const first = ranking.findIndex(isRelevant);
  out['mrr@full'] = first < 0 ? 0 : 1 / (first + 1);
  return out;
}

/** Every order of `items` that keeps scores descending (ties in all orders). */
function allTieOrders(items: number[], score: (item: number) => number): number[][] {
  const sorted = [...items].sort((a, b) => score(b) - score(a));
  const groups: number[][] = [];
  for (const item of sorted) {
    const last = groups[groups.length - 1];
    if (last !== undefined && score(last[0]!) === score(item)) last.push(item);
    else groups.push([item]);
  }
  const permutations = (group: number[]): number[][] =>
    group.length <= 1 ? [group] : group.flatMap((item, i) => permutations([...group.slice(0, i), ...group.slice(i + 1)]).map((rest) => [item, ...rest]));
  let orders: number[][] = [[]];
  for (const group of groups) {
    const options = permutations(group);
    orders = orders.flatMap((prefix) => options.map((option) => [...prefix, ...option]));
  }
  return orders;
}

function naiveScoreUser(
  row: Float32Array,
  grades: Map<number, number>,
  history: Set<number>,
  options: { ks: number[]; gain: GainForm; ap: ApDenominator; tiePolicy: TiePolicy; mask: boolean },
): Metrics {
  const candidates: number[] = [];
  for (let item = 1; item <= row.length; item++) if (!options.mask || grades.has(item) || !history.has(item)) candidates.push(item);
  const score = (item: number): number => row[item - 1]!; // column j is item j + 1
  const relevantFlag = (item: number): number => (grades.has(item) ? 1 : 0);
  const gainFor = (item: number): number => (grades.has(item) ? gainOf(grades.get(item)!, options.gain) : 0);
  let metrics: Metrics;
  if (options.tiePolicy === 'expected') {
    const orders = allTieOrders(candidates, score);
    metrics = {};
    for (const order of orders) {
      const m = naiveListMetrics(order, grades, options.ks, options.gain, options.ap);
      for (const [key, value] of Object.entries(m)) metrics[key] = (metrics[key] ?? 0) + value / orders.length;
    }
  } else {
    const pessimistic = options.tiePolicy === 'pessimistic';
    const order = [...candidates].sort(
      (a, b) =>
        score(b) - score(a) ||
        (pessimistic ? relevantFlag(a) - relevantFlag(b) : relevantFlag(b) - relevantFlag(a)) ||
        (pessimistic ? gainFor(a) - gainFor(b) : gainFor(b) - gainFor(a)) ||
        a - b,
    );
    metrics = naiveListMetrics(order, grades, options.ks, options.gain, options.ap);
  }
  // AUC over (relevant, non-relevant candidate) pairs.
  const tieCredit = options.tiePolicy === 'pessimistic' ? 0 : options.tiePolicy === 'optimistic' ? 1 : 0.5;
  let pairs = 0;
  let credit = 0;
  for (const r of candidates) {
    if (!grades.has(r)) continue;
    for (const n of candidates) {
      if (grades.has(n)) continue;
      pairs++;
      credit += score(r) > score(n) ? 1 : score(r) === score(n) ? tieCredit : 0;
    }
  }
  metrics['auc'] = pairs === 0 ? 1 : credit / pairs;
  return metrics;
}

interface RandomCase {
  itemCount: number;
  relevant: number[][];
  grades: number[][];
  history: number[][];
}

function randomSets(rng: Rng, users: number, itemCount: number, maxRelevant: number): RandomCase {
  const relevant: number[][] = [];
  const grades: number[][] = [];
  const history: number[][] = [];
  for (let u = 0; u < users; u++) {
    const permutation = Array.from(rng.permutation(itemCount), (i) => i + 1); // ids 1..itemCount
    const count = rng.int(maxRelevant + 1);
    relevant.push(permutation.slice(0, count));
    grades.push(permutation.slice(0, count).map(() => rng.int(4))); // grade 0 = listed but not relevant
    history.push(permutation.slice(count - (count > 0 ? rng.int(2) : 0), count + rng.int(3)));
  }
  return { itemCount, relevant, grades, history };
}

const gradeMap = (items: number[], grades: number[]): Map<number, number> => {
  const map = new Map<number, number>();
  items.forEach((item, i) => {
    if (grades[i]! > 0) map.set(item, grades[i]!);
  });
  return map;
};

describe('evaluateScores vs the naive definition on random inputs with many ties', () => {
  const configurations: { tiePolicy: TiePolicy; gain: GainForm; ap: ApDenominator; mask: boolean }[] = [
    { tiePolicy: 'expected', gain: 'binary', ap: 'min-relevant-k', mask: false },
    { tiePolicy: 'expected', gain: 'exponential', ap: 'relevant', mask: true },
    { tiePolicy: 'pessimistic', gain: 'linear', ap: 'min-relevant-k', mask: true },
    { tiePolicy: 'optimistic', gain: 'exponential', ap: 'min-relevant-k', mask: false },
    { tiePolicy: 'pessimistic', gain: 'binary', ap: 'relevant', mask: false },
  ];
  for (const [index, config] of configurations.entries()) {
    it(`${config.tiePolicy}, ${config.gain} gain, AP / ${config.ap}, history ${config.mask ? 'masked' : 'kept'}`, async () => {
      const rng = new Rng(100 + index);
      const users = 60;
      const itemCount = 7;
      const data = randomSets(rng, users, itemCount, 4);
      const scores = createMatrix(users, itemCount);
      for (let i = 0; i < scores.data.length; i++) scores.data[i] = rng.int(4) * 0.25; // many ties
      const ks = [1, 2, 3, 6];
      const result = await evaluateScores(scores, itemSetsFromArrays(data.relevant, data.grades), {
        itemCount,
        ks,
        tiePolicy: config.tiePolicy,
        gain: config.gain,
        apDenominator: config.ap,
        history: itemSetsFromArrays(data.history),
        maskHistory: config.mask,
        usersWithoutRelevant: 'zero',
        keepRankings: true,
      });
      for (let u = 0; u < users; u++) {
        const grades = gradeMap(data.relevant[u]!, data.grades[u]!);
        const row = scores.data.subarray(u * itemCount, (u + 1) * itemCount);
        if (grades.size === 0) {
          expect(result.perUser!['ndcg@3']![u]).toBe(0);
          continue;
        }
        const expected = naiveScoreUser(row, grades, new Set(data.history[u]!), { ks, gain: config.gain, ap: config.ap, tiePolicy: config.tiePolicy, mask: config.mask });
        for (const [key, value] of Object.entries(expected)) {
          expect(result.perUser![key]![u], `user ${u} ${key}`).toBeCloseTo(value, 12);
        }
        // The top-K ranking: score desc, tie policy (relevant vs not), then lower id.
        const tieRank = (item: number) => (config.tiePolicy === 'expected' ? 0 : (grades.has(item) ? 1 : 0) * (config.tiePolicy === 'optimistic' ? 1 : -1));
        const candidates = Array.from({ length: itemCount }, (_, i) => i + 1).filter((i) => !config.mask || grades.has(i) || !data.history[u]!.includes(i));
        const naiveTop = candidates.sort((a, b) => row[b - 1]! - row[a - 1]! || tieRank(b) - tieRank(a) || a - b).slice(0, 6);
        expect(rankedListOf(result.rankings!, u)).toEqual(naiveTop);
      }
    });
  }
});

describe('evaluateRankedLists vs the naive definition on random generated lists', () => {
  for (const [index, config] of [
    { dedupe: true, invalid: 'drop', mask: true, gain: 'binary' },
    { dedupe: false, invalid: 'miss', mask: false, gain: 'linear' },
    { dedupe: true, invalid: 'miss', mask: true, gain: 'exponential' },
  ].entries()) {
    it(`dedupe ${config.dedupe}, invalid ids ${config.invalid}, history ${config.mask ? 'masked' : 'kept'}, ${config.gain} gain`, () => {
      const rng = new Rng(200 + index);
      const users = 200;
      const itemCount = 12;
      const width = 8;
      const data = randomSets(rng, users, itemCount, 5);
      const lists: number[][] = [];
      for (let u = 0; u < users; u++) {
        const length = rng.int(width + 1);
        lists.push(Array.from({ length }, () => rng.int(itemCount + 3) - 1)); // -1, 0 and itemCount + 1 are invalid
      }
      const ks = [1, 3, 5, 8];
      const result = evaluateRankedLists(rankedListsFromArrays(lists, width), itemSetsFromArrays(data.relevant, data.grades), {
        itemCount,
        ks,
        dedupe: config.dedupe,
        invalidIds: config.invalid as 'drop' | 'miss',
        history: itemSetsFromArrays(data.history),
        maskHistory: config.mask,
        gain: config.gain as GainForm,
      });
      let invalid = 0;
      let duplicates = 0;
      let entries = 0;
      let evaluated = 0;
      for (let u = 0; u < users; u++) {
        const grades = gradeMap(data.relevant[u]!, data.grades[u]!);
        const history = new Set(data.history[u]!);
        const seen = new Set<number>();
        const filtered: number[] = [];
        for (const item of lists[u]!) {
          entries++;
          if (item < 1 || item > itemCount) {
            invalid++;
            if (config.invalid === 'miss') filtered.push(0);
            continue;
          }
          const repeated = seen.has(item);
          if (repeated) duplicates++;
          seen.add(item);
          if (config.mask && history.has(item) && !grades.has(item)) continue;
          if (repeated) {
            if (!config.dedupe) filtered.push(0);
            continue;
          }
          filtered.push(item);
        }
        if (grades.size === 0) {
          expect(Number.isNaN(result.perUser!['recall@1']![u]!)).toBe(true);
          continue;
        }
        evaluated++;
        const expected = naiveListMetrics(filtered, grades, ks, config.gain as GainForm, 'min-relevant-k');
        for (const [key, value] of Object.entries(expected)) expect(result.perUser![key]![u], `user ${u} ${key}`).toBeCloseTo(value, 12);
      }
      expect(result.evaluatedUserCount).toBe(evaluated);
      expect(result.decoding!.invalidCount).toBe(invalid);
      expect(result.decoding!.duplicateCount).toBe(duplicates);
      expect(result.decoding!.entryCount).toBe(entries);
    });
  }
});

describe('evaluateScores with many relevant items (more than 16 distinct relevant scores)', () => {
  it('matches the naive definition for every tie policy', async () => {
    const rng = new Rng(300);
    const users = 20;
    const itemCount = 60;
    const data = randomSets(rng, users, itemCount, 0);
    for (let u = 0; u < users; u++) {
      const items = Array.from(rng.permutation(itemCount), (i) => i + 1).slice(0, 20 + rng.int(20));
      data.relevant[u] = items;
      data.grades[u] = items.map(() => 1 + rng.int(3));
    }
    const scores = createMatrix(users, itemCount);
    for (let i = 0; i < scores.data.length; i++) scores.data[i] = rng.int(40);
    const noTies = createMatrix(users, itemCount);
    for (let u = 0; u < users; u++) {
      const permutation = rng.permutation(itemCount);
      for (let i = 0; i < itemCount; i++) noTies.data[u * itemCount + i] = permutation[i]!;
    }
    const ks = [1, 5, 20, 50];
    for (const tiePolicy of ['pessimistic', 'optimistic', 'expected'] as const) {
      const source = tiePolicy === 'expected' ? noTies : scores; // enumerating every tie order is infeasible here
      const result = await evaluateScores(source, itemSetsFromArrays(data.relevant, data.grades), {
        itemCount,
        ks,
        tiePolicy,
        gain: 'exponential',
        history: itemSetsFromArrays(data.history),
        maskHistory: true,
      });
      for (let u = 0; u < users; u++) {
        const grades = gradeMap(data.relevant[u]!, data.grades[u]!);
        const row = source.data.subarray(u * itemCount, (u + 1) * itemCount);
        const expected = naiveScoreUser(row, grades, new Set(data.history[u]!), { ks, gain: 'exponential', ap: 'min-relevant-k', tiePolicy, mask: true });
        for (const [key, value] of Object.entries(expected)) expect(result.perUser![key]![u], `${tiePolicy} user ${u} ${key}`).toBeCloseTo(value, 12);
      }
    }
  });
});
