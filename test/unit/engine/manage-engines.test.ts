import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chooseEngine,
  engineRegistryPath,
  parseEngineRegistry,
  readEngineRegistry,
} from '../../../src/engine/engine-registry.js';
import { addEngine, removeEngine, setDefaultEngine } from '../../../src/engine/manage-engines.js';
import { minoErrorOf } from '../../helpers/thrown.js';

let root: string;
let env: NodeJS.ProcessEnv;
let key: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mino-engines-'));
  env = { XDG_CONFIG_HOME: join(root, 'config') };
  key = join(root, 'id_ed25519');
  writeFileSync(key, 'key', { mode: 0o600 });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const URL = 'ssh://dev@build:2222/run/user/1000/podman/podman.sock';

describe('the engine registry', () => {
  it('adds an engine with what its check learnt, in a 0600 file', async () => {
    const added = await addEngine({
      name: 'build',
      url: URL,
      identity: key,
      env,
      check: async () => ({ version: '4.9.3', rootless: true }),
    });
    expect(added).toMatchObject({ name: 'build', identity: key, version: '4.9.3', rootless: true });
    expect(statSync(engineRegistryPath(env)).mode & 0o777).toBe(0o600);
    expect(readEngineRegistry(env).engines.map((e) => e.url.text)).toEqual([URL]);
  });

  it('writes nothing when the input or the check fails', async () => {
    await expect(addEngine({ name: 'Bad Name', url: URL, env })).rejects.toMatchObject({ exitCode: 2 });
    await expect(addEngine({ name: 'b', url: 'ftp://x', env })).rejects.toMatchObject({ exitCode: 2 });
    await expect(addEngine({ name: 'b', url: URL, identity: join(root, 'nokey'), env })).rejects.toThrow(
      'Cannot read the ssh key',
    );
    await expect(addEngine({ name: 'local', url: URL, env })).rejects.toMatchObject({ exitCode: 2 });
    await expect(
      addEngine({ name: 'b', url: URL, env, check: () => Promise.reject(new Error('refused the ssh key')) }),
    ).rejects.toThrow('refused the ssh key');
    expect(readEngineRegistry(env).engines).toEqual([]);
  });

  it('refuses a second engine of the same name', async () => {
    await addEngine({ name: 'b', url: URL, env });
    await expect(addEngine({ name: 'b', url: URL, env })).rejects.toThrow("Engine 'b' already exists");
  });

  it('chooses --engine over [engine] name over the default; local is this machine', async () => {
    await addEngine({ name: 'a', url: URL, env });
    await addEngine({ name: 'b', url: 'unix:///run/b.sock', env });
    setDefaultEngine('a', env);
    const registry = readEngineRegistry(env);
    expect(chooseEngine(registry, undefined, undefined)?.name).toBe('a');
    expect(chooseEngine(registry, undefined, 'b')?.name).toBe('b');
    expect(chooseEngine(registry, 'local', 'b')).toBeUndefined();
    expect(minoErrorOf(() => chooseEngine(registry, 'nope', undefined))).toMatchObject({
      exitCode: 2,
      message: "Unknown engine 'nope'",
    });
    setDefaultEngine('local', env);
    expect(chooseEngine(readEngineRegistry(env), undefined, undefined)).toBeUndefined();
  });

  it('refuses to remove an engine a session runs on; removes it otherwise (and its default)', async () => {
    await addEngine({ name: 'a', url: URL, env });
    setDefaultEngine('a', env);
    const before: string[] = [];
    const first = () => Promise.resolve(void before.push('drained'));
    await expect(removeEngine('a', ['agent-1'], env, first)).rejects.toThrow('in use by session(s) agent-1');
    expect(before).toEqual([]);
    await removeEngine('a', [], env, first);
    expect(before).toEqual(['drained']);
    expect(readEngineRegistry(env)).toEqual({ engines: [] });
    await expect(removeEngine('a', [], env)).rejects.toMatchObject({ exitCode: 2 });
  });

  it('rejects a registry file with an invalid URL instead of passing it to podman', () => {
    const path = engineRegistryPath(env);
    expect(() =>
      parseEngineRegistry(path, JSON.stringify({ engines: { x: { url: 'ssh://-oProxyCommand=sh@h/p' } } })),
    ).toThrow(/not a valid engine registry: engine 'x'/);
    expect(() => parseEngineRegistry(path, '[')).toThrow('not JSON');
    // The shape is checked before any value is used: each refusal names where it is.
    expect(() => parseEngineRegistry(path, '[]')).toThrow(/engine registry: the file: expected object/);
    expect(() => parseEngineRegistry(path, '{}')).toThrow(/engine registry: engines: expected record/);
    expect(() => parseEngineRegistry(path, JSON.stringify({ engines: { x: { url: 7 } } }))).toThrow(
      /engine registry: engines\.x\.url: expected string/,
    );
    expect(() =>
      parseEngineRegistry(path, JSON.stringify({ engines: { x: { url: 'unix:///p.sock', rootless: 'yes' } } })),
    ).toThrow(/engines\.x\.rootless: expected boolean/);
    expect(() => parseEngineRegistry(path, JSON.stringify({ default: 'gone', engines: {} }))).toThrow(
      'the default is not a registered engine',
    );
    expect(
      parseEngineRegistry(
        path,
        JSON.stringify({ default: 'x', engines: { x: { url: 'unix:///p.sock', version: '4.3.1' } } }),
      ),
    ).toMatchObject({ default: 'x', engines: [{ name: 'x', version: '4.3.1' }] });
    expect(readFileSync(key, 'utf8')).toBe('key');
  });
});
