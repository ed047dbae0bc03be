// Fuzz module for Trainer.loadCheckpoint, run in a child process by readers.fuzz.test.ts.
// Inputs: valid checkpoints (with and without optimizer state, plain weights) mutated byte-wise,
// and checkpoints rebuilt with edited metadata (kind, formatVersion, step, optimizer, rng) and
// tensors (NaN/Infinity, shapes, dtypes, missing and extra names). Every input must give a
// GenrecError that leaves the trainer unchanged, or a load after which the trainer holds exactly
// the file's finite weights and a valid step, and can train on without turning weights into NaN.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeSafetensors, encodeSafetensors, readBytes, type Tensor } from '@genrec/core';
import { FuzzOutcomes, mutateBytes, type FuzzReport } from '@genrec/core/testing';
import { init, type Graph } from '../graph/graph.js';
import * as ops from '../graph/ops.js';
import { optimizers } from './optimizers.js';
import { Trainer } from './trainer.js';

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`invariant broken: ${message}`);
}

const x = Float32Array.from({ length: 8 }, (_, i) => (i % 3) - 1);
function build(graph: Graph) {
  const w = graph.parameter('w', [4, 3], init.xavier());
  const b = graph.parameter('b', [3], init.zeros());
  const y = ops.add(ops.matMul(graph.input('x', 'float32', [2, 4]), w), b);
  return { loss: ops.reduceSum(ops.mul(y, y)) };
}

function snapshot(trainer: Trainer): string {
  const values = [...trainer.parameterValues()].map(([name, value]) => [name, Array.from(value)]);
  const state = [...trainer.optimizerState()].map(([name, value]) => [name, Array.from(value)]);
  return JSON.stringify({ step: trainer.stepCount, values, state });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks.map((chunk) => Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))));
}

const METADATA_EDITS: Readonly<Record<string, readonly (string | undefined)[]>> = {
  kind: [undefined, 'genrec-nn-checkpoint2', ''],
  formatVersion: [undefined, '2', '1.0', ' 1'],
  step: [undefined, 'abc', '-3', '1.5', '1e3', '', '9007199254740993', '0', '123456'],
  optimizer: [undefined, 'none', 'sgd', 'adamw', 'ADAM', ''],
  rng: [undefined, '{', '[]', '{"words":[1,2,3],"spareNormal":null}', '{"words":[0,0,0,0],"spareNormal":null}', '{"words":[1,2,3,4],"spareNormal":1e400}', '{"words":[1,2,3,4294967296],"spareNormal":null}', '{"words":[5,6,7,8],"spareNormal":0.25}'],
};

function editedCheckpoint(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  const { tensors, metadata } = decodeSafetensors(base);
  return fc
    .record({
      field: fc.oneof({ weight: 1, arbitrary: fc.constant('keep') }, { weight: 1, arbitrary: fc.constantFrom(...Object.keys(METADATA_EDITS)) }),
      pick: fc.nat(),
      tensorEdit: fc.oneof(
        { weight: 3, arbitrary: fc.constant('none') },
        { weight: 2, arbitrary: fc.constantFrom('nan', 'infinity', 'huge', 'drop-w', 'drop-state', 'extra', 'reshape', 'float64', 'rename-state') },
      ),
      index: fc.nat(11),
    })
    .map(({ field, pick, tensorEdit, index }) => {
      const edited = new Map<string, Tensor>([...tensors].map(([name, tensor]) => [name, { ...tensor, data: tensor.data.slice() } as Tensor]));
      const meta: Record<string, string> = { ...metadata };
      if (field !== 'keep') {
        const values = METADATA_EDITS[field]!;
        const value = values[pick % values.length];
        if (value === undefined) delete meta[field];
        else meta[field] = value;
      }
      const w = edited.get('w')!.data as Float32Array;
      if (tensorEdit === 'nan') w[index] = Number.NaN;
      if (tensorEdit === 'infinity') w[index] = -Infinity;
      if (tensorEdit === 'huge') w[index] = 3e38;
      if (tensorEdit === 'drop-w') edited.delete('w');
      if (tensorEdit === 'drop-state') edited.delete([...edited.keys()].find((name) => name.startsWith('optimizer.')) ?? 'none');
      if (tensorEdit === 'extra') edited.set('extra', { dtype: 'float32', shape: [1], data: new Float32Array(1) });
      if (tensorEdit === 'reshape') edited.set('b', { dtype: 'float32', shape: [3, 1], data: new Float32Array(3) });
      if (tensorEdit === 'float64') edited.set('b', { dtype: 'float64', shape: [3], data: new Float64Array(3) });
      if (tensorEdit === 'rename-state') {
        const state = [...edited.keys()].find((name) => name.startsWith('optimizer.'));
        if (state) {
          edited.set(state.replace('optimizer.', 'optimizer.x'), edited.get(state)!);
          edited.delete(state);
        }
      }
      return concat(encodeSafetensors(edited, meta));
    });
}

