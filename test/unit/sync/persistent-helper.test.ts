import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ContainerSpec, RunOutput, StreamedRun } from '../../../src/runtime/container-runtime.js';
import { ConflictError } from '../../../src/runtime/runtime-errors.js';
import { HELPER_MAIN, helperExecScript } from '../../../src/sync/helper-exec.js';
import {
  helperIdleSeconds,
  persistentHelperName,
  removePersistentHelpers,
} from '../../../src/sync/persistent-helper.js';
import { runHelper, type SyncTarget } from '../../../src/sync/sync-helper.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';

/**
 * The persistent sync helper of a project copy (src/sync/persistent-helper.ts) on the recording
 * fake runtime: which podman calls a trip makes when the helper is alive, gone, or started by
 * another mino at once; and its main loop (src/sync/helper-exec.ts), run by a real sh.
 */

let root: string;
let runtime: FakeRuntime;
let target: SyncTarget;
let record: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mino-helper-'));
  record = join(root, 'sync', 'gpu--mino-project-x.json.helper');
  runtime = new FakeRuntime();
  runtime.addImage('img');
  target = {
    runtime,
    engine: 'gpu',
    volume: 'mino-project-x',
    image: 'img',
    labels: { 'io.mino.state': 'k' },
    persistent: { record },
  };
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(root, { recursive: true, force: true });
});

async function drain(input: AsyncIterable<Uint8Array> | undefined): Promise<string> {
  let text = '';
  for await (const chunk of input ?? []) text += Buffer.from(chunk).toString();
  return text;
}

/** A live helper: says it runs, takes the input, answers `out` + what it got. */
function liveExec(): void {
  runtime.on('execStreamed', async (_id: string, _argv: string[], streams: StreamedRun): Promise<RunOutput> => {
    await streams.onStdout?.(Buffer.from('mino-sync-ready\n'));
    const got = await drain(streams.input);
    await streams.onStdout?.(Buffer.from(`got ${got}`));
    return { stdout: '', stderr: '', exitCode: 0 };
  });
}

/** A trip with `input`; returns its output. */
async function trip(input = 'tar'): Promise<string> {
  let out = '';
  await runHelper(target, 'Shipping', 'cat', ['a'], {
    input: (async function* () {
      yield Buffer.from(input);
    })(),
    onStdout: (chunk) => {
      out += chunk.toString();
    },
  });
  return out;
}

