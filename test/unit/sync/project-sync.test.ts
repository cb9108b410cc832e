import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContainerSpec, RunOutput, StreamedRun } from '../../../src/runtime/container-runtime.js';
import { describeReturn, returnCopy, shipCopy, startReturn, type ProjectCopy } from '../../../src/sync/project-sync.js';
import { SHIP_SCRIPT } from '../../../src/sync/sync-scripts.js';
import { TarReader } from '../../../src/sync/tar-read.js';
import { tarStream, type TarEntry } from '../../../src/sync/tar-write.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';

/**
 * The trips in and back on a fake engine: the fake runs in JavaScript what the helper's scripts
 * (src/sync/sync-scripts.ts) do in the volume (here a directory), so the listing, the changed
 * files and the conflicts are the real ones, without podman.
 */

let root: string;
let project: string;
let volume: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mino-sync-'));
  project = join(root, 'project');
  volume = join(root, 'volume');
  mkdirSync(project);
  mkdirSync(volume);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    if (path === '.mino-sync') continue;
    out.push(path);
    if (lstatSync(join(dir, path)).isDirectory()) out.push(...walk(dir, path));
  }
  return out;
}

function statLine(path: string): string {
  const st = lstatSync(join(volume, path));
  return `${st.mode.toString(16)} ${st.size} ${Math.floor(st.mtimeMs / 1000)} ./${path}`;
}

function listing(token: string): string {
  return [`token ${token}`, String(Math.floor(Date.now() / 1000)), ...walk(volume).map(statLine), ''].join('\n');
}

