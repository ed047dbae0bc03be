/**
 * The service as its own process for the load tests (so that autocannon never shares its event
 * loop): options from `GENREC_SERVE_*` variables, always on 127.0.0.1. Prints one JSON line
 * `{ "address": "http://127.0.0.1:PORT" }` when ready; SIGTERM shuts it down gracefully.
 */
import { serveOptionsFromEnv, startServer } from '../src/index.js';

const options = serveOptionsFromEnv();
if (options.modelDir === undefined) throw new Error('set GENREC_SERVE_MODEL_DIR');
const running = await startServer({ ...options, modelDir: options.modelDir, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ address: running.address, pid: process.pid })}\n`);
await running.closed;
