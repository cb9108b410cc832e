// Bench cases of the egress proxy (issue 13), imported by bench/run.mjs:
// - start-up: `mino run --network-allow … -- true` against `mino run --network none -- true`;
// - 200 sequential small HTTP requests through the proxy against the same over `--network bridge`;
// - a 100 MB download through the proxy against the same over bridge.
// The HTTP server runs in a child process on this host (every address: the bridge runs reach it
// through the host's address, the proxied runs through host.containers.internal). Request timings
// are taken inside the container (curl in mino-base), so container start-up does not count.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { interleaved, makeServerCerts, median, round } from './lib.mjs';

const ratio = (a, b) => Math.round((a / b) * 100) / 100;

const SERVER = `
const http = require('http');
const https = require('https');
const fs = require('fs');
const chunk = Buffer.alloc(1 << 20, 120);
const handler = (req, res) => {
  if (req.url === '/big') {
    res.writeHead(200, { 'content-length': 100 * chunk.length });
    let n = 0;
    const more = () => { while (n < 100) { n++; if (!res.write(chunk)) return res.once('drain', more); } res.end(); };
    more();
  } else {
    res.end('ok');
  }
};
const dir = process.argv[1];
const server = http.createServer(handler);
const tls = https.createServer({ key: fs.readFileSync(dir + '/server.key'), cert: fs.readFileSync(dir + '/server.pem') }, handler);
server.listen(0, '0.0.0.0', () => tls.listen(0, '0.0.0.0', () => process.stdout.write(server.address().port + ' ' + tls.address().port + '\\n')));
`;

function startServer(certDir) {
  const child = spawn(process.execPath, ['-e', SERVER, certDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (b) => {
      const [port, tlsPort] = String(b).trim().split(' ').map(Number);
      resolve({ port, tlsPort, stop: () => child.kill() });
    });
    child.once('error', reject);
  });
}

function hostIp() {
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (/^(cni-podman|podman|docker|virbr)/.test(name)) continue;
    for (const info of list ?? []) if (info.family === 'IPv4' && !info.internal) return info.address;
  }
  throw new Error('no non-loopback IPv4 address on this host');
}

