import { generateSyntheticDataset, leaveOneOutSplit } from '@genrec/data';
import { evaluateRecommender } from '@genrec/eval';
import { fitTiger, loadTiger } from '@genrec/model-tiger';

const { dataset, catalog } = generateSyntheticDataset(); // 5,000 users x 2,000 items
const split = leaveOneOutSplit(dataset);
const model = await fitTiger({ train: split.train, validation: split.validation, catalog }, {
  itemVectors: 'collaborative', levels: 3, codebookSize: 16, // item vectors -> 3 x 16 codes + a collision code
  modelDimension: 64, layers: 2, feedForwardDimension: 128, batchSize: 64, epochs: 2, seed: 42,
  earlyStopping: { sampleUsers: 500 }, onProgress: (e) => e.type === 'epoch-end' && console.log(`epoch ${e.epoch}: NDCG@10 ${e.validation?.['ndcg@10']?.toFixed(4)}`),
});
const top = await model.recommend([[1, 2, 3]], { k: 10 }); // trie-constrained beam search, history excluded
const result = await evaluateRecommender(model, split.test, { ks: [10] });
console.log(Array.from(top.items), `test Recall@10 ${result.metrics['recall@10']?.toFixed(4)}`);
await model.save('runs/tiger');
const same = await loadTiger('runs/tiger'); // or loadRecommender of @genrec/models
await same.dispose();
await model.dispose();
