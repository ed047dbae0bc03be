import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { GenrecError } from '@genrec/core';
import { ENV_PREFIX, SERVE_OPTIONS, parseServeOption, resolveServeOptions, serveOptionsFromEnv } from './options.js';

const spec = (name: string) => SERVE_OPTIONS.find((o) => o.name === name)!;

function invalid(run: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(GenrecError.isInstance(caught) && caught.code).toBe('INVALID_OPTION');
  expect((caught as Error).message).toMatch(pattern);
}

describe('option table, flags and environment variables', () => {
  it('names every option once, with a flag and a GENREC_SERVE_ variable derived from its name', () => {
    expect(new Set(SERVE_OPTIONS.map((o) => o.name)).size).toBe(SERVE_OPTIONS.length);
    expect(spec('maxBatchSize')).toMatchObject({ flag: '--max-batch-size', env: 'GENREC_SERVE_MAX_BATCH_SIZE', type: 'integer', defaultValue: 64, minimum: 1 });
    expect(spec('modelDir')).toMatchObject({ flag: '--model-dir', env: 'GENREC_SERVE_MODEL_DIR', defaultValue: undefined });
    for (const option of SERVE_OPTIONS) expect(option.env.startsWith(ENV_PREFIX)).toBe(true);
  });

  it('threads default to the logical CPUs minus one (at least 1); 0 still means one per physical core', () => {
    expect(resolveServeOptions({ modelDir: 'x' }).threads).toBe(Math.max(1, availableParallelism() - 1));
    expect(resolveServeOptions({ modelDir: 'x', threads: 0 }).threads).toBe(0);
    expect(resolveServeOptions({ modelDir: 'x', threads: 3 }).threads).toBe(3);
  });

  it("the defaults in the table are resolveServeOptions' defaults", () => {
    const resolved = resolveServeOptions({ modelDir: 'x' }) as unknown as Record<string, unknown>;
    for (const option of SERVE_OPTIONS) {
      if (['modelDir', 'host', 'port', 'shutdownDelayMs'].includes(option.name)) continue;
      expect(resolved[option.name], option.name).toBe(option.defaultValue);
    }
  });

  it('the README documents every environment variable', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const option of SERVE_OPTIONS) expect(readme, option.env).toContain(option.env);
  });

  it('parses typed values from the environment', () => {
    expect(
      serveOptionsFromEnv({
        GENREC_SERVE_MODEL_DIR: 'runs/model',
        GENREC_SERVE_PORT: '9000',
        GENREC_SERVE_MAX_WAIT_MS: '0.5',
        GENREC_SERVE_BATCHING: 'off',
        GENREC_SERVE_UNKNOWN_ITEMS: 'drop',
        PATH: '/usr/bin',
      }),
    ).toEqual({ modelDir: 'runs/model', port: 9000, maxWaitMs: 0.5, batching: false, unknownItems: 'drop' });
    expect(parseServeOption(spec('logRequests'), 'YES', '--log-requests')).toBe(true);
  });

  it('refuses bad values naming the variable, and unknown GENREC_SERVE_ variables', () => {
    invalid(() => serveOptionsFromEnv({ GENREC_SERVE_PORT: '80a' }), /GENREC_SERVE_PORT must be an integer in \[0, 65535\], got "80a"/);
    invalid(() => serveOptionsFromEnv({ GENREC_SERVE_PORT: '70000' }), /GENREC_SERVE_PORT must be an integer/);
    invalid(() => serveOptionsFromEnv({ GENREC_SERVE_MAX_BATCH_SIZE: '1.5' }), /an integer/);
    invalid(() => serveOptionsFromEnv({ GENREC_SERVE_BATCHING: 'maybe' }), /GENREC_SERVE_BATCHING must be true or false/);
    invalid(() => serveOptionsFromEnv({ GENREC_SERVE_LOG_LEVEL: 'loud' }), /one of fatal, error, warn, info, debug, trace, silent/);
    invalid(() => serveOptionsFromEnv({ GENREC_SERVE_MODEL_DIR: '  ' }), /a non-empty string/);
    invalid(() => serveOptionsFromEnv({ GENREC_SERVE_MAX_BATCH: '8' }), /unknown environment variable GENREC_SERVE_MAX_BATCH \(known: .*GENREC_SERVE_MAX_BATCH_SIZE/);
    invalid(() => parseServeOption(spec('maxWaitMs'), 'Infinity', '--max-wait-ms'), /--max-wait-ms must be a number in \[0, 10000\]/);
  });
});
