import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSyntheticDataset, leaveOneOutSplit } from '@genrec/data';
import { evaluateRecommender } from '@genrec/eval';
import { fitSasrec } from '@genrec/model-sasrec';
import { discretizeSetrec, fitSetrec, loadSetrec } from '@genrec/model-setrec';

const { dataset, catalog } = generateSyntheticDataset();                   // items with titles and categories
const split = leaveOneOutSplit(dataset, { maxHistoryLength: 50 });
const sasrec = await fitSasrec({ train: split.train }, { hiddenSize: 32, maxLength: 20, epochs: 3, seed: 1 }); // the frozen CF vectors
const model = await fitSetrec({ train: split.train, validation: split.validation, catalog }, { sasrec, maxLength: 20, epochs: 2, seed: 1 });
const { items } = await model.recommend([[3, 14, 15]], { k: 10 });        // whole history excluded
const { metrics } = await evaluateRecommender(model, split.test, { ks: [10] });
console.log(`β ${model.beta} (chosen on validation), test Recall@10 ${metrics['recall@10']!.toFixed(4)}`, Array.from(items));
const discrete = await discretizeSetrec(model, { codebookSize: 64, validation: split.validation }); // OPQ codes per slot
const folder = join(tmpdir(), 'genrec-setrec-readme');
await model.save(folder);
const same = await loadSetrec(folder);                                      // or loadRecommender from @genrec/models
console.log(discrete.variant, (await same.recommend([[3, 14, 15]], { k: 3 })).items);