describe('persistent sync helper', () => {
  it('the first trip starts it detached and execs into it; the next trip only execs (no container start)', async () => {
    liveExec();
    expect(await trip('one')).toBe('got one');
    expect(runtime.callNames()).toEqual(['run', 'execStreamed']);
    const [[spec]] = runtime.callsTo('run') as [[ContainerSpec]];
    const name = persistentHelperName('mino-project-x', 'img');
    expect(spec).toMatchObject({
      name,
      image: 'img',
      user: '0:0',
      network: 'none',
      autoRemove: true,
      securityOpt: ['no-new-privileges'],
      mounts: [{ source: 'mino-project-x', target: '/mino-project' }],
      labels: { 'io.mino.state': 'k', 'io.mino.sync': 'mino-project-x', 'io.mino.sync.helper': '1' },
    });
    expect(spec.command.slice(0, 3)).toEqual(['sh', '-c', HELPER_MAIN]);
    expect(spec.command.slice(4)).toEqual(['0', '60']);
    expect(runtime.callsTo('execStreamed')[0]?.[0]).toBe(name);
    expect(JSON.parse(readFileSync(record, 'utf8'))).toMatchObject({ name });
    runtime.clearCalls();
    expect(await trip('two')).toBe('got two');
    expect(runtime.callNames()).toEqual(['execStreamed']);
    // Another image: another helper (the old one idles out).
    expect(persistentHelperName('mino-project-x', 'img2')).not.toBe(name);
    expect(name).toMatch(/^mino\.sync\.[0-9a-f]{20}$/);
  });

  it("a gone helper costs one failed exec, ended by podman's error, not by the 3 s deadline; then one is started", async () => {
    liveExec();
    await trip();
    runtime.clearCalls();
    // Fake timers: the ready deadline never fires, so only podman's error can end the first exec.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let first = true;
    runtime.on('execStreamed', async (_id, _argv, streams) => {
      if (first) {
        first = false;
        streams.onStderr?.(Buffer.from('Error: no container with name or ID "x" found: no such container\n'));
        expect(await drain(streams.input)).toBe(''); // it got nothing of the trip's input
        return { stdout: '', stderr: 'Error: no container', exitCode: 125 };
      }
      await streams.onStdout?.(Buffer.from('mino-sync-ready\n'));
      await drain(streams.input);
      return { stdout: '', stderr: '', exitCode: 0 };
    });
    await trip();
    expect(runtime.callNames()).toEqual(['execStreamed', 'run', 'execStreamed']);
  });

  it('two mino processes starting it at once converge: a name already taken means the other one is used', async () => {
    liveExec();
    runtime.failWith('run', new ConflictError('name in use', { engineExitCode: 125, stderr: 'already in use' }));
    expect(await trip('x')).toBe('got x');
    expect(runtime.callNames()).toEqual(['run', 'execStreamed']);
  });

  it('a helper that cannot take the trip (closing, engine refuses) leaves the trip to a container of its own', async () => {
    // The script ends at once: the helper was closing (fake timers: its error ends the wait).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    runtime.on('execStreamed', async (_id, _argv, streams) => {
      streams.onStderr?.(Buffer.from('Error: this sync helper is closing\n'));
      await drain(streams.input);
      return { stdout: '', stderr: '', exitCode: 75 };
    });
    let sent = '';
    runtime.on('runStreamed', async (_spec, streams) => {
      sent = await drain(streams.input);
      return { stdout: '', stderr: '', exitCode: 0 };
    });
    await trip('whole');
    expect(runtime.callNames()).toEqual(['run', 'execStreamed', 'runStreamed']);
    expect(sent).toBe('whole');
    expect(existsSync(record)).toBe(false);
  });

  it('engine remove finds them by label, asking the engine only when a record says one may run', async () => {
    const where = { stateKey: 'k', stateDir: root, engine: 'gpu' };
    expect(await removePersistentHelpers(runtime, where)).toBe(0);
    expect(runtime.callNames()).toEqual([]);
    liveExec();
    await trip();
    expect(runtime.containers.map((c) => c.name)).toEqual([persistentHelperName('mino-project-x', 'img')]);
    expect(await removePersistentHelpers(runtime, { ...where, engine: 'other' })).toBe(0);
    expect(await removePersistentHelpers(runtime, where)).toBe(1);
    expect(runtime.containers).toEqual([]);
  });

  it('idle time: 60 s, or MINO_SYNC_HELPER_IDLE when valid', () => {
    expect(helperIdleSeconds({})).toBe(60);
    expect(helperIdleSeconds({ MINO_SYNC_HELPER_IDLE: '2' })).toBe(2);
    for (const bad of ['0', '-1', '1e3', 'x', '99999', ' 5'])
      expect(helperIdleSeconds({ MINO_SYNC_HELPER_IDLE: bad })).toBe(60);
  });
});

describe('the helper main loop (real sh)', () => {
  /** The scripts with their /tmp marks in a directory of the test's own. */
  const local = (script: string, dir: string): string => script.replaceAll('/tmp/', `${dir}/`);

  function start(dir: string, idle: number): { exited: Promise<number | null>; kill: () => void } {
    const child = spawn('sh', ['-c', local(HELPER_MAIN, dir), 'main', '0', String(idle)], { stdio: 'ignore' });
    return {
      exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
      kill: () => child.kill('SIGKILL'),
    };
  }

  it('ends after its idle time without trips, stays while a trip runs, and a script finding it closing does nothing', async () => {
    const dir = join(root, 'tmp');
    mkdirSync(dir);
    // No trip: it ends by itself.
    expect(await start(dir, 1).exited).toBe(0);
    // A trip that runs (a live mark): it stays past its idle time, then ends after the trip.
    const trip = spawn('sh', ['-c', `${local('true > "/tmp/mino-sync.$$"', dir)}; sleep 3`], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    const main = start(dir, 1);
    let ended = false;
    void main.exited.then(() => {
      ended = true;
    });
    await new Promise((r) => setTimeout(r, 2300));
    expect(ended).toBe(false);
    expect(await main.exited).toBe(0);
    trip.kill();
    // Closing: a script exec'd now ends at once (75) without saying it runs.
    writeFileSync(join(dir, 'mino-sync-closing'), '');
    const late = spawnSync('sh', ['-c', local(helperExecScript('echo work'), dir)], { encoding: 'utf8' });
    expect(late.status).toBe(75);
    expect(late.stdout).toBe('');
    expect(late.stderr).toMatch(/^Error: /);
    rmSync(join(dir, 'mino-sync-closing'));
    const onTime = spawnSync('sh', ['-c', local(helperExecScript('echo work'), dir)], { encoding: 'utf8' });
    expect(onTime.stdout).toBe('mino-sync-ready\nwork\n');
  }, 15_000);
});
