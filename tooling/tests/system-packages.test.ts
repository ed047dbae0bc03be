import { describe, expect, it } from 'vitest';
import { SYSTEM_NEEDS, ensureSystemPackages } from '../system-packages.mjs';

type Need = {
  name: string;
  present: (env: NodeJS.ProcessEnv) => boolean;
  cannotInstall?: (env: NodeJS.ProcessEnv) => string | undefined;
  packages: string[];
  recommends: boolean;
};
type Ensure = (env: NodeJS.ProcessEnv, needs: Need[], aptGet: (args: string[]) => number) => string[];
const ensure = ensureSystemPackages as Ensure;
const needs = SYSTEM_NEEDS as Need[];

/** A need that is present once an `apt-get install` call named its first package and succeeded. */
function fakeNeed(name: string, packages: string[], recommends: boolean, installed: Set<string>): Need {
  return { name, packages, recommends, present: () => installed.has(packages[0]!) };
}

/** An apt-get that installs every package it is asked for and answers `status`. */
function installingAptGet(installed: Set<string>, calls: string[][], status = 0): (args: string[]) => number {
  return (args) => {
    calls.push(args);
    if (args[0] === 'install') for (const name of args.slice(1).filter((arg) => !arg.startsWith('-'))) installed.add(name);
    return status;
  };
}

describe('ensureSystemPackages (what pnpm test installs when CI=true)', () => {
  it('names the browser (with recommended packages) and PyTorch (without)', () => {
    expect(needs.map((need) => [need.packages, need.recommends])).toEqual([
      [['chromium'], true],
      [['python3', 'python3-numpy', 'python3-torch'], false],
    ]);
  });

  it('checks the browser where the test looks for it: GENREC_CHROMIUM when set, and installs nothing for another path', () => {
    const chromium = needs[0]!;
    expect(chromium.present({ GENREC_CHROMIUM: process.execPath })).toBe(true);
    expect(chromium.present({ GENREC_CHROMIUM: '/nonexistent/chromium' })).toBe(false);
    expect(chromium.cannotInstall!({ GENREC_CHROMIUM: '/nonexistent/chromium' })).toMatch(/GENREC_CHROMIUM names \/nonexistent\/chromium/);
    expect(chromium.cannotInstall!({})).toBeUndefined();
    const calls: string[][] = [];
    expect(() => ensure({ GENREC_CHROMIUM: '/nonexistent/chromium' }, [chromium], installingAptGet(new Set(), calls))).toThrow(/cannot install what the tests need/);
    expect(calls).toEqual([]);
  });

  it('installs nothing when every need is present', () => {
    const calls: string[][] = [];
    expect(ensure({}, [fakeNeed('a', ['pkg-a'], true, new Set(['pkg-a']))], installingAptGet(new Set(), calls))).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('installs the missing needs, with and without recommended packages, in one call each', () => {
    const installed = new Set<string>(['present']);
    const calls: string[][] = [];
    const fakes = [fakeNeed('browser', ['browser'], true, installed), fakeNeed('there', ['present'], true, installed), fakeNeed('torch', ['torch', 'numpy'], false, installed)];
    expect(ensure({}, fakes, installingAptGet(installed, calls))).toEqual(['browser', 'torch', 'numpy']);
    expect(calls).toEqual([
      ['install', '-y', 'browser'],
      ['install', '-y', '--no-install-recommends', 'torch', 'numpy'],
    ]);
  });

  it('runs every installation even when the first fails, retries after apt-get update, then throws naming what is missing', () => {
    const calls: string[][] = [];
    const installed = new Set<string>();
    const fakes = [fakeNeed('Browser', ['browser'], true, installed), fakeNeed('PyTorch', ['torch'], false, installed)];
    const aptGet = (args: string[]): number => (calls.push(args), args[1] === '-y' && args[2] === 'browser' ? 100 : installingAptGet(installed, [])(args));
    expect(() => ensure({}, fakes, aptGet)).toThrow(/apt-get install browser torch failed \(status 100\); still missing: Browser$/);
    expect(calls.map((args) => args.at(-1))).toEqual(['browser', 'torch', 'update', 'browser', 'torch']);
  });

  it('succeeds on the retry after apt-get update', () => {
    const installed = new Set<string>();
    let updated = false;
    const aptGet = (args: string[]): number => {
      if (args[0] === 'update') updated = true;
      else if (updated) installed.add('torch');
      return updated ? 0 : 100;
    };
    expect(ensure({}, [fakeNeed('PyTorch', ['torch'], false, installed)], aptGet)).toEqual(['torch']);
  });

  it('throws when apt-get succeeds but the need is still missing', () => {
    const calls: string[][] = [];
    const never = { ...fakeNeed('PyTorch', ['torch'], false, new Set()), present: () => false };
    expect(() => ensure({}, [never], installingAptGet(new Set(), calls))).toThrow(/apt-get installed torch, but still missing: PyTorch/);
    expect(calls).toEqual([['install', '-y', '--no-install-recommends', 'torch']]);
  });
});
