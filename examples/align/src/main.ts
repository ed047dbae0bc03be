// `pnpm --filter @genrec-example/align start` (after the build): the align example on the synthetic
// default, writing into examples/align/out/.
import { join } from 'node:path';
import { runAlignExample } from './align-example.js';

const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort(new Error('interrupted (Ctrl-C)'));
});
console.log('genrec align example: the synthetic default dataset (5,000 users, 2,000 items), leave-one-out split');
const result = await runAlignExample({ out: join(import.meta.dirname, '..', 'out'), signal: controller.signal });
process.exitCode = result.exitCode;
