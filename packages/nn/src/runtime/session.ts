import * as ort from 'onnxruntime-node';
import { GenrecError } from '@genrec/core';
import type { AnyTypedArray, DType } from '../onnx/proto.js';

/** Options shared by every compiled onnxruntime session of genrec. */
export interface SessionOptions {
  /**
   * Threads onnxruntime uses inside one operator (MatMul, Gemm…). 0 lets onnxruntime pick (one per
   * physical core).
   * @defaultValue 0
   */
  intraOpNumThreads?: number;
  /**
   * Diagnostics: when set, onnxruntime writes a per-node profile (Chrome trace JSON) whose file
   * name starts with this prefix, when the session is released.
   */
  profilePrefix?: string;
  /**
   * onnxruntime's memory pattern (one pre-planned block per session for static shapes). Off by
   * default: measured to cost ~300 MiB per SASRec bucket session with no speed gain.
   * @defaultValue false
   */
  memoryPattern?: boolean;
}

/** Checks {@link SessionOptions} (before a model is built for them). @returns the thread count. */
export function checkSessionOptions(options: SessionOptions): number {
  const threads = options.intraOpNumThreads ?? 0;
  if (!Number.isInteger(threads) || threads < 0) {
    throw new GenrecError('INVALID_OPTION', `intraOpNumThreads must be a non-negative integer, got ${threads}`, { details: { field: 'intraOpNumThreads' } });
  }
  return threads;
}

/** Creates an onnxruntime session from model bytes (sequential execution, all graph optimisations). */
export async function createSession(model: Uint8Array, options: SessionOptions = {}): Promise<ort.InferenceSession> {
  const threads = checkSessionOptions(options);
  try {
    return await ort.InferenceSession.create(model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // measured (README "Memory"): the memory pattern pre-plans one block per session that
      // made a SASRec bucket session 806 MiB instead of 516 MiB at the same step time
      enableMemPattern: options.memoryPattern ?? false,
      ...(options.profilePrefix ? { enableProfiling: true, profileFilePrefix: options.profilePrefix } : {}),
    });
  } catch (error) {
    throw new GenrecError('RUNTIME_ERROR', `onnxruntime could not load the model: ${(error as Error).message}`, { cause: error });
  }
}

/** Wraps a typed array as an onnxruntime tensor without copying. */
export function ortTensor(dtype: DType, data: AnyTypedArray, shape: readonly number[]): ort.Tensor {
  return new ort.Tensor(dtype, data as never, shape as number[]);
}

/** Runs a session and turns onnxruntime failures into `GenrecError('RUNTIME_ERROR')`. */
export async function runSession(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  what: string,
  fetches?: Record<string, ort.Tensor | null>,
): Promise<ort.InferenceSession.ReturnType> {
  try {
    return await (fetches ? session.run(feeds, fetches) : session.run(feeds));
  } catch (error) {
    throw new GenrecError('RUNTIME_ERROR', `${what}: onnxruntime failed: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A small cache of sessions keyed by a string (the op, its static dimensions and options). Creation
 * is deduplicated: concurrent requests for one key share one pending session.
 */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();

  /** Returns the cached session for `key`, creating it from `build()` on first use. */
  get(key: string, build: () => Uint8Array, options: SessionOptions): Promise<ort.InferenceSession> {
    let pending = this.sessions.get(key);
    if (pending === undefined) {
      pending = createSession(build(), options);
      pending.catch(() => this.sessions.delete(key));
      this.sessions.set(key, pending);
    }
    return pending;
  }

  /** Number of cached sessions. */
  get size(): number {
    return this.sessions.size;
  }

  /** Releases every cached session. */
  async clear(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const pending of all) {
      try {
        await (await pending).release();
      } catch {
        // a session that failed to load has nothing to release
      }
    }
  }
}
