import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionCa, LeafCertificates } from '../../../src/network/proxy/tls-ca.js';
import { CredSandbox, leaked, scratchDir } from '../credentials/cred-helpers.js';
import { requirePrerequisites } from '../../helpers/engines.js';
import { runOn, useRemoteRig } from '../../helpers/remote-engine-rig.js';
import { MODES, Sandbox, modeLabel } from '../../helpers/sandbox.js';
import { IS_ROOT, ROOTFUL_PROJECT_OWNER, ROOTLESS_USER, TEST_IMAGE, uidOf } from '../../helpers/test-env.js';

/**
 * The network policy on a remote engine (network/remote-egress.ts), over the ssh rig: the proxy
 * runs there in a container of its own, the session is on an internal network of its own with
 * the proxy only. From the session: an allowed host answers through the proxy; a denied one is
 * refused and audited HERE; and the escapes all find no route: DNS, IP literals (this machine's
 * address, the slirp host loopback 10.0.2.2, the network's gateway address), the rig's own ssh
 * port, UDP, IPv6, a tool that ignores the proxy variables, an absolute-form request whose Host
 * names an allowed host. The machine is the engine's host too: its listeners stand in for it.
 * Then TLS on the engine's proxy: a credential kept at the proxy (placeholder inside, the real
 * value at a local TLS server standing in for its host), its placeholder sent elsewhere blocked
 * and audited here, HTTPS rules on method and path, live `mino network allow|deny`, and the
 * canary scan of both containers, the engine's secrets and mino's state.
 */

requirePrerequisites();
const rig = useRemoteRig();

/** This machine's first IPv4 address outside loopback and podman's bridges. */
function hostAddress(): string {
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (/^(lo|cni|podman|veth)/.test(name)) continue;
    const a = (list ?? []).find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  throw new Error('no IPv4 address on this machine');
}

function listen(
  body: string,
  server: Server = createServer((_req, res) => res.end(body)),
): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) =>
    server.listen(0, '0.0.0.0', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    }),
  );
}

/** Requests the TLS servers got (they stand in for an API host and a host with HTTPS rules). */
const seen: Array<{ port: number; method: string; url: string; headers: IncomingMessage['headers'] }> = [];
const upstreamCa = createSessionCa('test-upstream');
const leaf = new LeafCertificates(upstreamCa).issue('host.containers.internal');
function tlsServer(): Server {
  const server = createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const port = (req.socket.localPort ?? 0) as number;
    seen.push({ port, method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    res.end(`tls-ok ${req.method} ${req.url}\n`);
  });
  return server;
}

