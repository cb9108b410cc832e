import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  forgetOwnStore,
  ownStoreLocation,
  ownStoreRecordPath,
  parseOwnStoreRecord,
  readOwnStore,
  writeOwnStore,
} from '../../../src/runtime/own-store.js';
import { selectRuntime } from '../../../src/runtime/select-runtime.js';

let root: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mino-own-store-'));
  env = { HOME: join(root, 'home'), XDG_DATA_HOME: join(root, 'data') };
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("mino's own store record", () => {
  it('places the graph root under mino data and the run state under XDG_RUNTIME_DIR', () => {
    expect(ownStoreLocation(env, '/run/user/1002')).toEqual({
      graphRoot: join(root, 'data', 'mino', 'containers', 'storage'),
      runRoot: '/run/user/1002/mino/storage',
      tmpDir: '/run/user/1002/mino/libpod',
      driver: 'overlay',
    });
    expect(() => ownStoreLocation(env, 'run')).toThrow(/not an absolute path/);
  });

  it('is absent until written, then read back as written (0600 file in a 0700 directory)', () => {
    expect(readOwnStore(env)).toBeUndefined();
    const store = ownStoreLocation(env, '/run/user/1002');
    const path = writeOwnStore(store, env);
    expect(path).toBe(ownStoreRecordPath(env));
    expect(path).toBe(join(root, 'data', 'mino', 'containers', 'store.json'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'data', 'mino', 'containers')).mode & 0o777).toBe(0o700);
    expect(readOwnStore(env)).toEqual(store);
    forgetOwnStore(env);
    expect(readOwnStore(env)).toBeUndefined();
  });

  it('refuses a record that is not one, naming the file and how to recover', () => {
    const path = ownStoreRecordPath(env);
    mkdirSync(join(root, 'data', 'mino', 'containers'), { recursive: true });
    writeFileSync(path, '{"graphRoot": "/g"');
    expect(() => readOwnStore(env)).toThrow(/store\.json is not a valid record.*not JSON/);
    const good = { graphRoot: '/g', runRoot: '/r', tmpDir: '/t', driver: 'overlay' };
    expect(parseOwnStoreRecord(path, JSON.stringify(good))).toEqual(good);
    for (const bad of [
      { ...good, driver: 'vfs' },
      { ...good, driver: '--help' },
      { ...good, graphRoot: 'rel' },
      { ...good, runRoot: '/a/../etc' },
      { ...good, tmpDir: undefined },
      [],
      'x',
      null,
    ]) {
      expect(() => parseOwnStoreRecord(path, JSON.stringify(bad)), JSON.stringify(bad)).toThrow(/not a valid record/);
    }
    try {
      readOwnStore(env);
    } catch (err) {
      expect((err as { hint?: string }).hint).toMatch(/mino setup.*or remove .*store\.json/);
    }
  });
});

describe('selectRuntime and the own store', () => {
  it("gives a rootless user with a record the engine on mino's store, and keeps the default store at hand", () => {
    const store = ownStoreLocation(env, '/run/user/1002');
    writeOwnStore(store, env);
    const selected = selectRuntime({ env, platform: 'linux', uid: 1002 });
    expect(selected.kind).toBe('podman');
    expect(selected.ownStore).toEqual(store);
    expect(selected.runtime.store).toEqual(store);
    expect(selected.defaultRuntime.store).toBeUndefined();
    expect(readFileSync(ownStoreRecordPath(env), 'utf8')).toContain('"driver": "overlay"');
  });

  it('uses the default store without a record, for root, and on OrbStack', () => {
    expect(selectRuntime({ env, platform: 'linux', uid: 1002 }).runtime.store).toBeUndefined();
    writeOwnStore(ownStoreLocation(env, '/run/user/1002'), env);
    const rootful = selectRuntime({ env, platform: 'linux', uid: 0 });
    expect(rootful.runtime.store).toBeUndefined();
    expect(rootful.ownStore).toBeUndefined();
    const orb = selectRuntime({ env: { ...env, MINO_RUNTIME: 'orbstack' }, platform: 'linux', uid: 1002 });
    expect(orb.runtime.store).toBeUndefined();
    expect(orb.defaultRuntime).toBe(orb.runtime);
  });
});

describe('selectRuntime with an unreadable record', () => {
  it('throws by default, and with onBadOwnStore reports it and uses the default store', () => {
    mkdirSync(join(root, 'data', 'mino', 'containers'), { recursive: true });
    writeFileSync(ownStoreRecordPath(env), 'not json');
    expect(() => selectRuntime({ env, platform: 'linux', uid: 1002 })).toThrow(/not a valid record/);
    const seen: unknown[] = [];
    const selected = selectRuntime({ env, platform: 'linux', uid: 1002, onBadOwnStore: (err) => seen.push(err) });
    expect(selected.runtime.store).toBeUndefined();
    expect(selected.ownStore).toBeUndefined();
    expect(String(seen[0])).toMatch(/not a valid record/);
  });
});
