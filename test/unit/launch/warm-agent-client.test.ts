import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { agentSocketProblem, runThroughAgent, type AgentIo } from '../../../src/launch/warm-agent-client.js';
import { encodeFrame, FrameReader } from '../../../src/launch/warm-agent-frames.js';
import { EXEC_WRAPPER_SCRIPT } from '../../../src/pool/pool-scripts.js';
import { WARM_AGENT_SCRIPT } from '../../../src/pool/warm-agent-script.js';
import { waitFor } from '../../helpers/wait-for.js';

// The warm agent program run by this machine's Node on a socket in a temporary directory, and the
// client that mino runs against it: everything but the container around them.

const dirs: string[] = [];
const agents: ChildProcess[] = [];
const servers: Server[] = [];

afterEach(() => {
  for (const a of agents.splice(0)) a.kill('SIGKILL');
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mino-agent-'));
  dirs.push(d);
  return d;
}

async function startAgent(ttlSeconds = 60): Promise<{ dir: string; agent: ChildProcess }> {
  const dir = tempDir();
  writeFileSync(join(dir, 'agent.js'), WARM_AGENT_SCRIPT);
  // The PID file of podman exec runs: this test's own, never the machine's /dev/shm one.
  const agent = spawn(process.execPath, [join(dir, 'agent.js'), dir, String(ttlSeconds), join(dir, 'exec.pid')], {
    stdio: 'ignore',
  });
  agents.push(agent);
  await waitFor(() => existsSync(join(dir, 'sock')), 5000);
  return { dir, agent };
}

class Signals {
  readonly handlers = new Map<string, (s: NodeJS.Signals) => void>();
  on(s: NodeJS.Signals, h: (s: NodeJS.Signals) => void): void {
    this.handlers.set(s, h);
  }
  off(s: NodeJS.Signals): void {
    this.handlers.delete(s);
  }
  send(s: NodeJS.Signals): void {
    this.handlers.get(s)?.(s);
  }
}

function io(input = ''): AgentIo & { out: () => string; err: () => string; signals: Signals } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  stdout.on('data', (d: Buffer) => o.push(d));
  stderr.on('data', (d: Buffer) => e.push(d));
  return {
    stdin: Readable.from([Buffer.from(input)]),
    stdout,
    stderr,
    signals: new Signals(),
    out: () => Buffer.concat(o).toString(),
    err: () => Buffer.concat(e).toString(),
  };
}

const wrapped = (...argv: string[]): string[] => ['/bin/sh', '-c', EXEC_WRAPPER_SCRIPT, 'mino', ...argv];

