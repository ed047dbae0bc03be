import { describeRecommenderConformance, onePassFitOptions } from '@genrec/model-baselines/testing';
import { fitItemKnn, fitMarkov, fitPopularity, loadItemKnn, loadMarkov, loadPopularity } from './index.js';

// Baselines fit in one counting pass: the resume and early-stopping cases do not apply
// (supports.training is false), and their fits take milliseconds, so the suite runs in seconds.

describeRecommenderConformance({
  name: 'popularity',
  fit: (data, options) => fitPopularity(data, onePassFitOptions(options)),
  load: loadPopularity,
  supports: { training: false },
  emptyHistoryFallback: 'popularity',
  invalidOptions: [{ unknownOption: 1 }],
  skip: {
    'reaches 3x popularity HitRate@10 on the synthetic default within the epoch budget': 'popularity is the reference the other models are measured against',
  },
});

describeRecommenderConformance({
  name: 'Markov (order 2)',
  fit: (data, options) => fitMarkov(data, { order: 2, ...onePassFitOptions(options) }),
  load: loadMarkov,
  supports: { training: false },
  emptyHistoryFallback: 'popularity',
  invalidOptions: [{ smoothing: Number.NaN }, { order: Number.NaN }, { order: 4 }, { smoothing: 0 }, { smoothing: 1e-300 }],
});

describeRecommenderConformance({
  name: 'item-kNN',
  fit: (data, options) => fitItemKnn(data, onePassFitOptions(options)),
  load: loadItemKnn,
  supports: { training: false },
  emptyHistoryFallback: 'popularity',
  invalidOptions: [{ neighbours: Number.NaN }, { recencyDecay: Number.NaN }, { window: 0 }, { recencyDecay: 0 }],
});
