import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createStubs,
  joinStubs,
  rebindStubs,
  releaseAllStubs,
  releaseDeadThenJoin,
  releaseStubs,
} from '../../../src/lifecycle/protect-stubs.js';
import { LABEL_PROJECT } from '../../../src/session/session-labels.js';
import { FakeRuntime, fakeContainer } from '../../helpers/fake-runtime.js';
import { removePool, writePool } from '../../../src/pool/pool-index.js';

const DEAD_PID = 2 ** 22 + 17;

describe('protected-path stubs', () => {
  let dir: string;
  let project: string;
  let state: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mino-stubs-'));
    project = join(dir, 'proj');
    state = join(dir, 'state');
    mkdirSync(project);
    mkdirSync(state);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const stubs = (): { hostPath: string; kind: 'file' | 'dir'; content: string }[] => [
    { hostPath: join(project, '.claude'), kind: 'dir', content: '' },
    { hostPath: join(project, '.claude/settings.json'), kind: 'file', content: '{}\n' },
    { hostPath: join(project, '.vscode'), kind: 'dir', content: '' },
  ];

  it('creates stubs and removes them once no process or container of the project uses them', async () => {
    createStubs(state, project, stubs(), process.pid);
    expect(readFileSync(join(project, '.claude/settings.json'), 'utf8')).toBe('{}\n');
    expect(lstatSync(join(project, '.vscode')).isDirectory()).toBe(true);
    const runtime = new FakeRuntime();
    runtime.containers.push(fakeContainer('mino-other', 'running', { [LABEL_PROJECT]: project }));
    await releaseStubs(runtime, state, project, process.pid);
    // A container of the project still has them mounted: unlinking would detach its protection.
    expect(existsSync(join(project, '.vscode'))).toBe(true);
    runtime.containers = [];
    await releaseStubs(runtime, state, project);
    expect(existsSync(join(project, '.claude'))).toBe(false);
    expect(existsSync(join(project, '.vscode'))).toBe(false);
  });

  it('with containers listed during the run: its own is left out, another of the project keeps the stubs', async () => {
    createStubs(state, project, stubs(), process.pid);
    const runtime = new FakeRuntime();
    const other = fakeContainer('mino-other', 'running', { [LABEL_PROJECT]: project });
    const own = fakeContainer('mino-own', 'running', { [LABEL_PROJECT]: project });
    await releaseStubs(runtime, state, project, process.pid, {
      list: Promise.resolve([own, other]),
      except: 'mino-own',
    });
    expect(existsSync(join(project, '.vscode'))).toBe(true);
    // The engine is not asked again: what was listed during the run decides.
    runtime.containers.push(other);
    await releaseStubs(runtime, state, project, undefined, { list: Promise.resolve([own]), except: 'mino-own' });
    expect(existsSync(join(project, '.vscode'))).toBe(false);
  });

  it('rebindStubs: stubs moved to new inodes by mino (a warm branch copy) are removed as before; changed ones never', async () => {
    createStubs(state, project, stubs(), process.pid);
    // What adopting a warm folder does: the same paths, other inodes, the same content.
    for (const p of ['.claude/settings.json']) {
      const text = readFileSync(join(project, p), 'utf8');
      rmSync(join(project, p));
      writeFileSync(join(project, p), text);
    }
    rmSync(join(project, '.vscode'), { recursive: true });
    mkdirSync(join(project, '.vscode'));
    writeFileSync(join(project, '.vscode', 'kept'), 'x');
    rebindStubs(state, project);
    await releaseStubs(new FakeRuntime(), state, project, process.pid);
    expect(existsSync(join(project, '.claude'))).toBe(false);
    expect(existsSync(join(project, '.vscode', 'kept'))).toBe(true);
  });

  it('keeps stubs while another live mino process of the project uses them, and forgets dead ones', async () => {
    createStubs(state, project, stubs(), process.pid);
    const runtime = new FakeRuntime();
    await releaseStubs(runtime, state, project, DEAD_PID);
    expect(existsSync(join(project, '.vscode'))).toBe(true);
    // A killed mino (its pid dead) keeps nothing: the next run or gc removes its stubs.
    createStubs(state, project, [], DEAD_PID);
    await releaseStubs(runtime, state, project, process.pid);
    expect(existsSync(join(project, '.vscode'))).toBe(false);
  });

  it('never removes what changed: a written file, a folder with content, a replaced path', async () => {
    createStubs(state, project, stubs(), DEAD_PID);
    writeFileSync(join(project, '.claude/settings.json'), '{"mine":1}\n');
    writeFileSync(join(project, '.vscode/settings.json'), '{}');
    await releaseAllStubs(new FakeRuntime(), state);
    expect(readFileSync(join(project, '.claude/settings.json'), 'utf8')).toBe('{"mine":1}\n');
    expect(existsSync(join(project, '.vscode/settings.json'))).toBe(true);
    // The record is gone: a later release does not touch them either.
    await releaseAllStubs(new FakeRuntime(), state);
    expect(existsSync(join(project, '.claude/settings.json'))).toBe(true);
  });

  it('leaves a path that exists alone and never writes through a symbolic link', () => {
    writeFileSync(join(dir, 'target'), 'host file');
    symlinkSync(join(dir, 'target'), join(project, '.mcp.json'));
    createStubs(state, project, [{ hostPath: join(project, '.mcp.json'), kind: 'file', content: '{}\n' }], process.pid);
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('host file');
  });

  it('refuses to create a stub whose parent is not a directory', () => {
    writeFileSync(join(project, '.claude'), 'x');
    expect(() =>
      createStubs(
        state,
        project,
        [{ hostPath: join(project, '.claude/settings.json'), kind: 'file', content: '{}\n' }],
        process.pid,
      ),
    ).toThrow(/Cannot protect/);
  });

  it('lets a second run join the stubs of the first', async () => {
    createStubs(state, project, stubs(), DEAD_PID);
    joinStubs(state, project, process.pid);
    await releaseStubs(new FakeRuntime(), state, project);
    expect(existsSync(join(project, '.vscode'))).toBe(true);
    await releaseStubs(new FakeRuntime(), state, project, process.pid);
    expect(existsSync(join(project, '.vscode'))).toBe(false);
  });

  it('keeps stubs while the project has a warm pool (its refills mount them), until it is drained', async () => {
    createStubs(state, project, stubs(), DEAD_PID);
    const key = 'a'.repeat(24);
    writePool(state, {
      key,
      project_dir: project,
      image: 'localhost/x:1',
      target: 1,
      spec: { image: 'localhost/x:1', command: [] },
      group_add: [],
      updated_at: new Date().toISOString(),
    });
    await releaseStubs(new FakeRuntime(), state, project);
    expect(existsSync(join(project, '.vscode'))).toBe(true);
    removePool(state, key);
    await releaseStubs(new FakeRuntime(), state, project);
    expect(existsSync(join(project, '.vscode'))).toBe(false);
  });

  it('a run releases what a killed run left and joins what stays under one lock, writing only what changed', async () => {
    const record = () => {
      const dirOf = join(state, 'protect');
      const name = readdirSync(dirOf).find((n) => n.endsWith('.json'));
      return name === undefined ? undefined : join(dirOf, name);
    };
    // A killed run's stand-ins, no container of the project: gone, and nothing left to join.
    createStubs(state, project, stubs(), DEAD_PID);
    await releaseDeadThenJoin(new FakeRuntime(), state, project, process.pid);
    expect(existsSync(join(project, '.vscode'))).toBe(false);
    expect(record()).toBeUndefined();
    // A live session's stand-ins stay, and this run joins them: the last user out removes them.
    const other = 1; // init: alive
    createStubs(state, project, stubs(), other);
    await releaseDeadThenJoin(new FakeRuntime(), state, project, process.pid);
    expect(JSON.parse(readFileSync(record()!, 'utf8')).users).toEqual([other, process.pid]);
    // Joined already, and the plan creates nothing: neither call rewrites the record.
    const inode = statSync(record()!).ino;
    await releaseDeadThenJoin(new FakeRuntime(), state, project, process.pid);
    createStubs(state, project, [], process.pid);
    expect(statSync(record()!).ino).toBe(inode);
    await releaseStubs(new FakeRuntime(), state, project, process.pid);
    expect(JSON.parse(readFileSync(record()!, 'utf8')).users).toEqual([other]);
    expect(existsSync(join(project, '.vscode'))).toBe(true);
  });
});
