import { encodeModel, attr } from './src/onnx/proto.js';
import * as ort from 'onnxruntime-node';
async function mk(m: number|string, n: number|string) {
const bytes = encodeModel({ nodes: [{ opType: 'Gemm', inputs: ['a','b'], outputs: ['c'], attributes:{transB: attr.int(1)} }],
  inputs: [{name:'a', dtype:'float32', shape:[m, 64]}, {name:'b', dtype:'float32', shape:[n, 64]}],
  outputs: [{name:'c', dtype:'float32', shape:[m,n]}] });
return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
}
const M=Number(process.argv[2]??256), N=12000;
const a = new Float32Array(M*64).map(()=>Math.random()); const b = new Float32Array(N*64).map(()=>Math.random());
for (const [name, s] of [['static', await mk(M,N)], ['symbolic', await mk('m','n')]] as const) {
  const feeds = { a: new ort.Tensor('float32', a, [M,64]), b: new ort.Tensor('float32', b, [N,64]) };
  for (let i=0;i<3;i++) await s.run(feeds);
  const t=performance.now(); const R=20; for (let i=0;i<R;i++) await s.run(feeds);
  const ms=(performance.now()-t)/R; console.log(name, M, ms.toFixed(3), 'ms', (2*M*N*64/ms/1e6).toFixed(1),'GFLOP/s');
}
// tiny overhead
for (const [name, s] of [['static', await mk(4,8)], ['symbolic', await mk('m','n')]] as const) {
  const feeds = { a: new ort.Tensor('float32', a.subarray(0,256), [4,64]), b: new ort.Tensor('float32', b.subarray(0,512), [8,64]) };
  for (let i=0;i<100;i++) await s.run(feeds);
  const t=performance.now(); const R=2000; for (let i=0;i<R;i++) await s.run(feeds);
  console.log('tiny', name, ((performance.now()-t)/R*1000).toFixed(1), 'us/run');
}
