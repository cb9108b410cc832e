import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { controlRequest } from '../../../src/network/control.js';
import type { EgressSecrets } from '../../../src/network/egress-secrets.js';
import { runRemoteEgressProxy } from '../../../src/network/proxy/remote-proxy-main.js';
import { createSessionCa } from '../../../src/network/proxy/tls-ca.js';
import { remoteControlCommand, runRemoteControl } from '../../../src/network/remote-control.js';
import {
  lastRecord,
  warmNetworkOf,
  type RemoteControlRequest,
  type RemoteControlResponse,
} from '../../../src/network/remote-proxy-protocol.js';

/**
 * A remote session's proxy in this process (on 127.0.0.1 standing in for its address in the
 * session's network): it takes its secrets over its control socket and listens only then;
 * live policy changes; the `--control` end that `podman exec` runs.
 */

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function answersOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Sends a raw request through the proxy and returns the answer's text. */
function through(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (out += d));
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(out));
    setTimeout(() => socket.destroy(), 3000);
  });
}

const placeholder = 'mino-proxy-managed-api_key-0123456789abcdef';
let dir = '';
afterEach(() => {
  vi.restoreAllMocks();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts runRemoteEgressProxy in this process with `launch` (its port added: a free one) and a
 * control socket in a fresh temporary directory; what it prints to stdout is captured in `lines`.
 */
async function startProxyUnderTest(launch: Record<string, unknown>): Promise<{
  controlPath: string;
  port: number;
  lines: string[];
  ask: (req: RemoteControlRequest) => Promise<RemoteControlResponse>;
  stop: () => Promise<void>;
}> {
  dir = mkdtempSync(join(tmpdir(), 'mino-remote-proxy-'));
  const controlPath = join(dir, 'control.sock');
  const port = await freePort();
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  });
  const abort = new AbortController();
  const running = runRemoteEgressProxy(
    { MINO_EGRESS_LAUNCH: JSON.stringify({ ...launch, port }) },
    { controlPath, signal: abort.signal },
  );
  return {
    controlPath,
    port,
    lines,
    ask: (req) => controlRequest<RemoteControlRequest, RemoteControlResponse>(controlPath, req),
    stop: async () => {
      abort.abort();
      await running;
    },
  };
}

