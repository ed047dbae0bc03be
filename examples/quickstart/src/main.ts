// `pnpm start` (from the repository root, after the build): the quickstart on the synthetic
// default, writing into examples/quickstart/out/.
import { join } from 'node:path';
import { runQuickstart } from './quickstart.js';

const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort(new Error('interrupted (Ctrl-C)'));
});
console.log('genrec quickstart: the synthetic default dataset (5,000 users, 2,000 items with titles), leave-one-out split');
const result = await runQuickstart({ out: join(import.meta.dirname, '..', 'out'), signal: controller.signal });
process.exitCode = result.exitCode;
