import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processIdentity } from '../../../src/common/process-identity.js';
import {
  UNOWNED_BUILD_DIR_AGE_MS,
  buildDirOwner,
  newBuildDirName,
  removeDeadBuildDirs,
  withBuildDir,
} from '../../../src/image/build-dir.js';

/** A build killed outright (kill -9) leaves its directory; gc and the next compose take it, never a live one. */

let data: string;
beforeEach(() => {
  data = mkdtempSync(join(tmpdir(), 'mino-build-dirs-'));
  mkdirSync(join(data, 'builds'));
});
afterEach(() => rmSync(data, { recursive: true, force: true }));

const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!;
const dir = (name: string, ageMs = 0): string => {
  const path = join(data, 'builds', name);
  mkdirSync(path);
  writeFileSync(join(path, 'Containerfile'), 'FROM x\n');
  const t = new Date(Date.now() - ageMs);
  utimesSync(path, t, t);
  return path;
};

describe('build directory owners', () => {
  it('names a build directory after its process (PID and start time) and reads it back', () => {
    const name = newBuildDirName();
    expect(name).toMatch(new RegExp(`^${process.pid}\\.\\d+\\.[0-9a-f-]{36}$`));
    expect(buildDirOwner(name)).toBe(processIdentity());
    expect(buildDirOwner(`42.${UUID}`)).toBe('42');
    expect(buildDirOwner(UUID)).toBeUndefined();
    expect(buildDirOwner('abc.lock')).toBeUndefined();
  });

  it('removes the directories of dead builds and keeps live ones, old unnamed ones after a day, anything else never', () => {
    const live = dir(newBuildDirName());
    const dead = dir(`${deadPid()}.123.${UUID}`);
    const reused = dir(`${process.pid}.1.${UUID.replace('0f8', '1f8')}`); // this PID, another start time: a recycled PID
    const young = dir(UUID.replace('0f8', '2f8'));
    const old = dir(UUID.replace('0f8', '3f8'), UNOWNED_BUILD_DIR_AGE_MS + 60_000);
    writeFileSync(join(data, 'builds', 'abc123.lock'), '');
    const other = dir('not-a-build');

    const dry = removeDeadBuildDirs(data, true);
    expect(dry.removed.map((r) => r.path).sort()).toEqual([dead, reused, old].sort());
    expect([dead, reused, old].every((p) => existsSync(p))).toBe(true);

    const r = removeDeadBuildDirs(data);
    expect(r.removed.map((x) => x.path).sort()).toEqual([dead, reused, old].sort());
    expect(r.failed).toEqual([]);
    expect(readdirSync(join(data, 'builds')).sort()).toEqual(
      ['abc123.lock', 'not-a-build', live.split('/').pop()!, young.split('/').pop()!].sort(),
    );
    expect(existsSync(other)).toBe(true);
  });

  it('a build directory in use is never removed', async () => {
    await withBuildDir(data, async (d) => {
      expect(removeDeadBuildDirs(data).removed).toEqual([]);
      expect(existsSync(d.path)).toBe(true);
    });
  });

  it('no builds directory: nothing to do', () => {
    expect(removeDeadBuildDirs(join(data, 'none'))).toEqual({ removed: [], failed: [] });
  });
});
