import { readBenchData, peerSplit } from '../bench/data.js';
import { trainingRows } from '../src/training-rows.js';
const data = await readBenchData(process.argv[2] ?? 'toys');
const rows = trainingRows(peerSplit(data).train, 50);
const hist = new Map<number, number>();
let total = 0;
for (const l of rows.lengths) { hist.set(l, (hist.get(l) ?? 0) + 1); total += l; }
console.log('rows', rows.count, 'positions', total);
for (const buckets of [[4,8,16,32,50],[4,8,16,50],[3,6,12,50],[4,10,50],[6,16,50],[8,50]]) {
  let padded = 0; for (const l of rows.lengths) padded += buckets.find(b => b >= l)!;
  console.log(JSON.stringify(buckets), 'padded', padded, (padded/total).toFixed(2));
}
console.log([...hist].sort((a,b)=>a[0]-b[0]).slice(0,20).map(([l,c])=>`${l}:${c}`).join(' '));
