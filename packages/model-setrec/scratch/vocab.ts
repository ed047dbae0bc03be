import { generateSyntheticDataset } from '@genrec/data';
import { textEmbeddings, tfidf, itemDocument } from '@genrec/semantic-id';
for (const o of [{}, { seed: 7, userCount: 300, itemCount: 120, topicCount: 4, subtopicsPerTopic: 3 }]) {
  const { catalog, dataset } = generateSyntheticDataset(o);
  const docs = catalog.records.filter(Boolean).map((r) => itemDocument(r!, ['title', 'categories']));
  console.log(catalog.records.length, docs.slice(0, 3), tfidf(docs).matrix.cols, dataset.itemCount);
}