describe('warm agent', () => {
  it('runs a command: its output, its exit code, its stdin', async () => {
    const { dir } = await startAgent();
    const t = io('hello from stdin\n');
    const outcome = await runThroughAgent(
      join(dir, 'sock'),
      { argv: wrapped('sh', '-c', 'cat; echo to-err >&2; exit 7'), interactive: true },
      t,
    );
    expect(outcome).toEqual({ kind: 'exited', exitCode: 7 });
    expect(t.out()).toBe('hello from stdin\n');
    expect(t.err()).toBe('to-err\n');
  });

  it('exits 127 and 126 as a cold run does', async () => {
    const a = await startAgent();
    const t = io();
    expect(await runThroughAgent(join(a.dir, 'sock'), { argv: wrapped('no-such-cmd'), interactive: false }, t)).toEqual(
      {
        kind: 'exited',
        exitCode: 127,
      },
    );
    expect(t.err()).toContain('Error: command not found in the image: no-such-cmd');
    const b = await startAgent();
    expect(
      await runThroughAgent(join(b.dir, 'sock'), { argv: wrapped('/etc/passwd'), interactive: false }, io()),
    ).toEqual({ kind: 'exited', exitCode: 126 });
  });

  it('hands SIGINT to the command (130), a second signal kills it', async () => {
    const { dir } = await startAgent();
    const t = io();
    const run = runThroughAgent(join(dir, 'sock'), { argv: wrapped('sleep', '30'), interactive: false }, t);
    await waitFor(() => t.signals.handlers.size === 3);
    await new Promise((r) => setTimeout(r, 200));
    t.signals.send('SIGINT');
    expect(await run).toEqual({ kind: 'exited', exitCode: 130 });
    const b = await startAgent();
    const u = io();
    const run2 = runThroughAgent(
      join(b.dir, 'sock'),
      { argv: wrapped('sh', '-c', 'trap "" INT TERM; sleep 30 & wait; sleep 30'), interactive: false },
      u,
    );
    await waitFor(() => u.signals.handlers.size === 3);
    await new Promise((r) => setTimeout(r, 200));
    u.signals.send('SIGTERM');
    u.signals.send('SIGTERM');
    expect(await run2).toEqual({ kind: 'exited', exitCode: 137 });
  });

  it('serves one run only: the agent ends after it', async () => {
    const { dir, agent } = await startAgent();
    await runThroughAgent(join(dir, 'sock'), { argv: ['true'], interactive: false }, io());
    await waitFor(() => agent.exitCode !== null, 5000);
    expect(existsSync(join(dir, 'sock'))).toBe(false);
  });

  it('asked to linger after its run: stops listening at once, keeps its container until a signal', async () => {
    const { dir, agent } = await startAgent();
    const asked: string[] = [];
    const outcome = await runThroughAgent(
      join(dir, 'sock'),
      { argv: ['true'], interactive: false },
      {
        ...io(),
        lingerSeconds: () => {
          asked.push('asked');
          return 30;
        },
      },
    );
    expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(asked).toEqual(['asked']);
    await waitFor(() => !existsSync(join(dir, 'sock')), 5000);
    // Well past the 0.1 s after which an agent not asked to linger has ended.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(agent.exitCode).toBeNull();
    agent.kill('SIGTERM');
    await waitFor(() => agent.exitCode !== null, 5000);
    expect(agent.exitCode).toBe(0);
  });

  it('after its run it waits for a slow client to hang up before it exits', async () => {
    const { dir, agent } = await startAgent();
    // Half-open: it has not read the agent's end yet, as a client that the machine keeps waiting.
    const conn = createConnection({ path: join(dir, 'sock'), allowHalfOpen: true });
    const reader = new FrameReader();
    const types: string[] = [];
    conn.on('data', (d: Buffer) => {
      for (const f of reader.push(d)) {
        types.push(f.type);
        if (f.type === 'H') conn.write(encodeFrame('R', { argv: ['true'] }));
      }
    });
    await waitFor(() => types.includes('Q'), 5000);
    // A client on a busy machine that has not hung up yet: the agent is still there for it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(agent.exitCode).toBeNull();
    conn.end(encodeFrame('E', ''));
    await waitFor(() => agent.exitCode !== null, 5000);
    expect(types).toEqual(['H', 'P', 'Q']);
  });

  it('a stale, missing, foreign or silent socket is unavailable (nothing ran)', async () => {
    const { dir, agent } = await startAgent();
    agent.kill('SIGKILL');
    await waitFor(() => agent.exitCode !== null || agent.signalCode !== null);
    // The socket file is left behind by the killed agent: stale.
    expect(await runThroughAgent(join(dir, 'sock'), { argv: ['true'], interactive: false }, io())).toMatchObject({
      kind: 'unavailable',
    });
    expect(agentSocketProblem(join(dir, 'nothing'))).toBe('no agent socket');
    const other = tempDir();
    symlinkSync(join(dir, 'sock'), join(other, 'sock'));
    expect(agentSocketProblem(join(other, 'sock'))).toBe('the agent socket is not a socket');
    expect(agentSocketProblem(join(dir, 'sock'), 4242)).toMatch(/belongs to uid/);
    const silent = tempDir();
    const server = createServer(() => undefined);
    servers.push(server);
    await new Promise<void>((r) => server.listen(join(silent, 'sock'), r));
    const outcome = await runThroughAgent(
      join(silent, 'sock'),
      { argv: ['true'], interactive: false },
      { ...io(), helloTimeoutMs: 200 },
    );
    expect(outcome).toEqual({ kind: 'unavailable', reason: 'no answer from the agent in 200 ms' });
  });

  it('an agent that dies mid-run is one clear error, never a second run', async () => {
    const { dir, agent } = await startAgent();
    const t = io();
    const pidFile = join(dir, 'cmd.pid');
    const run = runThroughAgent(
      join(dir, 'sock'),
      { argv: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], interactive: false },
      t,
    );
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
    agent.kill('SIGKILL');
    await expect(run).rejects.toThrow(/agent ended before the command did/);
    // The command outlived its agent (in a container, the container goes with it).
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
  });
});

describe('warm agent lifetime', () => {
  it('unclaimed, it ends after its time to live; a run outlives it', async () => {
    const idle = await startAgent(1);
    await waitFor(() => idle.agent.exitCode !== null, 5000);
    const busy = await startAgent(1);
    const t = io();
    const outcome = await runThroughAgent(
      join(busy.dir, 'sock'),
      { argv: ['sh', '-c', 'sleep 1.6; echo still-here'], interactive: false },
      t,
    );
    expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(t.out()).toBe('still-here\n');
  });

  it('serves a second connection (mino exec) while the first run goes on', async () => {
    const { dir } = await startAgent();
    const first = io();
    const run = runThroughAgent(
      join(dir, 'sock'),
      { argv: ['sh', '-c', 'sleep 0.5; echo main'], interactive: false },
      first,
    );
    const second = io();
    expect(
      await runThroughAgent(join(dir, 'sock'), { argv: ['sh', '-c', 'echo exec; exit 2'], interactive: false }, second),
    ).toEqual({
      kind: 'exited',
      exitCode: 2,
    });
    expect(second.out()).toBe('exec\n');
    expect(await run).toEqual({ kind: 'exited', exitCode: 0 });
    expect(first.out()).toBe('main\n');
  });
});
