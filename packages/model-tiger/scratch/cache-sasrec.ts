import { mkdirSync, writeFileSync } from 'node:fs';
import { loadSasrec } from '@genrec/model-sasrec';
const [from, to] = process.argv.slice(2);
const model = await loadSasrec(from!);
const e = model.itemEmbeddings();
mkdirSync('/tmp/genrec-tiger-cache', { recursive: true });
writeFileSync(to!, new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength));
console.log(e.rows, e.cols, JSON.stringify(model.describe().hyperParameters));
await model.dispose();
