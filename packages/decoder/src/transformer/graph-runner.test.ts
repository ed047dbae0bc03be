import { describe, expect, it } from 'vitest';
import { GenrecError } from '@genrec/core';
import { encodeModel } from '@genrec/nn';
import { LocalGraphRunner, WorkerGraphRunner, type GraphRunner } from './graph-runner.js';

const double = encodeModel({
  name: 'double',
  nodes: [{ opType: 'Add', inputs: ['x', 'x'], outputs: ['y'] }],
  inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
});
const request = { graph: 'double', feeds: { x: { dtype: 'float32' as const, data: Float32Array.of(1, 2), dims: [2] } }, fetch: ['y'], keep: {} };
const options = { intraOpNumThreads: 1, allowSpinning: false };
const codeOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: unknown) => (GenrecError.isInstance(error) ? error.code : String(error)));

describe('graph runners', () => {
  for (const [kind, create] of [
    ['worker', () => new WorkerGraphRunner(options)],
    ['local', () => new LocalGraphRunner(options)],
  ] as [string, () => GraphRunner][]) {
    it(`[${kind}] a run sent while close is pending is refused, never run on a released session`, async () => {
      const runner = create();
      await runner.load('double', double);
      expect(Array.from((await runner.run(request)).y!)).toEqual([2, 4]);
      // the close is queued first: a load or run handled after it would start onnxruntime's native
      // work in a worker that is terminated once the close is answered, and the binding then aborts
      // the whole process ('terminate called after throwing an instance of Napi::Error'); the worker
      // must refuse whatever comes after the close
      const closing = runner.close();
      const lateLoad = codeOf(runner.load('other', double));
      const lateRun = codeOf(runner.run(request));
      await closing;
      expect(await lateLoad).toMatch(/RUNTIME_ERROR|resolved/);
      expect(await lateRun).toMatch(/RUNTIME_ERROR/);
      expect(await codeOf(runner.run(request))).toMatch(/RUNTIME_ERROR/);
      // still alive: a crash of the process would have ended the test run here
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
  }
});
