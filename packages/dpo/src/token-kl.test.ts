import { Rng } from '@genrec/core';
import { generateSyntheticDataset, leaveOneOutSplit } from '@genrec/data';
import { fitTiger, tigerPreferenceModel, type TigerModel } from '@genrec/model-tiger';
import { CompiledGraph, Graph, type PreferenceModel } from '@genrec/nn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KlMeter, heldOutTrainingSet } from './model-diagnostics.js';
import { CHEAP_TIGER } from './test-fixtures.js';

const synthetic = generateSyntheticDataset({ seed: 7, userCount: 300, itemCount: 120, topicCount: 4, subtopicsPerTopic: 3 });
const split = leaveOneOutSplit(synthetic.dataset, { maxHistoryLength: 50 });
// 40 held-out users: the KL graph runs 32 users at a time, so the second batch is padded
const heldOut = heldOutTrainingSet(split.train, Array.from({ length: 40 }, (_, u) => u * 7));
const histories = { offsets: heldOut.historyOffsets, items: heldOut.historyItems };
let model: TigerModel;
let retired: number;

beforeAll(async () => {
  // a cheap decoder-only TIGER with item tokens (the logits are wider than the ids' tokens)
  model = await fitTiger({ train: split.train }, { ...CHEAP_TIGER, itemTokens: 16, epochs: 1 });
  // a target no other item shares the quantiser codes with: retired, its last position has no allowed token
  const width = model.codes.tokensPerItem;
  const prefix = (id: number): string => Array.from(model.codes.tokensOf(id)!.subarray(0, width - 1)).join();
  const counts = new Map<string, number>();
  for (let id = 1; id <= model.itemCount; id++) counts.set(prefix(id), (counts.get(prefix(id)) ?? 0) + 1);
  retired = Array.from(heldOut.targetItems).find((id) => counts.get(prefix(id)) === 1)!;
  expect(retired).toBeGreaterThan(0);
});
afterAll(async () => {
  await model.dispose();
});

/** The hook of the model with `retired` retired (the model itself is left as it was). */
function hookWithRetired(): PreferenceModel {
  model.retireItems([retired]);
  try {
    return tigerPreferenceModel(model);
  } finally {
    model.restoreItems([retired]);
  }
}

function perturbed(values: Map<string, Float32Array>, scale: number, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  return new Map([...values].map(([name, value]) => [name, Float32Array.from(value, (x) => x + rng.uniformIn(-scale, scale))]));
}

/** Next-token logits of every held-out user's target, `users x tokensPerItem x vocabularySize`, from a graph of all users at once with the values as initialisers. */
async function tokenLogits(hook: PreferenceModel, values: Map<string, Float32Array>): Promise<Float32Array> {
  const users = heldOut.size;
  const g = new Graph({ training: false });
  const logits = hook.buildTokenLogits!(g, { users, candidates: 1 });
  const compiled = await CompiledGraph.create(g, { outputs: [logits], outputNames: ['logits'], parameterValues: values, intraOpNumThreads: 1 });
  try {
    return (await compiled.run(hook.logProbFeeds(histories, heldOut.targetItems, { users, candidates: 1 }))).logits as Float32Array;
  } finally {
    await compiled.release();
  }
}

describe('KlMeter at token level (TIGER)', () => {
  it('is 0 when the policy equals the reference', async () => {
    const hook = hookWithRetired();
    const meter = await KlMeter.create(hook, histories, heldOut.targetItems, 1);
    try {
      expect(meter.tokenLevel).toBe(true);
      const values = hook.parameterValues();
      expect(await meter.measure(values, hook.parameterValues())).toBe(0);
      expect(await meter.measure(values, values)).toBe(0);
    } finally {
      await meter.release();
    }
  });

  it('equals a hand computation over the trie-allowed tokens for perturbed parameters (a retired target\'s empty position skipped)', async () => {
    const hook = hookWithRetired();
    const base = hook.parameterValues();
    const policy = perturbed(base, 0.05, 11);
    const meter = await KlMeter.create(hook, histories, heldOut.targetItems, 1);
    let measured: number;
    let reversed: number;
    try {
      measured = await meter.measure(policy, base);
      reversed = await meter.measure(base, policy);
    } finally {
      await meter.release();
    }
    // by hand: logits from separate graphs, the allowed tokens from the code table (items with an id, not retired, sharing the prefix)
    const [p, q] = [await tokenLogits(hook, policy), await tokenLogits(hook, base)];
    const width = hook.tokensPerItem;
    const v = hook.vocabularySize!;
    const tokensOf = (id: number): Int32Array => model.codes.tokensOf(id)!;
    const kl = (a: Float32Array, b: Float32Array): number => {
      let total = 0;
      let skipped = 0;
      for (let u = 0; u < heldOut.size; u++) {
        const target = tokensOf(heldOut.targetItems[u]!);
        for (let l = 0; l < width; l++) {
          const allowed = new Set<number>();
          for (let id = 1; id <= model.itemCount; id++) {
            if (id === retired) continue;
            const tokens = tokensOf(id);
            if (tokens.subarray(0, l).every((t, i) => t === target[i])) allowed.add(tokens[l]!);
          }
          if (allowed.size === 0) {
            skipped++;
            continue;
          }
          const base = (u * width + l) * v;
          const zp = Math.log([...allowed].reduce((s, t) => s + Math.exp(a[base + t]!), 0));
          const zq = Math.log([...allowed].reduce((s, t) => s + Math.exp(b[base + t]!), 0));
          for (const t of allowed) total += Math.exp(a[base + t]! - zp) * (a[base + t]! - zp - (b[base + t]! - zq));
        }
      }
      expect(skipped, "the retired target's last position").toBeGreaterThan(0);
      return total / heldOut.size;
    };
    const [expected, expectedReversed] = [kl(p, q), kl(q, p)];
    expect(expected).toBeGreaterThan(1e-3);
    expect(Math.abs(measured - expected) / expected).toBeLessThan(1e-4);
    expect(Math.abs(reversed - expectedReversed) / expectedReversed).toBeLessThan(1e-4);
    expect(Math.abs(measured - reversed), 'KL is not symmetric').toBeGreaterThan(1e-6);
  });
});
