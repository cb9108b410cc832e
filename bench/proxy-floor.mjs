#!/usr/bin/env node
// The floor of the plain-HTTP proxy cases (issue 20): what a relay costs in the proxy's real
// position, with no mino code in it. One long-lived mino-base container with no network but its
// loopback, where two listeners are opened from this process the way the session proxy opens its
// own (src/network/proxy/netns-listener.ts: a listening socket made in the container's network
// namespace and handed over): behind one a bare Node TCP pipe to the server (the proxy's socket
// settings: 256 KB buffers, 1 MB upstream reads), behind the other mino's proxy code (EgressServer,
// bundled with esbuild, built as proxy-main.ts builds it, the real policy and dialer). A second
// container on the bridge reaches the server directly. curl inside the containers (podman exec)
// times 200 sequential requests on one kept-alive connection and a 100 MB download, the three
// ways interleaved. The server runs in a child process; the relays in this one. Needs root
// (nsenter into a rootful container) and mino-base. `node bench/proxy-floor.mjs [runs]` or
// proxyFloorBench() from bench/run.mjs; prints JSON: medians and ratios to direct.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BULK_HANDLER_SOURCE,
  bareRelayTo,
  benchDestinationLog,
  bundleAndImport,
  proxyEntry,
  median,
  round,
  startServerChild,
} from './lib.mjs';

const IMAGE = 'localhost/mino-base:latest';
const LABEL = 'mino-bench-floor=1';
const HWM = 256 * 1024;

const ENTRY = proxyEntry({ openListenerInNetns: 'network/proxy/netns-listener.ts' });

const SERVER = `
const http = require('http');
${BULK_HANDLER_SOURCE}
http.createServer(handler).listen(0, '0.0.0.0', function () { process.stdout.write(this.address().port + '\\n'); });
`;

function hostIp() {
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (/^(cni-podman|podman|docker|virbr|veth)/.test(name)) continue;
    for (const info of list ?? []) if (info.family === 'IPv4' && !info.internal) return info.address;
  }
  throw new Error('no non-loopback IPv4 address on this host');
}

function podman(args) {
  const r = spawnSync('podman', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')}: ${r.stderr.trim().slice(-500)}`);
  return r.stdout.trim();
}

/** mino's proxy (plain HTTP forwarding) on `server`, allowing host.containers.internal:port. */
function minoProxy(m, server, port, dir) {
  const policy = { mode: 'allowlist', allow: m.parseRules([`host.containers.internal:${port}`]), deny: [] };
  const log = benchDestinationLog(m, 'floor', policy, dir);
  const proxy = new m.EgressServer({
    session: 'floor',
    policy,
    dialer: m.createDialer({ highWaterMark: HWM }),
    log,
    handlers: [],
  });
  Object.assign(server, { allowHalfOpen: true, highWaterMark: HWM });
  proxy.attach(server);
  return () => proxy.close();
}

/**
 * Runs `script` in `container` and resolves to its last line, a number. Asynchronous: the relays
 * run in this process, and must be served meanwhile.
 */
function exec(container, script) {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', ['exec', container, 'bash', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('error', reject);
    child.on('close', (code) => {
      const value = Number(out.trim().split('\n').pop());
      if (code !== 0 || !Number.isFinite(value)) reject(new Error(`podman exec failed (${code}): ${err.slice(-500)}`));
      else resolve(value);
    });
  });
}

/** The floor cases, `runs` rounds after one warm-up; the report's JSON part (skipped without root or mino-base). */
export async function proxyFloorBench({ runs = 5 } = {}) {
  if (process.getuid?.() !== 0) return { skipped: 'needs root (nsenter into a rootful container)' };
  if (spawnSync('podman', ['image', 'exists', IMAGE]).status !== 0)
    return { skipped: 'mino-base is not built (mino setup)' };
  const dir = mkdtempSync(join(tmpdir(), 'mino-proxy-floor-'));
  const name = `mino-bench-floor-${process.pid}`;
  const names = [`${name}-lo`, `${name}-bridge`];
  const { child, ports } = await startServerChild(SERVER);
  const [port] = ports;
  const closers = [];
  try {
    const m = await bundleAndImport(dir, ENTRY, 'floor.mjs');
    const run = (net, n) =>
      podman(['run', '-d', '--rm', '--label', LABEL, '--name', n, '--network', net, IMAGE, 'sleep', '900']);
    run('none', names[0]);
    run('bridge', names[1]);
    const pid = Number(podman(['inspect', '--format', '{{.State.Pid}}', names[0]]));
    const listen = (p) =>
      m.openListenerInNetns({ pid, rootless: false, host: '127.0.0.1', port: p, nsenter: 'nsenter' });
    const bare = await listen(3130);
    const mino = await listen(3128);
    closers.push(
      () => bare.close(),
      () => mino.close(),
    );
    bare.on('connection', bareRelayTo(port, { noDelay: true }));
    closers.push(minoProxy(m, mino, port, dir));

    const ip = hostIp();
    const urls = (base) => Array.from({ length: 200 }, (_, i) => `${base}/r${i}`).join(' ');
    const requests = (proxy, base) =>
      `s=$(date +%s%N); curl -sf ${proxy} ${urls(base)} > /dev/null || exit 1; e=$(date +%s%N); echo $(( (e - s) / 1000 ))`;
    const download = (proxy, base) => `curl -sf ${proxy} -o /dev/null -w '%{speed_download}\\n' ${base}/big`;
    const via = (p) => `-x http://127.0.0.1:${p} --noproxy ''`;
    const proxied = `http://host.containers.internal:${port}`;
    const cases = {
      requests_direct: () => exec(names[1], requests('', `http://${ip}:${port}`)),
      requests_bare_relay: () => exec(names[0], requests(via(3130), proxied)),
      requests_mino_proxy: () => exec(names[0], requests(via(3128), proxied)),
      download_direct: () => exec(names[1], download('', `http://${ip}:${port}`)),
      download_bare_relay: () => exec(names[0], download(via(3130), proxied)),
      download_mino_proxy: () => exec(names[0], download(via(3128), proxied)),
    };
    const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    for (let i = 0; i < runs + 1; i++)
      for (const [k, f] of Object.entries(cases)) {
        const v = await f();
        if (i > 0) samples[k].push(v);
      }
    const med = (k) => round(median(samples[k]));
    const ratio = (a, b) => Math.round((a / b) * 100) / 100;
    return {
      runs,
      requests_200_http_us: {
        direct: med('requests_direct'),
        bare_relay: med('requests_bare_relay'),
        mino_proxy: med('requests_mino_proxy'),
        bare_over_direct: ratio(med('requests_bare_relay'), med('requests_direct')),
        mino_over_direct: ratio(med('requests_mino_proxy'), med('requests_direct')),
        target_ratio: 1.5,
      },
      download_100mb_mb_per_s: {
        direct: round(med('download_direct') / 1e6),
        bare_relay: round(med('download_bare_relay') / 1e6),
        mino_proxy: round(med('download_mino_proxy') / 1e6),
        bare_over_direct: ratio(med('download_bare_relay'), med('download_direct')),
        mino_over_direct: ratio(med('download_mino_proxy'), med('download_direct')),
        target_min_ratio: 0.5,
      },
    };
  } finally {
    for (const c of closers) c();
    child.kill();
    spawnSync('podman', ['rm', '-f', '-t', '0', ...names], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  proxyFloorBench({ runs: Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 5) }).then(
    (out) => process.stdout.write(`${JSON.stringify(out, null, 2)}\n`),
    (err) => {
      process.stderr.write(`${err.stack ?? err}\n`);
      process.exit(1);
    },
  );
