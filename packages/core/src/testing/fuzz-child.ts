// Child process of fuzzInChild: imports the fuzz module named on the command line, runs its
// `fuzz({ runs, seed })` and prints the report on one line for the parent.
import { pathToFileURL } from 'node:url';
import { printFuzzReport, type FuzzModule } from './fuzz.js';

const [modulePath, runs, seed] = process.argv.slice(2);
if (modulePath === undefined || runs === undefined || seed === undefined) throw new Error('usage: fuzz-child MODULE RUNS SEED');
const module = (await import(pathToFileURL(modulePath).href)) as FuzzModule;
printFuzzReport(await module.fuzz({ runs: Number(runs), seed: Number(seed) }));
