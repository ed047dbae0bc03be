import type { FitData } from '@genrec/core';
import { generateSyntheticDataset, leaveOneOutSplit, type DatasetSplit, type InteractionDataset } from '@genrec/data';
import { fitTiger } from './fit-tiger.js';
import type { FitTigerOptions, TigerArchitecture } from './options.js';
import type { TigerModel } from './tiger-model.js';

/**
 * The cheap configuration of the tests and of the conformance suite (README "Conformance"):
 * collaborative vectors of 16 dimensions, 3 levels x 16 codes, a 2-layer d32 model, a beam of 128
 * (at least the small catalogue's 120 items: decoding is then exact), decoding in the calling
 * thread, one onnxruntime thread.
 */
export const CHEAP: FitTigerOptions = {
  itemVectors: 'collaborative',
  vectorDimension: 16,
  levels: 3,
  codebookSize: 16,
  modelDimension: 32,
  heads: 2,
  feedForwardDimension: 64,
  layers: 2,
  encoderLayers: 1,
  decoderLayers: 1,
  maxHistory: 10,
  batchSize: 64,
  learningRate: 0.005,
  warmupSteps: 20,
  schedule: 'constant',
  beamWidth: 128,
  workers: 0,
  threads: 1,
};

let small: { split: DatasetSplit; data: FitData } | undefined;
let smallSource: InteractionDataset | undefined;

/** The small synthetic set before splitting (300 users x 120 items, seed 7). */
export function smallDataset(): InteractionDataset {
  smallSplit();
  return smallSource!;
}

/** A small synthetic set (300 users x 120 items, seed 7), split leave-one-out (cached). */
export function smallSplit(): { split: DatasetSplit; data: FitData } {
  if (small === undefined) {
    const synthetic = generateSyntheticDataset({ seed: 7, userCount: 300, itemCount: 120, topicCount: 4, subtopicsPerTopic: 3 });
    smallSource = synthetic.dataset;
    const split = leaveOneOutSplit(synthetic.dataset, { maxHistoryLength: 50 });
    small = { split, data: { train: split.train, validation: split.validation, catalog: synthetic.catalog } };
  }
  return small;
}

/** A cheap model of `architecture` on the small set (2 epochs, no early stopping). */
export function fitSmall(architecture: TigerArchitecture, options: FitTigerOptions = {}): Promise<TigerModel> {
  return fitTiger(smallSplit().data, { ...CHEAP, architecture, epochs: 2, seed: 3, earlyStopping: false, ...options });
}
