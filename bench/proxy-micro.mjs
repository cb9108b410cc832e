#!/usr/bin/env node
// In-process micro-bench of the egress proxy (issue 20's performance targets), no containers:
// the proxy's own code (src/network/proxy, bundled on the fly with esbuild) runs in this process,
// built as proxy-main.ts builds it (real dialer via host.containers.internal, real credential
// rewriter and terminator, real destination log); the upstream HTTP/HTTPS server runs in a child
// process and the client is curl, so the CPU time this process reports is the proxy's alone.
// Cases: 200 small requests on one kept-alive connection and a 100 MB download, each plain HTTP
// (proxy vs direct) and HTTPS (terminated vs CONNECT tunnel). Prints JSON: medians of wall time,
// proxy CPU per request / per MB, and the target ratios. `node bench/proxy-micro.mjs [runs]`, or
// proxyMicroBench() from bench/run.mjs. PROXY_MICRO_SRC=DIR: bench another tree's src/ (e.g.
// `git archive BASE src | tar -x -C DIR`), for before/after.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BULK_HANDLER_SOURCE,
  bareRelayTo,
  benchDestinationLog,
  bundleAndImport,
  proxyEntry,
  joinSockets,
  median,
  round,
  startServerChild,
} from './lib.mjs';

const ENTRY = proxyEntry({
  tlsStages: 'network/proxy/tls-setup.ts',
  'createSessionCa, LeafCertificates': 'network/proxy/tls-ca.ts',
});

const SERVER = `
const http = require('http');
const https = require('https');
const fs = require('fs');
${BULK_HANDLER_SOURCE}
const d = process.argv[1];
const server = http.createServer(handler);
const tls = https.createServer({ key: fs.readFileSync(d + '/server.key'), cert: fs.readFileSync(d + '/server.pem') }, handler);
server.listen(0, '127.0.0.1', () => tls.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + ' ' + tls.address().port + '\\n')));
`;

