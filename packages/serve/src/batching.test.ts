import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type GenrecServer } from './index.js';
import { baselineFixture, postJson, sasrecFolder, type Fixture } from './test-fixtures.js';

/**
 * Batching equivalence: a user's answer from a coalesced batch has the same items, in the same
 * order, as the answer it gets alone, and scores within SCORE_TOLERANCE (absolute). SASRec runs
 * one onnxruntime session per batch-size bucket, so its float32 sums may differ in the last bits
 * between a batch of 1 and a batch of 16; the baselines' scores are identical.
 */
const SCORE_TOLERANCE = 1e-5;

let fixture: Fixture;
let sasrecDir: string;
beforeAll(async () => {
  fixture = await baselineFixture();
  sasrecDir = await sasrecFolder(fixture);
});
afterAll(() => fixture?.cleanup());

function batchCount(server: GenrecServer): { count: number; sum: number } {
  const text = server.metricsText();
  return { count: Number(/^genrec_batch_size_count (\d+)/m.exec(text)?.[1] ?? 0), sum: Number(/^genrec_batch_size_sum (\d+)/m.exec(text)?.[1] ?? 0) };
}

async function withServer<T>(options: Parameters<typeof createServer>[0], use: (server: GenrecServer, address: string) => Promise<T>): Promise<T> {
  const server = await createServer({ logLevel: 'silent', ...options });
  try {
    const address = await server.listen({ port: 0 });
    return await use(server, address);
  } finally {
    await server.close();
  }
}

for (const kind of ['sasrec', 'markov'] as const) {
  describe(`batching equivalence (${kind})`, () => {
    it('concurrent requests are coalesced, and each answer equals the unbatched answer', async () => {
      const modelDir = kind === 'sasrec' ? sasrecDir : fixture.markovDir;
      const users = fixture.histories.slice(0, 48);
      // the reference: the same folder served without batching, one request at a time
      const singles = await withServer({ modelDir, batching: false, threads: 1 }, async (_server, address) => {
        const out = [];
        for (const history of users) out.push(await postJson(`${address}/v1/recommend`, { history, k: 10 }));
        return out;
      });
      await withServer({ modelDir, maxBatchSize: 16, maxWaitMs: 25, threads: 1 }, async (server, address) => {
        const before = batchCount(server);
        const batched = await Promise.all(users.map((history) => postJson(`${address}/v1/recommend`, { history, k: 10 })));
        const after = batchCount(server);
        // 48 users in at most 48 / 2 calls: coalescing happened, no call above 16
        expect(after.sum - before.sum).toBe(48);
        expect(after.count - before.count).toBeLessThanOrEqual(24);
        expect(server.metricsText()).toMatch(/^genrec_batch_size_bucket\{le="16"\} (\d+)$/m);
        expect(Number(/^genrec_batch_size_bucket\{le="16"\} (\d+)$/m.exec(server.metricsText())![1])).toBe(after.count);
        batched.forEach((answer, u) => {
          expect(answer.status).toBe(200);
          const single = singles[u]!.body.items as { id: number; score: number }[];
          const items = answer.body.items as { id: number; score: number }[];
          expect(items.map((item) => item.id)).toEqual(single.map((item) => item.id));
          items.forEach((item, i) => expect(Math.abs(item.score - single[i]!.score)).toBeLessThanOrEqual(SCORE_TOLERANCE));
        });
      });
    });
  });
}

describe('batching isolation', () => {
  it('bad requests among concurrent good ones are refused alone; the good ones are answered correctly', async () => {
    await withServer({ modelDir: fixture.markovDir, maxBatchSize: 32, maxWaitMs: 25 }, async (_server, address) => {
      const users = fixture.histories.slice(0, 24);
      const expected = await Promise.all(users.map((history) => postJson(`${address}/v1/recommend`, { history, k: 5 })));
      const bodies = users.flatMap((history, u) => [{ history, k: 5 }, u % 3 === 0 ? { history: [...history, 9_999] } : u % 3 === 1 ? { history, k: 'five' } : { history: [...history, -1] }]);
      const answers = await Promise.all(bodies.map((body) => postJson(`${address}/v1/recommend`, body)));
      answers.forEach((answer, i) => {
        if (i % 2 === 0) {
          expect(answer.status).toBe(200);
          expect(answer.body.items).toEqual(expected[i / 2]!.body.items);
        } else {
          expect(answer.status).toBe(((i - 1) / 2) % 3 === 0 ? 422 : 400);
        }
      });
    });
  });

  it('requests with different k in one burst each get their own k', async () => {
    await withServer({ modelDir: fixture.markovDir, maxBatchSize: 32, maxWaitMs: 25 }, async (_server, address) => {
      const users = fixture.histories.slice(0, 12);
      const ks = users.map((_, u) => 1 + (u % 4) * 3);
      const answers = await Promise.all(users.map((history, u) => postJson(`${address}/v1/recommend`, { history, k: ks[u] })));
      for (const [u, answer] of answers.entries()) {
        expect(answer.body.k).toBe(ks[u]);
        const alone = await postJson(`${address}/v1/recommend`, { history: users[u], k: ks[u] });
        expect(answer.body.items).toEqual(alone.body.items);
      }
    });
  });
});
