import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { exclusive } from '../../helpers/exclusive.js';
import { startRig, type RemoteEngineRig } from '../../helpers/remote-engine-rig.js';
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
 */

requirePrerequisites();
exclusive('throwaway-users');

/** This machine's first IPv4 address outside loopback and podman's bridges. */
function hostAddress(): string {
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (/^(lo|cni|podman|veth)/.test(name)) continue;
    const a = (list ?? []).find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  throw new Error('no IPv4 address on this machine');
}

function listen(body: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end(body));
  return new Promise((resolve) =>
    server.listen(0, '0.0.0.0', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    }),
  );
}

let rig: RemoteEngineRig;
let allowed: { server: Server; port: number };
let denied: { server: Server; port: number };
let web: string;
beforeAll(async () => {
  [rig, allowed, denied] = await Promise.all([startRig(), listen('allowed-ok'), listen('denied-body')]);
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
  allowed?.server.close();
  denied?.server.close();
  rig?.stop();
});

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
      'run',
      '--engine',
      engine,
      '--image',
      TEST_IMAGE,
      '-p',
      dir,
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
    expect(rig.podman(['ps', '-a', '--format', '{{.Names}}'])).not.toContain('mino-egress');
    expect(rig.podman(['network', 'ls', '--format', '{{.Name}}'])).not.toContain('mino-egress-net');
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
      'run',
      '--engine',
      engine,
      '--image',
      TEST_IMAGE,
      '-p',
      dir,
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
    const start = await box.mino([
      'run',
      '--engine',
      engine,
      '--image',
      TEST_IMAGE,
      '-p',
      dir,
      '-d',
      '--name',
      'rnd',
      '--',
      'sleep',
      '300',
    ]);
    expect(start.exitCode).toBe(0);
    expect(rig.podman(['ps', '--format', '{{.Names}}'])).toContain('mino-egress');
    // Shown live from the engine proxy's record; changes refused with one error.
    const show = await box.mino(['network', 'show', 'rnd', '--format', 'json']);
    expect(JSON.parse(show.stdout)).toMatchObject({ live: true, record: { session: 'rnd' } });
    const live = await box.mino(['network', 'allow', 'rnd', 'example.com:443']);
    expect(live.exitCode).not.toBe(0);
    expect(live.stderr).toContain('remote engine');
    expect((await box.mino(['stop', '-f', 'rnd'])).exitCode).toBe(0);
    expect(rig.podman(['ps', '-a', '--format', '{{.Names}}'])).not.toContain('mino-egress');
    expect(rig.podman(['network', 'ls', '--format', '{{.Name}}'])).not.toContain('mino-egress-net');
  });
});
