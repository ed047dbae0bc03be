import { describe, expect, it } from 'vitest';
import { SYSTEM_NEEDS, ensureSystemPackages } from '../system-packages.mjs';

type Need = { name: string; present: (env: NodeJS.ProcessEnv) => boolean; packages: string[]; recommends: boolean };
type Ensure = (env: NodeJS.ProcessEnv, needs: Need[], aptGet: (args: string[]) => number) => string[];
const ensure = ensureSystemPackages as Ensure;

/** A need that appears once `apt-get install` named its first package and the call succeeded. */
function fakeNeed(name: string, packages: string[], recommends: boolean, installed: Set<string>): Need {
  return { name, packages, recommends, present: () => installed.has(packages[0]!) };
}

describe('ensureSystemPackages (what pnpm test installs when CI=true)', () => {
  it('names the browser and PyTorch packages', () => {
    expect((SYSTEM_NEEDS as Need[]).map((need) => need.packages)).toEqual([['chromium'], ['python3', 'python3-numpy', 'python3-torch']]);
  });

  it('installs nothing when every need is present', () => {
    const calls: string[][] = [];
    const needs = [fakeNeed('a', ['pkg-a'], true, new Set(['pkg-a']))];
    expect(ensure({}, needs, (args) => (calls.push(args), 0))).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('installs the missing needs, with and without recommended packages, in one call each', () => {
    const installed = new Set<string>(['present']);
    const calls: string[][] = [];
    const needs = [
      fakeNeed('browser', ['browser'], true, installed),
      fakeNeed('there', ['present'], true, installed),
      fakeNeed('torch', ['torch', 'numpy'], false, installed),
    ];
    const aptGet = (args: string[]): number => {
      calls.push(args);
      for (const name of args.filter((arg) => !arg.startsWith('-') && arg !== 'install')) installed.add(name);
      return 0;
    };
    expect(ensure({}, needs, aptGet)).toEqual(['browser', 'torch', 'numpy']);
    expect(calls).toEqual([
      ['install', '-y', 'browser'],
      ['install', '-y', '--no-install-recommends', 'torch', 'numpy'],
    ]);
  });

  it('retries after apt-get update, then throws naming what is still missing', () => {
    const calls: string[][] = [];
    const needs = [fakeNeed('PyTorch', ['torch'], false, new Set())];
    expect(() => ensure({}, needs, (args) => (calls.push(args), 100))).toThrow(/apt-get install torch failed \(status 100\); still missing: PyTorch/);
    expect(calls.map((args) => args[0])).toEqual(['install', 'update', 'install']);
  });

  it('succeeds on the retry after apt-get update', () => {
    const installed = new Set<string>();
    let updated = false;
    const needs = [fakeNeed('PyTorch', ['torch'], false, installed)];
    const aptGet = (args: string[]): number => {
      if (args[0] === 'update') updated = true;
      else if (updated) installed.add('torch');
      return updated ? 0 : 100;
    };
    expect(ensure({}, needs, aptGet)).toEqual(['torch']);
  });
});