/** The fuzz run: one trainer, every case loaded into it from the same path. */
export async function fuzz({ runs, seed }: { runs: number; seed: number }): Promise<FuzzReport> {
  const outcomes = new FuzzOutcomes('nn-checkpoint');
  const folder = mkdtempSync(join(tmpdir(), 'genrec-checkpoint-fuzz-'));
  const trainer = await Trainer.create({ build, optimizer: optimizers.adam(), seed: 3, intraOpNumThreads: 1 });
  try {
    for (let s = 0; s < 2; s++) await trainer.step({ x }, { learningRate: 0.05 });
    const full = join(folder, 'full.safetensors');
    const weightsOnly = join(folder, 'weights-only.safetensors');
    trainer.saveCheckpoint(full);
    trainer.saveCheckpoint(weightsOnly, { includeOptimizer: false });
    const valid = [readBytes(full), readBytes(weightsOnly), concat(encodeSafetensors({ w: { dtype: 'float32', shape: [4, 3], data: new Float32Array(12).fill(0.5) }, b: { dtype: 'float32', shape: [3], data: new Float32Array(3) } }))];
    const mutated = fc
      .record({ base: fc.constantFrom(...valid), plan: fc.oneof({ weight: 3, arbitrary: fc.array(fc.nat(), { minLength: 3, maxLength: 6 }) }, fc.array(fc.nat(), { minLength: 3, maxLength: 24 })) })
      .map(({ base, plan }) => mutateBytes(base, plan));
    const path = join(folder, 'case.safetensors');
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, editedCheckpoint(valid[0]!), editedCheckpoint(valid[1]!)), async (bytes) => {
        writeFileSync(path, bytes);
        const before = snapshot(trainer);
        const outcome = outcomes.run(() => {
          trainer.loadCheckpoint(path);
          return 'accepted';
        });
        if (outcome !== 'accepted') {
          check(snapshot(trainer) === before, `a failed load (${outcome}) changed the trainer`);
          return;
        }
        const { tensors } = decodeSafetensors(bytes);
        let moderate = true;
        for (const [name, value] of trainer.parameterValues()) {
          const stored = tensors.get(name)!.data;
          check(Array.from(value).every(Number.isFinite), `"${name}" holds a non-finite value after a load`);
          check(Buffer.compare(Buffer.from(value.buffer, value.byteOffset, value.byteLength), Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength)) === 0, `"${name}" differs from the file`);
          moderate &&= Array.from(value).every((v) => Math.abs(v) < 1e6);
        }
        check(Number.isSafeInteger(trainer.stepCount) && trainer.stepCount >= 0, `step ${trainer.stepCount}`);
        for (const [name, value] of trainer.optimizerState()) {
          check(Array.from(value).every(Number.isFinite), `optimizer state "${name}" is not finite`);
          moderate &&= Array.from(value).every((v) => Math.abs(v) < 1e6);
        }
        // training on from moderate weights keeps them finite (a bad step counter would give NaN)
        if (moderate) {
          await trainer.step({ x }, { learningRate: 0.01 });
          check([...trainer.parameterValues().values()].every((value) => Array.from(value).every(Number.isFinite)), `a step after loading gave non-finite weights (step ${trainer.stepCount})`);
        }
      }),
      { numRuns: runs, seed },
    );
  } finally {
    await trainer.release();
    rmSync(folder, { recursive: true, force: true });
  }
  return outcomes.report();
}
