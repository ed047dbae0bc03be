import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { malformedCases, sendMalformed } from '../bench/malformed-requests.js';
import { createServer, type GenrecServer } from './index.js';
import { baselineFixture, postJson, type Fixture } from './test-fixtures.js';

let fixture: Fixture;
let server: GenrecServer;
let address: string;
beforeAll(async () => {
  fixture = await baselineFixture();
  server = await createServer({ modelDir: fixture.markovDir, logLevel: 'silent', maxHistoryLength: 100, maxBatchUsers: 16, maxBodyBytes: 65_536 });
  address = await server.listen({ port: 0 });
});
afterAll(async () => {
  await server?.close();
  fixture?.cleanup();
});

const cases = malformedCases({ maxHistoryLength: 100, maxBatchUsers: 16, maxBodyBytes: 65_536 });

describe('the malformed-request set (the one bench/load.ts sends under load)', () => {
  it('has at least 30 kinds', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  for (const item of cases) {
    it(`${item.name}: ${item.status}${item.code ? ` ${item.code}` : ''}`, async () => {
      const answer = await sendMalformed(address, item);
      expect(answer.status).toBe(item.status);
      if (item.code !== undefined) {
        expect(answer.code).toBe(item.code);
        expect(answer.message?.length).toBeGreaterThan(10);
      }
    });
  }

  it('all of them at once, among valid requests: the valid ones are all answered correctly', async () => {
    const history = fixture.histories[0]!;
    const expected = await postJson(`${address}/v1/recommend`, { history, k: 5 });
    const valid = Array.from({ length: 30 }, () => postJson(`${address}/v1/recommend`, { history, k: 5 }));
    const bad = cases.map((item) => sendMalformed(address, item));
    const [good, refused] = await Promise.all([Promise.all(valid), Promise.all(bad)]);
    for (const answer of good) expect(answer.body.items).toEqual(expected.body.items);
    refused.forEach((answer, i) => expect(answer.status, cases[i]!.name).toBe(cases[i]!.status));
    expect(server.metricsText()).not.toMatch(/status="5\d\d"/);
  });
});