describe('the proxy of a remote session that terminates TLS', () => {
  it('takes its secrets once over its control socket, listens only then, and changes its policy live', async () => {
    const { port, lines, ask, stop } = await startProxyUnderTest({
      session: 's1',
      policy: { mode: 'allowlist', allow: ['api.example.com:443', 'other.example:80'], deny: [] },
      presets: [],
      subnet: '127.0.0.0/8',
      secrets: true,
    });
    // Its control socket comes first; it does not listen before its secrets came.
    for (let i = 0; i < 100 && !(await ask({ op: 'status' }).catch(() => undefined)); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(await answersOn(port)).toBe(false);
    expect(lines.join('')).not.toContain('ready');

    const secrets: EgressSecrets = {
      version: 1,
      ca: createSessionCa('s1'),
      credentials: [
        {
          variable: 'API_KEY',
          placeholder,
          value: 'sk-REAL',
          hosts: ['api.example.com'],
          header: 'authorization',
          prefix: 'Bearer ',
          add: true,
        },
      ],
      upstreamCa: [],
    };
    expect(await ask({ op: 'secrets', secrets })).toMatchObject({ ok: true });
    expect(lines.join('')).toContain(`ready 127.0.0.1:${port}`);
    expect(await answersOn(port)).toBe(true);
    // Once only.
    expect(await ask({ op: 'secrets', secrets })).toMatchObject({ ok: false });
    // The credential is taken: its placeholder sent to another allowed host is refused, not sent.
    const leak = await through(
      port,
      `GET http://other.example/ HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\nX-T: ${placeholder}\r\n\r\n`,
    );
    expect(leak).toMatch(/^HTTP\/1\.1 403/);
    expect(leak).toContain('API_KEY');

    // A live change: in force when the answer comes, and printed in a record line.
    const denied = await ask({ op: 'deny', rules: ['other.example:80'] });
    expect(denied).toMatchObject({ ok: true, policy: { deny: ['other.example:80'] } });
    expect(lines.filter((l) => l.startsWith('record ')).at(-1)).toContain('"deny":["other.example:80"]');
    expect(
      await through(port, 'GET http://other.example/ HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n'),
    ).toMatch(/^HTTP\/1\.1 403/);
    expect(await ask({ op: 'allow', rules: ['not a rule'] })).toMatchObject({ ok: false });

    await stop();
    expect(lines.filter((l) => l.startsWith('record ')).at(-1)).toMatch(/"ended_at":"\d/);
  });

  it('the --control end passes one stdin line to the socket and exits 0 only when the proxy took it', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const {
      controlPath,
      lines: out,
      stop,
    } = await startProxyUnderTest({
      session: 's1',
      policy: { mode: 'allowlist', allow: [], deny: [] },
      presets: [],
      subnet: '127.0.0.0/8',
    });
    const allow = JSON.stringify({ op: 'allow', rules: ['b.example:443'] });
    expect(await runRemoteControl(Readable.from([`${allow}\n`]), controlPath)).toBe(0);
    expect(out.join('')).toContain('"allow":["b.example:443"]');
    // A proxy without secrets in its launch takes none.
    const secrets = JSON.stringify({ op: 'secrets', secrets: { version: 1, credentials: [], upstreamCa: [] } });
    expect(await runRemoteControl(Readable.from([`${secrets}\n`]), controlPath)).toBe(1);
    expect(await runRemoteControl(Readable.from(['']), controlPath)).toBe(1);
    // The bundle's image runs the same end as a script of its Node (quicker than loading mino).
    const [, flag, script] = remoteControlCommand(['/opt/mino/node', '/opt/mino/mino.cjs', '_egress-proxy-remote']);
    expect(flag).toBe('-e');
    // Not spawnSync: the proxy answering it runs in this process.
    const viaNode = (input: string): Promise<{ status: number | null; stdout: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['-e', script!, controlPath], { stdio: ['pipe', 'pipe', 'ignore'] });
        let stdout = '';
        child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
        child.on('close', (status) => resolve({ status, stdout }));
        child.stdin.end(input);
      });
    const deny = await viaNode(`${JSON.stringify({ op: 'deny', rules: ['c.example:443'] })}\n`);
    expect(deny.status).toBe(0);
    expect(JSON.parse(deny.stdout)).toMatchObject({ ok: true, policy: { deny: ['c.example:443'] } });
    expect((await viaNode(`${secrets}\n`)).status).toBe(1);
    expect((await viaNode('')).status).toBe(1);
    expect(remoteControlCommand(['/opt/mino/mino', '_egress-proxy-remote'])).toEqual([
      '/opt/mino/mino',
      '_egress-proxy-remote',
      '--control',
    ]);
    await stop();
  });

  it('a warm proxy names its network, allows nothing until one claim hands it a session and its policy', async () => {
    const { port, lines, ask, stop } = await startProxyUnderTest({
      session: 'mino.warm.0123456789ab.cafe0001',
      policy: { mode: 'allowlist', allow: [], deny: [] },
      presets: [],
      subnet: '127.0.0.0/8',
      warm: { network: 'mino-egress-net-0123456789abcdef', ttlSeconds: 600 },
    });
    for (let i = 0; i < 100 && !lines.join('').includes('ready'); i++) await new Promise((r) => setTimeout(r, 20));
    const output = (): string => lines.join('');
    expect(warmNetworkOf(output())).toBe('mino-egress-net-0123456789abcdef');
    const get = 'GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n';
    expect(await through(port, get)).toMatch(/^HTTP\/1\.1 403/);
    const policy = { mode: 'allowlist' as const, allow: ['b.example:80'], deny: [] };
    expect(await ask({ op: 'claim', session: 'bad name', policy, presets: [] })).toMatchObject({ ok: false });
    expect(await ask({ op: 'claim', session: 'run1', policy, presets: [] })).toMatchObject({
      ok: true,
      policy: { allow: ['b.example:80'] },
      record: { session: 'run1' },
    });
    // Once only: a second run never gets this proxy.
    expect(await ask({ op: 'claim', session: 'run2', policy, presets: [] })).toMatchObject({ ok: false });
    // The session's record from the claim on: the warm proxy's denial is not in it.
    const denied = await through(port, get);
    expect(denied).toMatch(/^HTTP\/1\.1 403/);
    expect(denied).toContain('mino network allow run1');
    await stop();
    const last = lastRecord(output());
    expect(last).toMatchObject({ session: 'run1', policy: { allow: ['b.example:80'] } });
    expect(last?.destinations).toMatchObject([{ destination: 'a.example:80', denied: 1 }]);
    // A cold session's proxy names no warm network.
    expect(warmNetworkOf('ready 10.89.3.2:3128\nnetwork not-a-mino-net')).toBeUndefined();
  });
});