let allowed: { server: Server; port: number };
let denied: { server: Server; port: number };
let api: { server: Server; port: number };
let ruled: { server: Server; port: number };
let caDir: string;
let web: string;
beforeAll(async () => {
  [allowed, denied, api, ruled] = await Promise.all([
    listen('allowed-ok'),
    listen('denied-body'),
    listen('', tlsServer()),
    listen('', tlsServer()),
  ]);
  caDir = scratchDir('mino-upstream-ca-');
  writeFileSync(join(caDir, 'ca.pem'), upstreamCa.certPem, { mode: 0o644 });
  rig.loadTestImage();
  // A service on the engine's own network (another container there): what learn can reach.
  rig.podman([
    'run',
    '-d',
    '--name',
    'rig-web',
    '--network',
    'podman',
    TEST_IMAGE,
    'sh',
    '-c',
    'echo web-ok > /tmp/index.html && httpd -f -p 8080 -h /tmp',
  ]);
  web = rig.podman(['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'rig-web']);
}, 120_000);
afterAll(() => {
  for (const s of [allowed, denied, api, ruled]) s?.server.close();
  if (caDir) rmSync(caDir, { recursive: true, force: true });
});

/** The credential CANARY_TOKEN bound to the local TLS server `api`, whose CA the proxy trusts. */
function configureCanary(box: CredSandbox): void {
  box.config(
    [
      '[credentials.canary]',
      'variable = "CANARY_TOKEN"',
      `hosts = ["host.containers.internal:${api.port}"]`,
      '[network]',
      `upstream_ca = ["${join(caDir, 'ca.pem')}"]`,
      '',
    ].join('\n'),
  );
}

function project(box: Sandbox, name: string): string {
  const dir = box.project(name);
  const owner = box.as === 'rootless' ? uidOf(ROOTLESS_USER)! : ROOTFUL_PROJECT_OWNER;
  if (IS_ROOT) spawnSync('chown', ['-R', `${owner}:${owner}`, dir]);
  chmodSync(dir, 0o700);
  return dir;
}

describe.each(MODES)('the network policy on a remote engine (%s)', (as) => {
  const mode = modeLabel(as);
  const box = new Sandbox(as);
  afterAll(() => box.cleanup());
  const engine = `rn-${mode}`;

  it('allows what the rules allow, refuses and audits the rest here, and nothing escapes', async () => {
    expect((await box.mino(['engine', 'add', engine, rig.url, '--identity', rig.key(as)])).exitCode).toBe(0);
    const dir = project(box, 'net');
    const ip = hostAddress();
    const { port: a } = allowed;
    const { port: b } = denied;
    const probe = (label: string, cmd: string): string =>
      `if ${cmd} >/dev/null 2>&1; then echo "ESCAPE ${label}"; else echo "held ${label}"; fi`;
    const script = [
      'proxy=${HTTP_PROXY#http://}',
      // busybox wget crashes on this network: requests to the proxy by nc.
      'get() { printf "GET $1 HTTP/1.0\\r\\n\\r\\n" | nc -w 5 ${proxy%:*} ${proxy##*:}; echo; }',
      `get http://host.containers.internal:${a}/`,
      `get http://host.containers.internal:${b}/ | grep -q 403 && echo "refused b"`,
      probe('dns', 'nslookup example.com'),
      probe('udp', `nslookup example.com ${ip}`),
      probe('ip-literal', `nc -w 1 ${ip} ${a} </dev/null`),
      probe('slirp-host', `nc -w 1 10.0.2.2 ${a} </dev/null`),
      probe('ssh-port', `nc -w 1 10.0.2.2 ${rig.port} </dev/null`),
      probe('gateway', `nc -w 1 \${proxy%.*:*}.1 ${a} </dev/null`),
      probe('loopback', `nc -w 1 127.0.0.1 ${a} </dev/null`),
      probe('ipv6', 'ip -6 addr | grep -q inet6'),
      // The target names the denied host, Host the allowed one: judged by the target.
      `printf 'GET http://host.containers.internal:${b}/ HTTP/1.1\\r\\nHost: host.containers.internal:${a}\\r\\nConnection: close\\r\\n\\r\\n' | nc -w 1 \${proxy%:*} \${proxy##*:} | head -1`,
    ].join('\n');
    const r = await box.mino([
      ...runOn(engine, dir),
      '--name',
      'rn',
      '--network-allow',
      `host.containers.internal:${a}`,
      '--',
      'sh',
      '-c',
      script,
    ]);
    expect(r.stdout).toContain('allowed-ok');
    expect(r.stdout).not.toContain('denied-body');
    expect(r.stdout).toContain('refused b');
    expect(r.stdout).not.toContain('ESCAPE');
    expect(r.stdout.match(/^held /gm)?.length).toBe(8);
    expect(r.stdout).toMatch(/HTTP\/1\.1 403/);
    expect(r.stderr).toContain(`host.containers.internal:${b}`);
    expect(r.exitCode).toBe(0);
    // Audited here; the record is here for `mino logs --network`.
    const audit = readFileSync(join(box.env.XDG_STATE_HOME as string, 'mino', 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; data: { destination?: string } });
    expect(
      audit.some((e) => e.event === 'network.denied' && e.data.destination === `host.containers.internal:${b}`),
    ).toBe(true);
    const logs = await box.mino(['logs', 'rn', '--network']);
    expect(logs.stdout).toContain(`host.containers.internal:${a}`);
    // Nothing left on the engine: no proxy container, no network.
    expect(rig.egressOnEngine()).toEqual([]);
  });
});

/**
 * TLS over a CONNECT tunnel with busybox (its wget sends https URLs to a proxy without CONNECT):
 * `tls.sh PORT METHOD PATH [token]` (token: with the placeholder of CANARY_TOKEN), run by
 * `nc PROXY 3128 -e`; the answer goes to /tmp/tls-out. Busybox
 * does not verify certificates: that the session trusts its CA is shown by the bundle it gets.
 */
const BUSYBOX_TLS = `#!/bin/sh
printf 'CONNECT host.containers.internal:%s HTTP/1.1\\r\\n\\r\\n' "$1"
read -r status
case "$status" in *" 200 "*) ;; *) echo "no tunnel: $status" > /tmp/tls-out; exit 1;; esac
while read -r l; do [ -z "$(echo "$l" | tr -d '\\r')" ] && break; done
exec 3<&0
[ "$4" = token ] && auth="Authorization: Bearer $CANARY_TOKEN" || auth="X-None: 1"
printf '%s %s HTTP/1.0\\r\\nHost: host.containers.internal:%s\\r\\n%s\\r\\nContent-Length: 0\\r\\n\\r\\n' "$2" "$3" "$1" "$auth" | ssl_client -s 3 -n host.containers.internal > /tmp/tls-out 2>&1
`;

describe.each(MODES)('credentials and HTTPS rules at the proxy on a remote engine (%s)', (as) => {
  const mode = modeLabel(as);
  const box = new CredSandbox(as);
  const engine = `rc-${mode}`;
  const name = `rc-${mode}`;
  // A failed run's leftovers on the engine (a passing one leaves nothing: checked below).
  afterAll(() => {
    box.cleanup();
    const label = `label=io.mino.remote-egress=${name}`;
    const ids = rig.podman(['ps', '-aq', '--filter', label]).split('\n').filter(Boolean);
    rig.podman(['rm', '-f', `mino-${name}`, ...ids]);
    for (const net of rig.podman(['network', 'ls', '-q', '--filter', label]).split('\n').filter(Boolean))
      rig.podman(['network', 'rm', '-f', net]);
  });

  it('placeholders inside, the real value at its host only, HTTPS rules, live changes, 0 canary hits', async () => {
    expect((await box.mino(['engine', 'add', engine, rig.url, '--identity', rig.key(as)])).exitCode).toBe(0);
    const dir = project(box, 'cred');
    const canary = `canary-REAL-${box.tokens.aws.slice(-10)}`;
    const secrets = [canary, box.tokens.gh];
    configureCanary(box);
    const run = await box.minoEnv(
      [
        ...runOn(engine, dir),
        '-d',
        '--name',
        name,
        '--network-allow',
        `host.containers.internal:${api.port},host.containers.internal:${allowed.port},host.containers.internal:${denied.port},GET host.containers.internal:${ruled.port}/*`,
        '--',
        'sleep',
        '300',
      ],
      { CANARY_TOKEN: canary },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const session = `mino-${name}`;
    const proxy = rig.podman(['ps', '--filter', `label=io.mino.remote-egress=${name}`, '--format', '{{.Names}}']);
    expect(proxy).toMatch(/^mino-egress-[0-9a-f]{16}$/);
    // Run inside the session by the engine's own podman (not through the tunnel), without
    // blocking this process: its servers must answer meanwhile.
    const inside = (script: string, ...args: string[]): Promise<string> => {
      const argv = rig.user.asUser(['podman', 'exec', session, 'sh', '-c', script, 'sh', ...args]);
      const child = spawn(argv[0]!, argv.slice(1), { cwd: '/', stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      return new Promise((resolve) => child.on('close', () => resolve(out.trim())));
    };
    await inside('printf "%s" "$1" > /tmp/tls.sh; chmod +x /tmp/tls.sh', BUSYBOX_TLS);
    const tls = (port: number, method: string, path: string, token = ''): Promise<string> =>
      inside(
        'p=${HTTP_PROXY#http://}; timeout 10 nc ${p%:*} ${p##*:} -e /tmp/tls.sh "$@" >/dev/null 2>&1; cat /tmp/tls-out; rm -f /tmp/tls-out',
        String(port),
        method,
        path,
        token,
      );
    const plain = (port: number, path: string, header = ''): Promise<string> =>
      inside(
        `p=\${HTTP_PROXY#http://}; printf 'GET http://host.containers.internal:${port}${path} HTTP/1.0\\r\\n${header}\\r\\n' | nc -w 5 \${p%:*} \${p##*:}`,
      );

    // Placeholders inside; the session trusts its own CA (a bundle of the engine's secret, public).
    const vars = (
      await inside('printf "%s\\n" "$CANARY_TOKEN" "$GH_TOKEN" "$SSL_CERT_FILE" "$NODE_EXTRA_CA_CERTS"')
    ).split('\n');
    expect(vars[0]).toMatch(/^mino-proxy-managed-canary_token-[0-9a-f]{16}$/);
    expect(vars[1]).toMatch(/^mino-proxy-managed-gh_token-[0-9a-f]{16}$/);
    expect(vars.slice(2)).toEqual(['/run/mino/ca-certificates.crt', '/run/mino/ca-certificates.crt']);
    const bundle = (await inside('cat /run/mino/ca-certificates.crt')).match(
      /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g,
    );
    const subjects = (bundle ?? []).map((pem) => new X509Certificate(pem).subject);
    expect(subjects.filter((subject) => subject.includes(`CN=mino session CA ${name}`))).toHaveLength(1);

    // The proxy terminates TLS for the bound host and puts the real value in.
    expect(await tls(api.port, 'GET', '/swap', 'token')).toContain('tls-ok GET /swap');
    expect(seen.filter((r) => r.port === api.port).at(-1)?.headers.authorization).toBe(`Bearer ${canary}`);
    // HTTPS rules on a terminated host: GET allowed, POST refused (and never reaching the server).
    expect(await tls(ruled.port, 'GET', '/v1/x')).toContain('tls-ok GET /v1/x');
    expect(await tls(ruled.port, 'POST', '/v1/x')).toContain('403');
    expect(seen.some((r) => r.port === ruled.port && r.method === 'POST' && r.url === '/v1/x')).toBe(false);
    // The placeholder sent to another allowed host: blocked, never forwarded.
    const gh = vars[1] ?? '';
    expect(await plain(allowed.port, '/leak', `X-T: ${gh}\\r\\n`)).toContain('403');
    expect(await plain(allowed.port, '/')).toContain('allowed-ok');

    // Live changes reach the engine's proxy before the command returns.
    const allow = await box.mino(['network', 'allow', name, `POST host.containers.internal:${ruled.port}/*`]);
    expect(allow.exitCode, allow.stderr).toBe(0);
    expect(await tls(ruled.port, 'POST', '/v1/y')).toContain('tls-ok POST /v1/y');
    expect(await plain(denied.port, '/')).toContain('denied-body');
    const deny = await box.mino(['network', 'deny', name, `host.containers.internal:${denied.port}`]);
    expect(deny.exitCode, deny.stderr).toBe(0);
    expect(await plain(denied.port, '/')).toMatch(/^HTTP\/1\.[01] 403/);

    // The canary scan, while the session runs: the session container (its processes, its
    // changed files, /run), both containers' inspect, the proxy's environment, the engine's secrets.
    const changed = [
      ...new Set(
        Object.values(JSON.parse(rig.podman(['diff', '--format', 'json', session]) || '{}') as Record<string, string[]>)
          .flat()
          .filter((p) => !/^\/(proc|sys|dev)/.test(p)),
      ),
    ];
    const dump = await inside(
      'for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do cat "$f" 2>/dev/null; echo; done; ' +
        'for f in "$@" /run /tmp; do [ -e "$f" ] && find "$f" -type f -exec cat {} + 2>/dev/null; done; echo scan-done',
      ...changed,
    );
    expect(dump).toContain('scan-done');
    expect(dump).toContain('mino-proxy-managed-');
    expect(leaked(dump, secrets)).toEqual([]);
    expect(leaked(rig.podman(['inspect', session, proxy]), secrets)).toEqual([]);
    const pid = rig.podman(['inspect', '--format', '{{.State.Pid}}', proxy]);
    expect(leaked(readFileSync(`/proc/${pid}/environ`, 'latin1'), secrets)).toEqual([]);
    // No secret of the session's there (the host CA bundles, public and kept, aside: engine-ca-secrets.ts).
    const ownSecrets = rig
      .podman(['secret', 'ls', '--format', '{{.Name}}'])
      .split('\n')
      .filter((n) => n.startsWith('mino-') && !/^mino-ca-[0-9a-f]+\.[0-9a-f]{16}$/.test(n));
    expect(ownSecrets).toEqual([]);

    expect((await box.mino(['stop', '-f', name])).exitCode).toBe(0);
    // Audited here, after the proxy's record came back: the leak and the refused POST.
    const logs = await box.mino(['logs', name, '--network']);
    expect(logs.stdout).toContain('the placeholder of GH_TOKEN was sent to');
    const state = box.stateTexts();
    expect(state).toContain('credential-leak');
    expect(state).toContain('"event":"network.policy"');
    expect(leaked(state + run.stdout + run.stderr + logs.stdout, secrets)).toEqual([]);
    expect(rig.podman(['ps', '-a', '--format', '{{.Names}}'])).not.toContain('mino-egress');
  });
});

// The same code path in both modes: once (rootful), to keep the file lean.
describe('a credential kept at the proxy, served by a warm container on a remote engine (rootful)', () => {
  const box = new CredSandbox('self');
  const engine = 'rc-pool';
  afterAll(async () => {
    await box.mino(['pool', 'drain', '--engine', engine]);
    box.cleanup();
  });

  it("warms the terminating plan there (the pool's CA); a run is served warm: placeholder inside, the value at its host", async () => {
    expect((await box.mino(['engine', 'add', engine, rig.url, '--identity', rig.key('self')])).exitCode).toBe(0);
    const dir = project(box, 'credpool');
    const canary = `canary-POOL-${box.tokens.aws.slice(-10)}`;
    configureCanary(box);
    const flags = [...runOn(engine, dir).slice(1), '--network-allow', `host.containers.internal:${api.port}`];
    const env = { CANARY_TOKEN: canary };
    const warm = await box.minoEnv(['pool', 'warm', '-n', '1', ...flags], env);
    expect(warm.exitCode, warm.stderr).toBe(0);
    const dry = await box.minoEnv(['run', ...flags, '--dry-run', '--', 'true'], env);
    expect(dry.stdout).toMatch(/# Pool: a warm container would serve this run .* on engine rc-pool/);
    // The warm containers there (and the pool's sync helper): full IDs.
    const warmIds = rig
      .podman(['ps', '--no-trunc', '--format', '{{.ID}} {{.Names}}'])
      .split('\n')
      .filter((l) => l.includes(' mino.warm.'))
      .map((l) => l.split(' ')[0]!);
    const script =
      'printf "%s" "$1" > /tmp/tls.sh; chmod +x /tmp/tls.sh; hostname; echo "$CANARY_TOKEN"; ' +
      'p=${HTTP_PROXY#http://}; timeout 10 nc ${p%:*} ${p##*:} -e /tmp/tls.sh "$2" GET /pooled token >/dev/null 2>&1; cat /tmp/tls-out';
    const r = await box.minoEnv(['run', ...flags, '--', 'sh', '-c', script, 'sh', BUSYBOX_TLS, String(api.port)], env);
    expect(r.exitCode, r.stderr).toBe(0);
    const [host, inside] = r.stdout.split('\n');
    // Served by the warm container (its hostname is its ID's prefix), with the placeholder inside.
    expect(host).toMatch(/^[0-9a-f]{12}$/);
    expect(warmIds.some((id) => id.startsWith(host!))).toBe(true);
    expect(inside).toMatch(/^mino-proxy-managed-canary_token-[0-9a-f]{16}$/);
    expect(r.stdout).toContain('tls-ok GET /pooled');
    expect(seen.filter((q) => q.port === api.port && q.url === '/pooled').at(-1)?.headers.authorization).toBe(
      `Bearer ${canary}`,
    );
    expect(leaked(r.stdout + r.stderr + box.stateTexts(), [canary])).toEqual([]);
  });
});

// The same code path in both modes: once (rootful), to keep the file lean.
describe('learn, a detached session and live changes on a remote engine (rootful)', () => {
  const box = new Sandbox('self');
  afterAll(() => box.cleanup());
  const engine = 'rn-learn';
  beforeAll(async () => {
    expect((await box.mino(['engine', 'add', engine, rig.url, '--identity', rig.key('self')])).exitCode).toBe(0);
  });

  it("learns from the engine proxy, and a detached session's proxy goes with mino stop", async () => {
    const dir = project(box, 'learn');
    const r = await box.mino([
      ...runOn(engine, dir),
      '--network',
      'learn',
      '--',
      'sh',
      '-c',
      `p=\${HTTP_PROXY#http://}; printf "GET http://${web}:8080/ HTTP/1.0\\r\\n\\r\\n" | nc -w 5 \${p%:*} \${p##*:} | tail -1`,
    ]);
    expect(r.stdout).toContain('web-ok');
    // Plain HTTP: the narrowest rule, on method and path.
    expect(r.stderr).toContain(`network_allow = ["GET ${web}:8080/"]`);
    expect(r.exitCode).toBe(0);
    const start = await box.mino([...runOn(engine, dir), '-d', '--name', 'rnd', '--', 'sleep', '300']);
    expect(start.exitCode).toBe(0);
    expect(rig.podman(['ps', '--format', '{{.Names}}'])).toContain('mino-egress');
    // Shown live from the engine proxy's record, a live change included.
    const live = await box.mino(['network', 'allow', 'rnd', 'example.com:443']);
    expect(live.exitCode, live.stderr).toBe(0);
    const show = await box.mino(['network', 'show', 'rnd', '--format', 'json']);
    expect(JSON.parse(show.stdout)).toMatchObject({ live: true, record: { session: 'rnd' } });
    expect(JSON.stringify(JSON.parse(show.stdout).record.policy)).toContain('example.com:443');
    expect((await box.mino(['stop', '-f', 'rnd'])).exitCode).toBe(0);
    expect(rig.egressOnEngine()).toEqual([]);
  });
});