async function collect(input: AsyncIterable<Uint8Array> | undefined): Promise<Buffer> {
  const parts: Buffer[] = [];
  if (input) for await (const c of input) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** The engine side of the scripts, on the `volume` directory. */
async function fakeEngine(spec: ContainerSpec, streams: StreamedRun): Promise<RunOutput> {
  const [, , script, , ...args] = spec.command;
  const input = await collect(streams.input);
  if (script === SHIP_SCRIPT) {
    const [token = '', reset] = args;
    if (reset === '1')
      for (const n of readdirSync(volume)) if (n !== '.mino-sync') rmSync(join(volume, n), { recursive: true });
    let current:
      | { path: string; data: Buffer[]; type: string; mode: number; mtime: number; target: string }
      | undefined;
    const reader = new TarReader({
      entry: (h) => {
        current = { ...h, data: [] };
      },
      data: (c) => {
        current?.data.push(Buffer.from(c));
      },
      end: () => {
        const e = current!;
        const dest = join(volume, e.path);
        if (e.type === 'dir') mkdirSync(dest, { recursive: true, mode: e.mode });
        else if (e.type === 'symlink') {
          rmSync(dest, { force: true });
          symlinkSync(e.target, dest);
        } else {
          writeFileSync(dest, Buffer.concat(e.data), { mode: e.mode });
          chmodSync(dest, e.mode);
          utimesSync(dest, e.mtime, e.mtime);
        }
      },
    });
    await reader.push(input);
    const del = join(volume, '.mino-sync', 'delete');
    for (const p of readFileSync(del, 'utf8').split('\n').filter(Boolean))
      rmSync(join(volume, p), { recursive: true, force: true });
    unlinkSync(del);
    writeFileSync(join(volume, '.mino-sync', 'token'), `${token}\n`);
    await streams.onStdout?.(Buffer.from(listing(token)));
    return { stdout: '', stderr: '', exitCode: 0 };
  }
  // BACK_SCRIPT: no `#` line first (a trip called off) and it exits before listing.
  if (!input.toString('utf8').startsWith('#\n')) return { stdout: '', stderr: '', exitCode: 0 };
  const expected = new Set(input.toString('utf8').split('\n'));
  const token = readFileSync(join(volume, '.mino-sync', 'token'), 'utf8').trim();
  const list = listing(token);
  const changed = list
    .split('\n')
    .slice(2)
    .filter((l) => l !== '' && !expected.has(l) && /^[8a]/.test(l))
    .map((l) => l.replace(/^\S+ \S+ \S+ \.\//, ''));
  const entries: TarEntry[] = [
    { path: '.mino-sync/list', type: 'file', mode: 0o600, mtime: 0, content: Buffer.from(list) },
    ...changed.map((path): TarEntry => {
      const st = lstatSync(join(volume, path));
      return st.isSymbolicLink()
        ? { path, type: 'symlink', mode: 0o777, mtime: 0, target: readlinkSync(join(volume, path)) }
        : { path, type: 'file', mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000), size: st.size };
    }),
  ];
  for await (const chunk of tarStream(volume, entries)) await streams.onStdout?.(chunk);
  return { stdout: '', stderr: '', exitCode: 0 };
}

function copy(protectedPaths: string[] = [], exclude: string[] = []): ProjectCopy {
  const runtime = new FakeRuntime();
  runtime.on('runStreamed', fakeEngine);
  return {
    target: { runtime, engine: 'gpu', volume: 'mino-project-x', image: 'img', labels: {} },
    projectDir: project,
    exclude,
    stateDir: join(root, 'state'),
    protectedPaths,
  };
}

/** Makes an edit on the engine later than the listing's clock second (no racy same-second case). */
function engineWrite(path: string, text: string): void {
  mkdirSync(join(volume, path, '..'), { recursive: true });
  writeFileSync(join(volume, path), text);
  const t = Date.now() / 1000 + 5;
  utimesSync(join(volume, path), t, t);
}

describe('shipping a project and bringing changes back', () => {
  it('ships everything once, then only what changed, then nothing', async () => {
    writeFileSync(join(project, 'a.txt'), 'a');
    mkdirSync(join(project, 'src'));
    writeFileSync(join(project, 'src', 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    symlinkSync('src/run.sh', join(project, 'link'));
    mkdirSync(join(project, 'node_modules'));
    writeFileSync(join(project, 'node_modules', 'big'), 'x');
    const c = copy([], ['node_modules']);
    const first = await shipCopy(c, true);
    expect(first.ship.sent).toBe(4);
    expect(walk(volume)).toEqual(['a.txt', 'link', 'src', 'src/run.sh']);
    expect(lstatSync(join(volume, 'src/run.sh')).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(volume, 'link'))).toBe('src/run.sh');
    await returnCopy(c, false);
    writeFileSync(join(project, 'a.txt'), 'changed');
    unlinkSync(join(project, 'link'));
    const second = await shipCopy(c, true);
    expect(second.ship).toMatchObject({ sent: 1, deleted: 1 });
    expect(walk(volume)).toEqual(['a.txt', 'src', 'src/run.sh']);
    await returnCopy(c, false);
    expect((await shipCopy(c, false)).ship.unchanged).toBe(true);
  });

  it('a return trip started with the session lists only once it is finished, and a sync meanwhile is not held up', async () => {
    writeFileSync(join(project, 'a.txt'), 'a');
    const c = copy();
    await shipCopy(c, true);
    const early = startReturn(c);
    // The session works; a `mino sync` meanwhile takes the lock and returns at once.
    engineWrite('a.txt', 'during');
    const during = await returnCopy(c, true);
    expect(during?.applied).toEqual(['a.txt']);
    engineWrite('late.txt', 'after the sync');
    const back = await early.finish();
    expect(back?.applied).toEqual(['late.txt']);
    expect(readFileSync(join(project, 'late.txt'), 'utf8')).toBe('after the sync');
    await early.cancel(); // over already: nothing happens
    expect((await shipCopy(c, false)).returned).toBeUndefined();
  });

  it('a return trip called off sends nothing and leaves the changes for the next trip', async () => {
    writeFileSync(join(project, 'a.txt'), 'a');
    const c = copy();
    await shipCopy(c, true);
    const early = startReturn(c);
    engineWrite('a.txt', 'agent');
    await early.cancel();
    const runtime = c.target.runtime as FakeRuntime;
    const streamed = runtime.calls.filter((x) => x.method === 'runStreamed');
    expect(streamed).toHaveLength(2);
    expect(readFileSync(join(project, 'a.txt'), 'utf8')).toBe('a');
    // The record still says a session may have changed the copy: the next shipment brings it back first.
    const next = await shipCopy(c, false);
    expect(next.returned?.applied).toEqual(['a.txt']);
    expect(readFileSync(join(project, 'a.txt'), 'utf8')).toBe('agent');
  });

  it('brings back what the agent changed, made and removed', async () => {
    writeFileSync(join(project, 'a.txt'), 'a');
    writeFileSync(join(project, 'gone.txt'), 'g');
    const c = copy();
    await shipCopy(c, true);
    engineWrite('a.txt', 'agent');
    engineWrite('new/deep.txt', 'new');
    rmSync(join(volume, 'gone.txt'));
    const back = await returnCopy(c, false);
    expect(back?.applied.sort()).toEqual(['a.txt', 'gone.txt', 'new/deep.txt']);
    expect(readFileSync(join(project, 'a.txt'), 'utf8')).toBe('agent');
    expect(readFileSync(join(project, 'new/deep.txt'), 'utf8')).toBe('new');
    expect(walk(project)).not.toContain('gone.txt');
  });

  it('an answer cut between two entries (lost exec output) brings back nothing and says so; the next trip brings it all', async () => {
    writeFileSync(join(project, 'a.txt'), 'a');
    const c = copy();
    await shipCopy(c, true);
    engineWrite('a.txt', 'agent');
    engineWrite('b.txt', 'made');
    // The return trip's tar ends after its listing: the two changed files never arrive.
    const runtime = c.target.runtime as FakeRuntime;
    runtime.on('runStreamed', async (spec: ContainerSpec, streams: StreamedRun): Promise<RunOutput> => {
      const chunks: Buffer[] = [];
      const result = await fakeEngine(spec, { ...streams, onStdout: (chunk) => void chunks.push(chunk) });
      const all = Buffer.concat(chunks);
      const size = Number.parseInt(all.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
      await streams.onStdout?.(all.subarray(0, 512 + Math.ceil(size / 512) * 512));
      return result;
    });
    await expect(returnCopy(c, false)).rejects.toThrow(
      /answer ended early: 2 changed file\(s\) did not arrive \(a\.txt, b\.txt\); nothing was brought back/,
    );
    expect(readFileSync(join(project, 'a.txt'), 'utf8')).toBe('a');
    // Nothing at all arrives (the whole output lost): said so, not taken for another volume.
    runtime.on(
      'runStreamed',
      async (spec: ContainerSpec, streams: StreamedRun): Promise<RunOutput> =>
        fakeEngine(spec, { ...streams, onStdout: () => undefined }),
    );
    await expect(returnCopy(c, false)).rejects.toThrow(/answer did not arrive .*nothing was brought back/);
    runtime.on('runStreamed', fakeEngine);
    const back = await returnCopy(c, false);
    expect(back?.applied.sort()).toEqual(['a.txt', 'b.txt']);
    expect(readFileSync(join(project, 'b.txt'), 'utf8')).toBe('made');
  });

  it('never overwrites a file changed on both sides: both versions are kept and reported', async () => {
    writeFileSync(join(project, 'f.txt'), 'base');
    writeFileSync(join(project, 'del.txt'), 'base');
    const c = copy();
    await shipCopy(c, true);
    writeFileSync(join(project, 'f.txt'), 'mine');
    writeFileSync(join(project, 'del.txt'), 'mine too');
    engineWrite('f.txt', 'theirs');
    rmSync(join(volume, 'del.txt'));
    const back = (await returnCopy(c, false))!;
    expect(readFileSync(join(project, 'f.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(project, 'f.txt.mino-remote'), 'utf8')).toBe('theirs');
    expect(readFileSync(join(project, 'del.txt'), 'utf8')).toBe('mine too');
    expect(describeReturn(back, 'gpu')).toEqual([
      "Conflict: f.txt changed here and on the engine; yours is kept, the engine's is at f.txt.mino-remote",
      'Conflict: del.txt removed on the engine, changed here: kept here',
    ]);
    // The next shipment sends the local versions back to the engine.
    const next = await shipCopy(c, false);
    expect(next.ship.sent).toBeGreaterThanOrEqual(2);
    expect(readFileSync(join(volume, 'f.txt'), 'utf8')).toBe('mine');
  });

  it('never brings back a change to a protected path, nor writes through a symlink', async () => {
    mkdirSync(join(project, '.git', 'hooks'), { recursive: true });
    writeFileSync(join(project, '.git', 'config'), '[core]\n');
    const outside = join(root, 'outside');
    mkdirSync(outside);
    const c = copy(['.git/hooks', '.git/config']);
    await shipCopy(c, true);
    engineWrite('.git/hooks/pre-commit', 'evil');
    engineWrite('.git/config', '[core]\nfsmonitor = evil\n');
    // Here a symlink out of the project; there a directory with a new file below it.
    symlinkSync(outside, join(project, 'escape'));
    engineWrite('escape/planted', 'x');
    const back = (await returnCopy(c, false))!;
    expect(back.conflicts).toEqual([
      { path: 'escape/planted', why: 'changed on the engine, but the way to it here is not a plain directory' },
    ]);
    expect(back.refused.sort()).toEqual(['.git/config', '.git/hooks/pre-commit']);
    expect(readFileSync(join(project, '.git', 'config'), 'utf8')).toBe('[core]\n');
    expect(readdirSync(join(project, '.git', 'hooks'))).toEqual([]);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('refuses to apply anything from a volume mino did not fill', async () => {
    writeFileSync(join(project, 'a.txt'), 'a');
    const c = copy();
    await shipCopy(c, true);
    writeFileSync(join(volume, '.mino-sync', 'token'), 'someone-else\n');
    rmSync(join(volume, 'a.txt'));
    await expect(returnCopy(c, false)).rejects.toThrow('is not the one mino shipped');
    expect(readFileSync(join(project, 'a.txt'), 'utf8')).toBe('a');
  });
});
