import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { MODES, Sandbox, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import { ensureGitCurlImage } from './git-curl-image.js';
import { probeResults, startHostServers, type HostServers } from './network-helpers.js';

requirePrerequisites();

/**
 * HTTPS rules on method and path end to end, on real Podman (rootful and rootless): a session
 * allowed `GET host.containers.internal:T/t1` only reaches a local HTTPS server (its certificate
 * from a throwaway CA, given to mino as network.upstream_ca) through the proxy, which terminates
 * TLS with the session's CA (trusted inside) and judges each request: the GET passes, a POST on
 * the same connection's host and another path get 403, are recorded and audited, and never reach
 * the server. Rootful on mino-base (curl verifies the session CA); rootless on a busybox image
 * with the host's curl and git (git-curl-image.ts): BusyBox's ssl_client through CONNECT (which
 * does not verify), and curl for the domain-fronting case.
 */

const BASE = 'localhost/mino-base:latest';

let servers: HostServers;
beforeAll(async () => {
  servers = await startHostServers();
});
afterAll(async () => {
  await servers?.close();
});

/** busybox: one HTTPS request through CONNECT and ssl_client (METHOD PATH PORT). */
const BUSYBOX_TLS = `#!/bin/sh
printf 'CONNECT host.containers.internal:%s HTTP/1.1\\r\\n\\r\\n' "$3"
read -r status
case "$status" in *" 200 "*) ;; *) echo "connect $status" > /tmp/tls-out; exit 1;; esac
while read -r l; do [ -z "$(echo "$l" | tr -d '\\r')" ] && break; done
exec 3<&0
printf '%s %s HTTP/1.0\\r\\nHost: host.containers.internal:%s\\r\\nContent-Length: 0\\r\\n\\r\\n' "$1" "$2" "$3" | ssl_client -s 3 -n host.containers.internal > /tmp/tls-out 2>&1
`;

describe.each(MODES)('HTTPS rules on method and path, through the terminating proxy [%s]', (as) => {
  const rootful = modeLabel(as) === 'rootful';
  let box: Sandbox;
  let probeDir = '';
  afterAll(() => {
    box?.cleanup();
    if (probeDir) rmSync(probeDir, { recursive: true, force: true });
  });

  it('an allowed GET passes; a POST and another path get 403, a record and an audit event, and never reach the server', async () => {
    box = new Sandbox(as);
    const project = box.project('proj');
    if (rootful && podmanAs(as, ['image', 'exists', BASE]).status !== 0)
      throw new Error("mino-base is not built: run 'bin/mino setup --yes' before the integration tests");
    const image = rootful ? BASE : ensureGitCurlImage(as);
    const configDir = join(box.env.XDG_CONFIG_HOME as string, 'mino');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, 'config.toml'), `[network]\nupstream_ca = ["${join(servers.caDir, 'ca.pem')}"]\n`, {
      mode: 0o644,
    });
    probeDir = mkdtempSync(join(tmpdir(), 'mino-test-l7-'));
    chmodSync(probeDir, 0o755);
    writeFileSync(join(probeDir, 'tls.sh'), BUSYBOX_TLS, { mode: 0o755 });
    const T = servers.tls;
    const url = (path: string): string => `https://host.containers.internal:${T}${path}`;
    // Domain fronting: the allowed host's TLS, a Host header naming another.
    const front = `echo "front=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -H 'Host: evil.example' ${url('/t1')})"`;
    const script = rootful
      ? [
          `echo "get=$(curl -sS -m 10 ${url('/t1')})"`,
          `echo "post=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -X POST -d x ${url('/t1')})"`,
          `echo "path=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' ${url('/t2')})"`,
          front,
        ].join('; ')
      : [
          `timeout 10 nc 127.0.0.1 3128 -e /probe/tls.sh GET /t1 ${T} >/dev/null 2>&1; echo "get=$(tail -n 1 /tmp/tls-out | tr -d '\\r')"`,
          `timeout 10 nc 127.0.0.1 3128 -e /probe/tls.sh POST /t1 ${T} >/dev/null 2>&1; echo "post=$(head -n 1 /tmp/tls-out | cut -d' ' -f2)"`,
          `timeout 10 nc 127.0.0.1 3128 -e /probe/tls.sh GET /t2 ${T} >/dev/null 2>&1; echo "path=$(head -n 1 /tmp/tls-out | cut -d' ' -f2)"`,
          front,
        ].join('; ');
    const before = servers.hits.length;
    const r = await box.mino([
      'run',
      '-n',
      'l7',
      '-p',
      project,
      '--image',
      image,
      '--no-home',
      '--volume',
      `${probeDir}:/probe:ro`,
      '--network-allow',
      `GET host.containers.internal:${T}/t1`,
      '--',
      'sh',
      '-c',
      script,
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const p = probeResults(r.stdout);
    expect(p.get, r.stdout).toBe('tls-ok /t1');
    expect(p.post, r.stdout).toBe('403');
    expect(p.path, r.stdout).toBe('403');
    expect(p.front, r.stdout).toBe('403');
    const refused = 3;
    expect(r.stderr).toContain(`mino: blocked ${refused} connections: host.containers.internal:${T} (${refused}×)`);
    const show = JSON.parse((await box.mino(['network', 'show', 'l7', '-f', 'json'])).stdout) as {
      record: {
        destinations: Array<{ destination: string; allowed: number; denied: number; reason: string | null }>;
        requests: Array<{ method: string; path: string; allowed: number; denied: number }>;
      };
    };
    expect(show.record.destinations).toEqual([
      expect.objectContaining({ destination: `host.containers.internal:${T}`, denied: refused, reason: 'request' }),
    ]);
    expect(show.record.requests).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ method: 'GET', path: '/t1', allowed: 1 }),
        expect.objectContaining({ method: 'POST', path: '/t1', denied: 1 }),
        expect.objectContaining({ method: 'GET', path: '/t2', denied: 1 }),
      ]),
    );
    const table = await box.mino(['network', 'show', 'l7']);
    expect(table.stdout).toContain('REQUESTS (HTTPS rules on method and path)');
    expect(table.stdout).toContain(`POST host.containers.internal:${T}/t1  allowed 0, denied 1`);
    expect(table.stdout).toContain(
      `GET host.containers.internal:${T}/t1  allowed 1, denied 0  (GET host.containers.internal:${T}/t1)`,
    );
    const audit = readFileSync(join(box.env.XDG_STATE_HOME as string, 'mino', 'audit.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; data: Record<string, unknown> })
      .filter((e) => e.event === 'network.denied' && e.data.reason === 'request');
    expect(audit).toHaveLength(refused);
    expect(audit.map((e) => String(e.data.detail))).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`POST host.containers.internal:${T}/t1: no rule allows it`),
        expect.stringContaining(`GET host.containers.internal:${T}/t2: no rule allows it`),
      ]),
    );
    // Only the allowed request reached the server.
    expect(servers.hits.slice(before).filter((h) => h.startsWith('tls '))).toEqual(['tls GET /t1']);
  });
});

