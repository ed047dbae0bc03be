import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ARTIFACT_POINTER_FILE, GenrecError, MODEL_FILES, openModelFolder, readModelManifest, type RecommenderLoader, type StoredItem } from '@genrec/core';
import { MicroBatcher, type MicroBatcherOptions, type UserQuery } from './micro-batcher.js';
import type { ExecutionMode } from './options.js';
import { loadServedModel, warmModel, type ServedModel } from './served-model.js';
import { WorkerModel } from './worker-model.js';

/** What the service says about the model it serves. */
export interface ModelInfo {
  /** The model kind (`'sasrec'`, `'markov'`…). */
  kind: string;
  /** The folder's version: the name `CURRENT` points to, or a hash of the manifest for a hand-made folder. */
  version: string;
  /** What scores mean. */
  scoreScale: string;
  /** Catalogue size. */
  itemCount: number;
  /** Largest `k` the model answers. */
  maxK: number;
  /** How many items are retired. */
  retiredItems: number;
  /** When it was loaded (ISO time). */
  loadedAt: string;
  /** Whether the folder has external ids. */
  externalIds: boolean;
  /** Whether the folder has titles. */
  titles: boolean;
  /** Fingerprint of the training data. */
  dataFingerprint?: string;
  /** Where the model runs: its own worker thread, or the service's main thread. */
  execution: ExecutionMode;
  /** The folder it was loaded from. */
  modelDir: string;
}

/** How a slot loads its model. */
export interface SlotLoadOptions {
  /** Where the model runs. */
  execution: ExecutionMode;
  /** Further loaders (main thread only). */
  loaders?: Readonly<Record<string, RecommenderLoader>>;
  /** Called when the model's worker thread stops unexpectedly. */
  onCrash?: (slot: ModelSlot, error: Error) => void;
  /** onnxruntime threads (0 = the default). */
  threads: number;
  /** The batcher's settings (its batch size is also SASRec's inference batch). */
  batcher: Omit<MicroBatcherOptions, 'onBatch'> & Pick<MicroBatcherOptions, 'onBatch'>;
  warmup: boolean;
}

/** Reads the version name a model folder's `CURRENT` points to (undefined for a folder without one). */
export function readCurrentVersion(modelDir: string): string | undefined {
  const pointer = join(modelDir, ARTIFACT_POINTER_FILE);
  if (!existsSync(pointer)) return undefined;
  try {
    return readFileSync(pointer, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * One loaded model with its catalogue (external ids, titles), its own micro-batcher and a count
 * of the requests using it. A hot swap builds a new slot, switches to it, and disposes the old one
 * once its last request is answered.
 */
export class ModelSlot {
  /** Requests that hold this slot (validated against it, waiting or running). */
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  readonly batcher: MicroBatcher;
  /** External id → internal id, when the folder has external ids. */
  readonly externalIndex: Map<string, number> | undefined;
  private readonly retired: Uint8Array;

  private constructor(
    readonly model: ServedModel,
    readonly items: readonly StoredItem[],
    readonly info: ModelInfo,
    options: SlotLoadOptions,
  ) {
    let index: Map<string, number> | undefined;
    items.forEach((entry, j) => {
      if (entry?.externalId !== undefined) (index ??= new Map()).set(entry.externalId, j + 1);
    });
    this.externalIndex = index;
    this.retired = new Uint8Array(model.itemCount + 1);
    for (const id of model.retiredItems) this.retired[id] = 1;
    this.batcher = new MicroBatcher((queries) => this.runQueries(queries), options.batcher);
  }

  /**
   * Loads a model folder (any kind the loaders know), its `items.json`, and warms it. A save that
   * switches the folder's `CURRENT` while loading is detected and the load retried, so the model
   * and its catalogue always come from the same version.
   *
   * @throws GenrecError from the loader (`NOT_FOUND`, `FORMAT_VERSION`, `CORRUPT_ARTIFACT`…).
   */
  static async load(modelDir: string, options: SlotLoadOptions): Promise<ModelSlot> {
    for (let attempt = 1; ; attempt++) {
      const before = readCurrentVersion(modelDir);
      const { manifest, artifact } = readModelManifest(modelDir);
      const folder = openModelFolder(modelDir, manifest.model, [manifest.modelFormatVersion]);
      const items = folder.readItems();
      const model: ServedModel =
        options.execution === 'worker'
          ? await WorkerModel.start({ modelDir, threads: options.threads, maxBatchSize: options.batcher.maxBatchSize, warmup: options.warmup })
          : await loadServedModel(modelDir, { threads: options.threads, maxBatchSize: options.batcher.maxBatchSize, ...(options.loaders ? { loaders: options.loaders } : {}) });
      const after = readCurrentVersion(modelDir);
      if (before !== after || (before !== undefined && basename(folder.artifact.directory) !== before)) {
        await model.dispose();
        if (attempt >= 5) throw new GenrecError('IO_ERROR', `${modelDir} changed during every one of ${attempt} loads; try again once saving is done`, { details: { file: modelDir } });
        continue;
      }
      if (model.itemCount !== items.length) {
        await model.dispose();
        throw new GenrecError('CORRUPT_ARTIFACT', `items.json lists ${items.length} items, the model has ${model.itemCount}`, { details: { file: join(artifact.directory, MODEL_FILES.items) } });
      }
      const version = before ?? `sha256-${createHash('sha256').update(artifact.readFile(MODEL_FILES.manifest)).digest('hex').slice(0, 12)}`;
      const description = model.describe();
      const info: ModelInfo = {
        kind: model.kind,
        version,
        scoreScale: model.scoreScale,
        itemCount: model.itemCount,
        maxK: model.maxK,
        retiredItems: model.retiredItems.length,
        loadedAt: new Date().toISOString(),
        externalIds: items.some((entry) => entry?.externalId !== undefined),
        titles: items.some((entry) => entry?.title !== undefined),
        execution: options.execution,
        modelDir,
      };
      if (typeof description.dataFingerprint === 'string') info.dataFingerprint = description.dataFingerprint;
      const slot = new ModelSlot(model, items, info, options);
      if (model instanceof WorkerModel) {
        model.onCrash((error) => options.onCrash?.(slot, error)); // the worker warmed itself
      } else if (options.warmup) {
        try {
          await warmModel(model, options.batcher.maxBatchSize);
        } catch (error) {
          await model.dispose();
          throw error;
        }
      }
      return slot;
    }
  }

  /** Whether an item is retired. */
  isRetired(id: number): boolean {
    return this.retired[id] === 1;
  }

  private runQueries(queries: readonly UserQuery[]) {
    const first = queries[0]!;
    const exclude = queries.some((q) => q.exclude !== undefined) ? queries.map((q) => q.exclude) : undefined;
    return this.model.recommend(
      queries.map((q) => q.history),
      { k: first.k, excludeHistory: first.excludeHistory, ...(exclude ? { exclude } : {}) },
    );
  }

  /** Marks a request as using this slot; call the returned function when it is answered. */
  acquire(): () => void {
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      if (this.active === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    };
  }

  /** Requests using this slot. */
  get activeRequests(): number {
    return this.active;
  }

  /** Waits until no request uses the slot (its queue drained first), then releases the model. */
  async retire(): Promise<void> {
    await this.batcher.drain();
    if (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.model.dispose();
  }
}
