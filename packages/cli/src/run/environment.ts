import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The machine and software a run ran on (`environment.json` of a run folder). */
export interface RunEnvironment {
  /** Node.js version (`v20.20.2`). */
  node: string;
  /** V8 version. */
  v8: string;
  /** `linux`, `darwin`… */
  platform: string;
  /** `x64`, `arm64`… */
  arch: string;
  /** Kernel release. */
  osRelease: string;
  /** CPU model, logical cores, and what `os.availableParallelism()` says. */
  cpu: { model: string; logicalCores: number; availableParallelism: number };
  /** Total memory in bytes. */
  memoryBytes: number;
  /** onnxruntime threads per operator asked for (0 = one per physical core). */
  threads: number;
  /** The seeds of the run. */
  seeds: number[];
  /** Versions of the genrec packages and native runtimes found. */
  packages: Record<string, string>;
  /** The command line (`genrec train sasrec --epochs 3`). */
  argv: string[];
  /** Working directory. */
  cwd: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The folder of package `name` as Node would resolve it from `from` (walking up `node_modules`), real path. */
function packageFolder(name: string, from: string): string | undefined {
  let folder = from;
  for (;;) {
    const candidate = join(folder, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return realpathSync(dirname(candidate));
    const parent = dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}

function versionOf(folder: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * This package's own folder (above `src/` or `dist/`).
 *
 * @example
 * ```ts
 * join(cliPackageFolder(), 'package.json');
 * ```
 */
export function cliPackageFolder(): string {
  return dirname(here.endsWith('run') ? dirname(here) : here);
}

/**
 * Versions of the packages a run used: the CLI and its genrec dependencies, and, through the model
 * packages, `@genrec/nn` and `onnxruntime-node` (whose kernels decide the numbers).
 * @example
 * ```ts
 * packageVersions()['onnxruntime-node']; // '1.30.0'
 * ```
 */
export function packageVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  const cli = cliPackageFolder();
  const own = versionOf(cli);
  if (own !== undefined) versions['@genrec/cli'] = own;
  const chains: string[][] = [
    ['@genrec/core'],
    ['@genrec/data'],
    ['@genrec/eval'],
    ['@genrec/semantic-id'],
    ['@genrec/report'],
    ['@genrec/models'],
    ['@genrec/models', '@genrec/model-baselines'],
    ['@genrec/models', '@genrec/model-sasrec'],
    ['@genrec/models', '@genrec/model-sasrec', '@genrec/nn'],
    ['@genrec/models', '@genrec/model-sasrec', '@genrec/nn', 'onnxruntime-node'],
  ];
  for (const chain of chains) {
    let folder: string | undefined = cli;
    for (const name of chain) folder = folder === undefined ? undefined : packageFolder(name, folder);
    const version = folder === undefined ? undefined : versionOf(folder);
    if (version !== undefined) versions[chain.at(-1)!] = version;
  }
  return versions;
}

/**
 * Describes the machine and software of a run.
 *
 * @param fields - the run's threads, seeds, command line and working directory
 * @returns the environment record
 * @example
 * ```ts
 * runEnvironment({ threads: 0, seeds: [42], argv: process.argv.slice(2), cwd: process.cwd() }).cpu.logicalCores;
 * ```
 */
export function runEnvironment(fields: { threads: number; seeds: number[]; argv: string[]; cwd: string }): RunEnvironment {
  const cores = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    osRelease: release(),
    cpu: { model: cores[0]?.model.trim() ?? 'unknown', logicalCores: cores.length, availableParallelism: availableParallelism() },
    memoryBytes: totalmem(),
    threads: fields.threads,
    seeds: [...fields.seeds],
    packages: packageVersions(),
    argv: [...fields.argv],
    cwd: fields.cwd,
  };
}

/**
 * The differences between two environments that can change numbers: Node, platform, CPU, threads,
 * package versions.
 *
 * @returns one line per difference (empty when they agree)
 * @example
 * ```ts
 * environmentDifferences(run.environment, runEnvironment({ threads: 0, seeds: [42], argv: [], cwd: '.' })); // [] on the same machine
 * ```
 */
export function environmentDifferences(before: RunEnvironment, now: RunEnvironment): string[] {
  const differences: string[] = [];
  const compare = (what: string, a: unknown, b: unknown): void => {
    if (JSON.stringify(a) !== JSON.stringify(b)) differences.push(`${what}: ${JSON.stringify(a)} then, ${JSON.stringify(b)} now`);
  };
  compare('Node', before.node, now.node);
  compare('platform', `${before.platform}-${before.arch}`, `${now.platform}-${now.arch}`);
  compare('CPU', before.cpu?.model, now.cpu?.model);
  compare('logical cores', before.cpu?.logicalCores, now.cpu?.logicalCores);
  compare('threads', before.threads, now.threads);
  for (const name of new Set([...Object.keys(before.packages ?? {}), ...Object.keys(now.packages ?? {})])) compare(name, before.packages?.[name], now.packages?.[name]);
  return differences;
}
