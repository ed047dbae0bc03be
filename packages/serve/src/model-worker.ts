// The worker thread of `execution: 'worker'`: loads the model folder, warms it, and answers
// `recommend` messages (see worker-model.ts for the protocol). Not exported.
import { parentPort, workerData } from 'node:worker_threads';
import { GenrecError, type Recommender } from '@genrec/core';
import { loadServedModel, warmModel } from './served-model.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-model.js';

const port = parentPort!;
const init = workerData as WorkerInit;

function errorFields(error: unknown): { message: string; code?: string; details?: Record<string, unknown> } {
  if (GenrecError.isInstance(error)) return { message: error.message, code: error.code, details: JSON.parse(JSON.stringify(error.details)) as Record<string, unknown> };
  return { message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}

function split(offsets: Int32Array, items: Int32Array): Int32Array[] {
  return Array.from({ length: offsets.length - 1 }, (_, u) => items.subarray(offsets[u]!, offsets[u + 1]!));
}

let model: Recommender;
try {
  model = await loadServedModel(init.modelDir, { threads: init.threads, maxBatchSize: init.maxBatchSize });
  if (init.warmup) await warmModel(model, init.maxBatchSize);
  const reply: WorkerReply = {
    type: 'ready',
    kind: model.kind,
    itemCount: model.itemCount,
    maxK: model.maxK,
    scoreScale: model.scoreScale,
    retiredItems: Array.from(model.retiredItems),
    description: JSON.parse(JSON.stringify(model.describe())) as Record<string, unknown>,
  };
  port.postMessage(reply);
} catch (error) {
  const reply: WorkerReply = { type: 'fatal', ...errorFields(error) };
  port.postMessage(reply);
  process.exit(1);
}

port.on('message', (request: WorkerRequest) => {
  if (request.type === 'dispose') {
    void model.dispose().finally(() => {
      const reply: WorkerReply = { type: 'disposed', id: request.id };
      port.postMessage(reply);
    });
    return;
  }
  const exclude = request.excludeOffsets && request.excludeItems ? split(request.excludeOffsets, request.excludeItems) : undefined;
  model
    .recommend({ offsets: request.offsets, items: request.items }, { k: request.k, excludeHistory: request.excludeHistory, ...(exclude ? { exclude } : {}) })
    .then(
      (result) => {
        // transfer the answer's buffers (copies of views into larger buffers)
        const own = <T extends Int32Array | Float32Array>(array: T): T => (array.byteOffset === 0 && array.byteLength === array.buffer.byteLength ? array : (array.slice() as T));
        const [items, scores, lengths] = [own(result.items), own(result.scores), own(result.lengths)];
        const reply: WorkerReply = { type: 'result', id: request.id, size: result.size, k: result.k, items, scores, lengths };
        port.postMessage(reply, [items.buffer, scores.buffer, lengths.buffer] as ArrayBuffer[]);
      },
      (error: unknown) => {
        const reply: WorkerReply = { type: 'error', id: request.id, ...errorFields(error) };
        port.postMessage(reply);
      },
    );
});