function run(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv[0]} exited ${code}: ${err}`))));
  });
}

/** Wall ms and this process's CPU ms (the proxy's) of one curl run. */
async function measure(argv) {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const out = await run(argv);
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(cpu0);
  return { wall, cpu: (c.user + c.system) / 1000, out };
}

/** Runs the cases `runs` times each (after one warm-up) and returns the report. */
export async function proxyMicroBench({ runs = 5 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mino-proxy-micro-'));
  try {
    return await benchIn(dir, runs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchIn(dir, runs) {
  const m = await bundleAndImport(dir, ENTRY, 'proxy.mjs');
  const upstreamCa = m.createSessionCa('bench-upstream');
  const leaf = new m.LeafCertificates(upstreamCa).issue('host.containers.internal');
  writeFileSync(join(dir, 'server.key'), leaf.keyPem);
  writeFileSync(join(dir, 'server.pem'), leaf.certPem);
  writeFileSync(join(dir, 'upstream-ca.pem'), upstreamCa.certPem);
  const sessionCa = m.createSessionCa('bench-session');
  writeFileSync(join(dir, 'session-ca.pem'), sessionCa.certPem);

  const { child, ports } = await startServerChild(SERVER, [dir]);
  try {
    return await casesWith(m, ports, dir, sessionCa, upstreamCa, runs);
  } finally {
    child.kill();
  }
}

async function casesWith(m, [port, tlsPort], dir, sessionCa, upstreamCa, runs) {
  const host = 'host.containers.internal';
  const rules = m.parseRules([`${host}:${port}`, `${host}:${tlsPort}`]);
  const policy = { mode: 'allowlist', allow: rules, deny: [] };

  /** A proxy as proxy-main.ts builds it; `credential`: a credential bound to the TLS host. */
  const startProxy = async (credential) => {
    const secrets = credential
      ? {
          version: 1,
          ca: sessionCa,
          credentials: [
            {
              variable: 'BENCH_TOKEN',
              placeholder: 'mino-placeholder-bench-0000000000000000',
              value: 'bench-real-token',
              hosts: [`${host}:${tlsPort}`],
              header: 'authorization',
              prefix: 'Bearer ',
              add: false,
            },
          ],
          upstreamCa: [upstreamCa.certPem],
        }
      : undefined;
    const tls = m.tlsStages(secrets);
    const log = benchDestinationLog(m, 'bench', policy, dir);
    const proxy = new m.EgressServer({
      session: 'bench',
      policy,
      dialer: m.createDialer({ highWaterMark: 256 * 1024 }),
      log,
      handlers: tls.handlers(() => undefined),
      rewriters: tls.rewriters,
      requestGuard: tls.requestGuard,
      bodyGuard: tls.bodyGuard,
    });
    const { createServer } = await import('node:net');
    const listener = createServer({ allowHalfOpen: true, highWaterMark: 256 * 1024 });
    proxy.attach(listener);
    await new Promise((r) => listener.listen(0, '127.0.0.1', r));
    const close = () => {
      proxy.close();
      tls.close();
      listener.close();
    };
    return { port: listener.address().port, close };
  };
  const terminating = await startProxy(true);
  const plain = await startProxy(false);
  // Ceilings, no mino code: a bare Node TCP pipe to the HTTP server, with the proxy's socket
  // settings (bench/lib.mjs bareRelayTo), and a bare Node TLS-to-TLS pipe (the session CA's
  // certificate to curl, verified TLS to the server), one per connection.
  const net = await import('node:net');
  const tlsMod = await import('node:tls');
  const bare = net.createServer({ highWaterMark: 256 * 1024 }, bareRelayTo(port));
  const sessionLeaves = new m.LeafCertificates(sessionCa);
  // The terminator's TLS settings: a session-CA leaf for the client (ECDSA P-256, AES-128-GCM first,
  // its order honoured) and 256 KB stream buffers on both legs.
  const bareLeaf = sessionLeaves.issue(host);
  const aes128First = [
    'TLS_AES_128_GCM_SHA256',
    ...tlsMod.DEFAULT_CIPHERS.split(':').filter((c) => c !== 'TLS_AES_128_GCM_SHA256'),
  ];
  const bareTls = tlsMod.createServer(
    {
      key: bareLeaf.keyPem,
      cert: bareLeaf.certPem,
      ciphers: aes128First.join(':'),
      honorCipherOrder: true,
      highWaterMark: 256 * 1024,
    },
    (c) => {
      const u = tlsMod.connect({
        host: '127.0.0.1',
        port: tlsPort,
        servername: host,
        ca: upstreamCa.certPem,
        highWaterMark: 256 * 1024,
      });
      joinSockets(c, u);
    },
  );
  await new Promise((r) => bare.listen(0, '127.0.0.1', r));
  await new Promise((r) => bareTls.listen(0, '127.0.0.1', r));
  const barePort = bare.address().port;
  const bareTlsPort = bareTls.address().port;

  const urls = (base) => Array.from({ length: 200 }, (_, i) => `${base}/r${i}`);
  const via = (p) => ['-x', `http://127.0.0.1:${p.port}`, '--noproxy', ''];
  const token = ['-H', 'Authorization: Bearer mino-placeholder-bench-0000000000000000'];
  const cases = {
    http_200_proxy: ['curl', '-sf', ...via(plain), ...urls(`http://${host}:${port}`), '-o', '/dev/null'],
    http_200_direct: ['curl', '-sf', ...urls(`http://127.0.0.1:${port}`), '-o', '/dev/null'],
    http_100mb_proxy: ['curl', '-sf', ...via(plain), `http://${host}:${port}/big`, '-o', '/dev/null'],
    http_100mb_direct: ['curl', '-sf', `http://127.0.0.1:${port}/big`, '-o', '/dev/null'],
    https_200_terminated: [
      'curl',
      '-sf',
      '--cacert',
      join(dir, 'session-ca.pem'),
      ...token,
      ...via(terminating),
      ...urls(`https://${host}:${tlsPort}`),
      '-o',
      '/dev/null',
    ],
    https_200_tunnel: [
      'curl',
      '-sf',
      '--cacert',
      join(dir, 'upstream-ca.pem'),
      ...token,
      ...via(plain),
      ...urls(`https://${host}:${tlsPort}`),
      '-o',
      '/dev/null',
    ],
    https_100mb_terminated: [
      'curl',
      '-sf',
      '--cacert',
      join(dir, 'session-ca.pem'),
      ...token,
      ...via(terminating),
      `https://${host}:${tlsPort}/big`,
      '-o',
      '/dev/null',
    ],
    ceiling_http_200_bare_pipe: ['curl', '-sf', ...urls(`http://127.0.0.1:${barePort}`), '-o', '/dev/null'],
    ceiling_http_100mb_bare_pipe: ['curl', '-sf', `http://127.0.0.1:${barePort}/big`, '-o', '/dev/null'],
    ceiling_https_200_bare_tls_pipe: [
      'curl',
      '-sf',
      '--cacert',
      join(dir, 'session-ca.pem'),
      '--resolve',
      `${host}:${bareTlsPort}:127.0.0.1`,
      ...urls(`https://${host}:${bareTlsPort}`),
      '-o',
      '/dev/null',
    ],
    ceiling_https_100mb_bare_tls_pipe: [
      'curl',
      '-sf',
      '--cacert',
      join(dir, 'session-ca.pem'),
      '--resolve',
      `${host}:${bareTlsPort}:127.0.0.1`,
      `https://${host}:${bareTlsPort}/big`,
      '-o',
      '/dev/null',
    ],
    https_100mb_tunnel: [
      'curl',
      '-sf',
      '--cacert',
      join(dir, 'upstream-ca.pem'),
      ...token,
      ...via(plain),
      `https://${host}:${tlsPort}/big`,
      '-o',
      '/dev/null',
    ],
  };
  // curl writes each small body to -o's file only for the first URL; the rest go to stdout (ignored).
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, { wall: [], cpu: [] }]));
  // PROXY_MICRO_ONLY=regex: only the matching cases (for profiling one with --cpu-prof).
  const only = new RegExp(process.env.PROXY_MICRO_ONLY ?? '.');
  for (let i = 0; i < runs + 1; i++) {
    for (const [name, argv] of Object.entries(cases)) {
      if (!only.test(name)) continue;
      const r = await measure(argv);
      if (i === 0) continue;
      samples[name].wall.push(r.wall);
      samples[name].cpu.push(r.cpu);
    }
  }
  terminating.close();
  plain.close();
  bare.close();
  bareTls.close();
  const med = (name, what) => median(samples[name][what]);
  const ratio = (a, b) => Math.round((a / b) * 100) / 100;
  const out = {
    runs,
    cases: Object.fromEntries(
      Object.keys(cases).map((k) => [k, { wall_ms: round(med(k, 'wall')), proxy_cpu_ms: round(med(k, 'cpu')) }]),
    ),
    per_unit: {
      http_proxy_cpu_us_per_request: round((med('http_200_proxy', 'cpu') * 1000) / 200),
      https_terminated_cpu_us_per_request: round((med('https_200_terminated', 'cpu') * 1000) / 200),
      https_tunnel_cpu_us_per_request: round((med('https_200_tunnel', 'cpu') * 1000) / 200),
      https_bare_tls_pipe_cpu_us_per_request: round((med('ceiling_https_200_bare_tls_pipe', 'cpu') * 1000) / 200),
      http_proxy_cpu_ms_per_mb: round(med('http_100mb_proxy', 'cpu') / 100),
      https_terminated_cpu_ms_per_mb: round(med('https_100mb_terminated', 'cpu') / 100),
      https_tunnel_cpu_ms_per_mb: round(med('https_100mb_tunnel', 'cpu') / 100),
    },
    ceilings: {
      http_200_bare_pipe_over_direct: ratio(med('ceiling_http_200_bare_pipe', 'wall'), med('http_200_direct', 'wall')),
      http_100mb_throughput_bare_pipe_over_direct: ratio(
        med('http_100mb_direct', 'wall'),
        med('ceiling_http_100mb_bare_pipe', 'wall'),
      ),
      https_200_bare_tls_pipe_over_tunnel: ratio(
        med('ceiling_https_200_bare_tls_pipe', 'wall'),
        med('https_200_tunnel', 'wall'),
      ),
      https_100mb_throughput_bare_tls_pipe_over_tunnel: ratio(
        med('https_100mb_tunnel', 'wall'),
        med('ceiling_https_100mb_bare_tls_pipe', 'wall'),
      ),
    },
    ratios: {
      http_200_proxy_over_direct: {
        value: ratio(med('http_200_proxy', 'wall'), med('http_200_direct', 'wall')),
        target: '<= 1.5',
      },
      http_100mb_throughput_proxy_over_direct: {
        value: ratio(med('http_100mb_direct', 'wall'), med('http_100mb_proxy', 'wall')),
        target: '>= 0.5',
      },
      https_200_terminated_over_tunnel: {
        value: ratio(med('https_200_terminated', 'wall'), med('https_200_tunnel', 'wall')),
        target: '<= 1.5',
      },
      https_100mb_throughput_terminated_over_tunnel: {
        value: ratio(med('https_100mb_tunnel', 'wall'), med('https_100mb_terminated', 'wall')),
        target: '>= 0.7',
      },
    },
  };
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  proxyMicroBench({ runs: Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 5) }).then(
    (out) => process.stdout.write(`${JSON.stringify(out, null, 2)}\n`),
    (err) => {
      process.stderr.write(`${err.stack ?? err}\n`);
      process.exit(1);
    },
  );