/** Runs `script` in a mino-base session and returns its stdout. */
function inSession(ctx, network, script) {
  const r = spawnSync(
    process.execPath,
    [
      ctx.mino,
      'run',
      '--image',
      'localhost/mino-base:latest',
      '--no-home',
      '-p',
      ctx.project,
      '--volume',
      `${ctx.certDir}:/bench-ca:ro`,
      ...network,
      '--',
      'bash',
      '-c',
      script,
    ],
    { env: ctx.env, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`mino run ${network.join(' ')} failed (${r.status}): ${r.stderr.slice(-800)}`);
  return r.stdout;
}

/** Median of a number each session prints, sessions of the two modes interleaved. */
function innerPair(ctx, cases, { runs, warmup }) {
  const samples = cases.map(() => []);
  for (let i = 0; i < warmup + runs; i++) {
    cases.forEach((c, j) => {
      const value = Number(inSession(ctx, c.network, c.script).trim().split('\n').pop());
      if (!Number.isFinite(value)) throw new Error(`${c.name}: no number in the output`);
      if (i >= warmup) samples[j].push(value);
    });
  }
  return cases.map((c, j) => ({ name: c.name, median: round(median(samples[j])), runs: samples[j].length }));
}

/**
 * The egress bench cases. `ctx`: { mino, env, project, image (a tiny image for start-up),
 * runs, warmup }. Returns the JSON part of the report (cases skipped when mino-base is missing).
 */
export async function networkBench(ctx) {
  const ip = hostIp();
  const certDir = mkdtempSync(join(tmpdir(), 'mino-bench-ca-'));
  makeServerCerts(certDir, `DNS:host.containers.internal,IP:${ip}`);
  const server = await startServer(certDir);
  ctx = { ...ctx, certDir };
  try {
    const rule = `host.containers.internal:${server.port}`;
    let n = 0;
    const [allow, none] = interleaved(
      [
        {
          name: `mino run --network-allow ${rule} -- true`,
          get argv() {
            n++;
            return [
              process.execPath,
              ctx.mino,
              'run',
              '-n',
              `bench-allow-${n}`,
              '--image',
              ctx.image,
              '-p',
              ctx.project,
              '--network-allow',
              rule,
              '--',
              '/usr/bin/true',
            ];
          },
          env: ctx.env,
        },
        {
          name: 'mino run --network none -- true',
          get argv() {
            n++;
            return [
              process.execPath,
              ctx.mino,
              'run',
              '-n',
              `bench-none-${n}`,
              '--image',
              ctx.image,
              '-p',
              ctx.project,
              '--network',
              'none',
              '--',
              '/usr/bin/true',
            ];
          },
          env: ctx.env,
        },
      ],
      { runs: ctx.runs, warmup: ctx.warmup },
    );
    const startup = {
      allowlist: allow,
      none,
      ratio: ratio(allow.median_ms, none.median_ms),
      overhead_ms: round(allow.median_ms - none.median_ms),
      target_ratio: 1.15,
    };

    if (spawnSync('podman', ['image', 'exists', 'localhost/mino-base:latest'], { env: ctx.env }).status !== 0) {
      return { startup, throughput: { skipped: 'mino-base is not built (mino setup)' } };
    }
    const proxied = ['--network-allow', `${rule},host.containers.internal:${server.tlsPort}`];
    const bridge = ['--network', 'bridge'];
    const urls = (scheme, host, port) =>
      Array.from({ length: 200 }, (_, i) => `${scheme}://${host}:${port}/r${i}`).join(' ');
    // Microseconds for 200 sequential requests in one curl (which keeps its connection alive:
    // plain HTTP goes through the proxy's HTTP forwarding, HTTPS through one CONNECT tunnel).
    const requests = (scheme, host, port) =>
      `s=$(date +%s%N); curl -sf --cacert /bench-ca/ca.pem ${urls(scheme, host, port)} > /dev/null || exit 1; e=$(date +%s%N); echo $(( (e - s) / 1000 ))`;
    const rounds = { runs: Math.max(3, Math.ceil(ctx.runs / 2)), warmup: 1 };
    const download = (scheme, host, port) =>
      `curl -sf --cacert /bench-ca/ca.pem -o /dev/null -w '%{speed_download}\\n' ${scheme}://${host}:${port}/big`;
    const pair = (what, script) => {
      const [p, b] = innerPair(
        ctx,
        [
          { name: `${what} through the proxy`, network: proxied, script: script('host.containers.internal') },
          { name: `${what} over bridge`, network: bridge, script: script(ip) },
        ],
        rounds,
      );
      return { proxy: p, bridge: b };
    };
    const reqHttp = pair('200 http requests (µs)', (h) => requests('http', h, server.port));
    const reqHttps = pair('200 https requests (µs)', (h) => requests('https', h, server.tlsPort));
    const dlHttp = pair('100 MB over http (bytes/s)', (h) => download('http', h, server.port));
    const dlHttps = pair('100 MB over https (bytes/s)', (h) => download('https', h, server.tlsPort));
    // Targets (issue 20): plain HTTP forwarding 200 requests <= 1.5x, 100 MB >= 0.5x bridge.
    const dl = (d, target) => ({
      ...d,
      proxy_mb_per_s: round(d.proxy.median / 1e6),
      bridge_mb_per_s: round(d.bridge.median / 1e6),
      ratio: ratio(d.proxy.median, d.bridge.median),
      target_min_ratio: target,
    });
    return {
      startup,
      requests_200_http: { ...reqHttp, ratio: ratio(reqHttp.proxy.median, reqHttp.bridge.median), target_ratio: 1.5 },
      requests_200_https: {
        ...reqHttps,
        ratio: ratio(reqHttps.proxy.median, reqHttps.bridge.median),
        target_ratio: 1.3,
      },
      download_100mb_http: dl(dlHttp, 0.5),
      download_100mb_https: dl(dlHttps, 0.8),
    };
  } finally {
    server.stop();
    rmSync(certDir, { recursive: true, force: true });
  }
}

/** Table rows of the egress cases for bench/run.mjs. */
export function networkRows(r) {
  const rows = [
    ['(g) run, allowlist vs none', r.startup.allowlist.median_ms, r.startup.none.median_ms, r.startup.ratio, 1.15],
  ];
  for (const [key, label] of [
    ['requests_200_http', '(h) 200 http req µs'],
    ['requests_200_https', '(h) 200 https req µs'],
  ]) {
    if (r[key])
      rows.push([
        `${label}, proxy/bridge`,
        r[key].proxy.median,
        r[key].bridge.median,
        r[key].ratio,
        r[key].target_ratio,
      ]);
  }
  for (const [key, label] of [
    ['download_100mb_http', '(i) 100 MB http MB/s'],
    ['download_100mb_https', '(i) 100 MB https MB/s'],
  ]) {
    if (r[key])
      rows.push([
        `${label}, proxy/bridge`,
        r[key].proxy_mb_per_s,
        r[key].bridge_mb_per_s,
        r[key].ratio,
        `>=${r[key].target_min_ratio}`,
      ]);
  }
  return rows;
}