/** A git smart-HTTP server over TLS (git http-backend as CGI), its repository, and the requests it got. */
async function gitServer(caDir: string): Promise<{ port: number; root: string; hits: string[]; close(): void }> {
  const root = mkdtempSync(join(tmpdir(), 'mino-test-git-'));
  const git = (cwd: string, ...args: string[]): void => {
    const r = spawnSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  mkdirSync(join(root, 'work'));
  git(join(root, 'work'), 'init', '-q', '-b', 'main');
  git(join(root, 'work'), 'commit', '-q', '--allow-empty', '-m', 'first');
  git(root, 'clone', '-q', '--bare', 'work', 'repo.git');
  git(join(root, 'repo.git'), 'config', 'http.receivepack', 'true');
  const hits: string[] = [];
  const server = createHttpsServer(
    { key: readFileSync(join(caDir, 'server.key')), cert: readFileSync(join(caDir, 'server.pem')) },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://x');
      hits.push(`${req.method} ${url.pathname}${url.search}`);
      const cgi = spawn('/usr/lib/git-core/git-http-backend', [], {
        env: {
          GIT_PROJECT_ROOT: root,
          GIT_HTTP_EXPORT_ALL: '1',
          REMOTE_USER: 'test',
          REQUEST_METHOD: req.method ?? 'GET',
          PATH_INFO: url.pathname,
          QUERY_STRING: url.search.slice(1),
          CONTENT_TYPE: String(req.headers['content-type'] ?? ''),
          ...(req.headers['content-length'] ? { CONTENT_LENGTH: String(req.headers['content-length']) } : {}),
          ...(req.headers['content-encoding']
            ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) }
            : {}),
        },
      });
      req.pipe(cgi.stdin);
      let head = Buffer.alloc(0);
      let sent = false;
      cgi.stdout.on('data', (chunk: Buffer) => {
        if (sent) {
          res.write(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        sent = true;
        const headers: Record<string, string> = {};
        let status = 200;
        for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
          const [k, ...v] = line.split(':');
          if (k!.toLowerCase() === 'status') status = Number.parseInt(v.join(':').trim(), 10);
          else headers[k!] = v.join(':').trim();
        }
        res.writeHead(status, headers);
        res.write(head.subarray(end + 4));
      });
      cgi.on('close', () => res.end());
    },
  );
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '0.0.0.0', () => resolve((server.address() as AddressInfo).port)),
  );
  return { port, root, hits, close: () => server.close() };
}

