// Child process of killDuringSaves: imports the module named on the command line and calls its
// `save(path, round)` in a loop until killed, printing "saved" after each completed save.
import { pathToFileURL } from 'node:url';

const [modulePath, artifactPath, firstRound] = process.argv.slice(2);
if (modulePath === undefined || artifactPath === undefined) throw new Error('usage: kill-saves-child MODULE PATH [ROUND]');
const module = (await import(pathToFileURL(modulePath).href)) as { save(path: string, round: number): Promise<void> | void };
for (let round = Number(firstRound ?? 0); ; round++) {
  await module.save(artifactPath, round);
  process.stdout.write('saved\n');
}
