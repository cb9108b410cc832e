import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { controlRequest, serveControl } from '../../../src/network/control.js';
import { egressPathsOf } from '../../../src/network/egress-paths.js';
import { answerHook, readHookRequests } from '../../../src/network/hook-fifo.js';
import { HOOK_SCRIPT, hookDocument } from '../../../src/network/netns-hook.js';
import { newNetworkRecord } from '../../../src/network/network-record.js';
import { openListenerInNetns } from '../../../src/network/proxy/netns-listener.js';
import { connect } from 'node:net';

/**
 * The pieces between podman, the hook and the proxy, on real FIFOs, sockets and processes: the
 * hook script as podman runs it (state JSON on stdin), the FIFO handshake, the control socket, and
 * the listener handed over IPC (with a stand-in for nsenter that enters no namespace).
 */

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mino-hook-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function runHook(state: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', HOOK_SCRIPT, 'mino-egress-hook', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
    child.stdin.end(state);
  });
}

describe('the egress hook and its proxy', () => {
  it('hands the container PID to the proxy and succeeds on ok', async () => {
    const p = egressPathsOf(dir);
    spawnSync('mkfifo', [p.attach, p.attached]);
    const pids: string[] = [];
    const fifo = readHookRequests(p.attach, (line) => {
      pids.push(line);
      void answerHook(p.attached, 'ok');
    });
    try {
      const r = await runHook(
        '{"ociVersion":"1.0.2-dev","id":"abc","status":"creating","pid":4242,"bundle":"/x","annotations":{"x":"\\"pid\\":1"}}',
      );
      expect(r).toEqual({ code: 0, stderr: '' });
      expect(pids).toEqual(['4242']);
    } finally {
      fifo.destroy();
    }
  });

  it("fails the container with the proxy's reason", async () => {
    const p = egressPathsOf(dir);
    spawnSync('mkfifo', [p.attach, p.attached]);
    const fifo = readHookRequests(p.attach, () => void answerHook(p.attached, 'cannot listen: EADDRINUSE'));
    try {
      const r = await runHook('{"pid": 77}');
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('mino: cannot listen: EADDRINUSE\n');
    } finally {
      fifo.destroy();
    }
  });

  it('fails when the session was never prepared or the state has no pid', async () => {
    expect(await runHook('{"pid":5}')).toMatchObject({ code: 1, stderr: expect.stringContaining('not prepared') });
    expect(await runHook('{"status":"creating"}')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no pid'),
    });
  });

  it('is configured for podman as a createRuntime hook of this session only', () => {
    const doc = JSON.parse(hookDocument('/run/x/egress/0123456789abcdef')) as {
      hook: { path: string; args: string[]; timeout: number };
      when: unknown;
      stages: string[];
    };
    expect(doc).toMatchObject({ version: '1.0.0', when: { always: true }, stages: ['createRuntime'] });
    expect(doc.hook.path).toBe('/bin/sh');
    expect(doc.hook.args.slice(-2)).toEqual(['mino-egress-hook', '/run/x/egress/0123456789abcdef']);
    expect(doc.hook.timeout).toBeGreaterThan(0);
  });
});

describe('the control socket', () => {
  it('answers one JSON request per connection', async () => {
    const path = join(dir, 'control.sock');
    const record = newNetworkRecord('s1', 'allowlist', { mode: 'allowlist', allow: ['a.test:1'], deny: [] }, []);
    const server = await serveControl(path, (req) =>
      req.op === 'status' ? { ok: true, policy: record.policy, record } : { ok: false, error: `unsupported ${req.op}` },
    );
    try {
      expect(await controlRequest(path, { op: 'status' })).toEqual({ ok: true, policy: record.policy, record });
      expect(await controlRequest(path, { op: 'finish' })).toEqual({ ok: false, error: 'unsupported finish' });
    } finally {
      server.close();
    }
    await expect(controlRequest(join(dir, 'none.sock'), { op: 'status' })).rejects.toThrow(
      'the egress proxy is not running',
    );
  });
});

describe('the listener handed over IPC', () => {
  it('listens in the child and serves in this process', async () => {
    // Stands in for nsenter: drops its namespace options and runs the rest.
    const fake = join(dir, 'nsenter');
    writeFileSync(fake, '#!/bin/sh\nwhile [ "$1" != -- ]; do shift; done\nshift\nexec "$@"\n', { mode: 0o755 });
    const server = await openListenerInNetns({
      pid: process.pid,
      rootless: false,
      host: '127.0.0.1',
      port: 0,
      nsenter: fake,
    });
    try {
      server.on('connection', (s) => s.end(`served by ${process.pid}`));
      const port = (server.address() as { port: number }).port;
      const text = await new Promise<string>((resolve) => {
        let out = '';
        connect(port, '127.0.0.1')
          .on('data', (d) => (out += d.toString()))
          .on('close', () => resolve(out));
      });
      expect(text).toBe(`served by ${process.pid}`);
    } finally {
      server.close();
    }
  });

  it('reports a listener that cannot start', async () => {
    const fake = join(dir, 'nsenter');
    writeFileSync(fake, '#!/bin/sh\necho "nsenter: cannot open /proc/1/ns/net: Permission denied" >&2\nexit 1\n', {
      mode: 0o755,
    });
    await expect(
      openListenerInNetns({ pid: 1, rootless: true, host: '127.0.0.1', port: 0, nsenter: fake }),
    ).rejects.toThrow(/Permission denied/);
  });
});