describe.each(MODES)('GIT-FETCH allows clone and fetch, not push, over HTTPS [%s]', (as) => {
  it('clones through the terminating proxy; the push is refused with 403 and never reaches the server', async () => {
    const rootful = modeLabel(as) === 'rootful';
    if (rootful && podmanAs(as, ['image', 'exists', BASE]).status !== 0)
      throw new Error("mino-base is not built: run 'bin/mino setup --yes' before the integration tests");
    const image = rootful ? BASE : ensureGitCurlImage(as);
    const server = await gitServer(servers.caDir);
    const box = new Sandbox(as);
    try {
      const project = box.project('git');
      const configDir = join(box.env.XDG_CONFIG_HOME as string, 'mino');
      mkdirSync(configDir, { recursive: true });
      writeFileSync(join(configDir, 'config.toml'), `[network]\nupstream_ca = ["${join(servers.caDir, 'ca.pem')}"]\n`);
      const remote = `https://host.containers.internal:${server.port}/repo.git`;
      const r = await box.mino([
        'run',
        '-p',
        project,
        '--image',
        image,
        '--no-home',
        '--network-allow',
        `GIT-FETCH host.containers.internal:${server.port}/*`,
        '--',
        'sh',
        '-c',
        [
          `git clone -q ${remote} /tmp/r && echo clone=ok`,
          'cd /tmp/r && git -c user.email=a@b -c user.name=a commit -q --allow-empty -m second',
          'git fetch -q origin && echo fetch=ok',
          'git push -q origin HEAD:main 2>/tmp/push.err; echo "push=$?"; grep -o "error: 403" /tmp/push.err | head -n 1',
        ].join('; '),
      ]);
      expect(r.exitCode, r.stderr).toBe(0);
      const p = probeResults(r.stdout);
      expect(p.clone, r.stdout).toBe('ok');
      expect(p.fetch, r.stdout).toBe('ok');
      expect(p.push, r.stdout).not.toBe('0');
      expect(r.stdout).toContain('error: 403');
      expect(server.hits.some((h) => h.includes('git-upload-pack'))).toBe(true);
      expect(server.hits.filter((h) => h.includes('receive-pack'))).toEqual([]);
      const log = spawnSync('git', ['log', '--oneline', 'main'], {
        cwd: join(server.root, 'repo.git'),
        encoding: 'utf8',
      });
      expect(log.stdout.trim().split('\n')).toHaveLength(1);
    } finally {
      box.cleanup();
      server.close();
      rmSync(server.root, { recursive: true, force: true });
    }
  });
});
