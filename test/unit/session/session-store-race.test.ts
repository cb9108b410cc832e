import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSessionRecord, serializeSessionRecord, type SessionStatus } from '../../../src/session/session-record.js';
import { SessionStore } from '../../../src/session/session-store.js';

/**
 * Several real processes race to create the same session names. Node 20 cannot run the
 * TypeScript sources directly (no type stripping, no tsx), and dist/ is one bundle without
 * exports, so the test bundles src/session (esbuild, already installed as tsup's engine) into
 * a temporary ES module that a plain-JS child (race-child.mjs) imports: the children run
 * exactly the store code under test, in separate processes, with no lock shared in memory.
 */

const CHILDREN = 6;
const NAMES = 120;

interface ChildResult {
  wins: { name: string; id: string }[];
  errors: string[];
}

let work: string;
let bundle: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'mino-session-race-'));
  bundle = join(work, 'session-store.mjs');
  const entry = join(work, 'entry.ts');
  const src = fileURLToPath(new URL('../../../src/session/', import.meta.url));
  writeFileSync(
    entry,
    `export * from ${JSON.stringify(join(src, 'session-store.ts'))};\nexport * from ${JSON.stringify(join(src, 'session-record.ts'))};\n`,
  );
  buildSync({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile: bundle,
    logLevel: 'silent',
  });
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function seed(stateDir: string, name: string, status: SessionStatus): string {
  const r = newSessionRecord({
    name,
    projectDir: '/old',
    command: ['old'],
    containerId: null,
    status,
    ownerPid: 1,
    mode: 'command',
  });
  writeFileSync(join(stateDir, 'sessions', `${name}.json`), serializeSessionRecord(r), { mode: 0o600 });
  return r.id;
}

function start(stateDir: string): Promise<{ child: ChildProcess; result: Promise<ChildResult> }> {
  const child = fork(fileURLToPath(new URL('race-child.mjs', import.meta.url)), [bundle, stateDir], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    child.once('message', () => {
      const result = new Promise<ChildResult>((res, rej) => {
        child.removeAllListeners('exit');
        child.once('message', (m) => res(m as ChildResult));
        child.once('exit', (code) => rej(new Error(`child exited with ${code} before reporting`)));
      });
      resolve({ child, result });
    });
  });
}

describe('concurrent create from several processes', () => {
  it('gives every free or finished name to exactly one process, and an active one to none', async () => {
    const stateDir = join(work, 'state');
    mkdirSync(join(stateDir, 'sessions'), { recursive: true, mode: 0o700 });
    const names = Array.from({ length: NAMES }, (_, i) => `race-${i}`);
    const kind = (i: number): 'free' | SessionStatus => (['free', 'stopped', 'failed', 'running'] as const)[i % 4]!;
    const runningIds = new Map<string, string>();
    names.forEach((name, i) => {
      const k = kind(i);
      if (k === 'running') runningIds.set(name, seed(stateDir, name, k));
      else if (k !== 'free') seed(stateDir, name, k);
    });

    const children = await Promise.all(Array.from({ length: CHILDREN }, () => start(stateDir)));
    for (const { child } of children) child.send({ names }); // all are loaded and waiting: go
    const results = await Promise.all(children.map((c) => c.result));

    expect(results.flatMap((r) => r.errors)).toEqual([]);
    const winners = new Map<string, string[]>();
    for (const r of results) for (const w of r.wins) winners.set(w.name, [...(winners.get(w.name) ?? []), w.id]);
    const store = new SessionStore(stateDir);
    const wrong: string[] = [];
    names.forEach((name, i) => {
      const ids = winners.get(name) ?? [];
      const onDisk = store.get(name)?.id;
      if (kind(i) === 'running') {
        if (ids.length !== 0 || onDisk !== runningIds.get(name))
          wrong.push(`${name}: active session was replaced (${ids.length} winners)`);
      } else if (ids.length !== 1 || onDisk !== ids[0]) {
        wrong.push(`${name} (${kind(i)}): ${ids.length} winners, file holds ${onDisk}`);
      }
    });
    expect(wrong).toEqual([]);
    expect(readdirSync(join(stateDir, 'sessions')).filter((f) => f.startsWith('.'))).toEqual([]); // no lock or temp left
    expect(store.list().warnings).toEqual([]);
  });
});
