// Bench cases of TLS termination (issue 20), imported by bench/run.mjs: the same HTTPS server on
// this host reached from a mino-base session through the egress proxy, once terminated (a
// [credentials.bench] table binds BENCH_TOKEN to it, so the proxy decrypts, swaps the placeholder
// and re-encrypts) and once as a plain CONNECT tunnel, side by side:
// - 200 sequential small HTTPS requests on one kept-alive connection (curl), in µs;
// - a 100 MB download, in bytes/s.
// Timings are taken inside the container, so container start-up does not count.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeServerCerts, median, round } from './lib.mjs';

const ratio = (a, b) => Math.round((a / b) * 100) / 100;

const SERVER = `
const https = require('https');
const fs = require('fs');
const chunk = Buffer.alloc(1 << 20, 120);
const dir = process.argv[1];
const tls = https.createServer({ key: fs.readFileSync(dir + '/server.key'), cert: fs.readFileSync(dir + '/server.pem') }, (req, res) => {
  if (req.url === '/big') {
    res.writeHead(200, { 'content-length': 100 * chunk.length });
    let n = 0;
    const more = () => { while (n < 100) { n++; if (!res.write(chunk)) return res.once('drain', more); } res.end(); };
    more();
  } else {
    res.end('ok ' + (req.headers.authorization || '-'));
  }
});
tls.listen(0, '0.0.0.0', () => process.stdout.write(tls.address().port + '\\n'));
`;

function startServer(certDir) {
  const child = spawn(process.execPath, ['-e', SERVER, certDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (b) => resolve({ port: Number(String(b).trim()), stop: () => child.kill() }));
    child.once('error', reject);
  });
}

function inSession(ctx, env, network, script) {
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
    { env, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`mino run failed (${r.status}): ${r.stderr.slice(-800)}`);
  return Number(r.stdout.trim().split('\n').pop());
}

/**
 * The TLS bench cases. `ctx`: { mino, env, project, root, runs, warmup }. Returns the JSON part of
 * the report (skipped when mino-base is missing).
 */
export async function tlsBench(ctx) {
  if (spawnSync('podman', ['image', 'exists', 'localhost/mino-base:latest'], { env: ctx.env }).status !== 0)
    return { skipped: 'mino-base is not built (mino setup)' };
  const certDir = mkdtempSync(join(tmpdir(), 'mino-bench-tls-'));
  makeServerCerts(certDir, 'DNS:host.containers.internal');
  const server = await startServer(certDir);
  ctx = { ...ctx, certDir };
  try {
    const host = `host.containers.internal:${server.port}`;
    // The terminated runs get a config of their own: the credential and the upstream CA.
    const configHome = join(ctx.root, 'tls-config');
    mkdirSync(join(configHome, 'mino'), { recursive: true });
    writeFileSync(
      join(configHome, 'mino', 'config.toml'),
      `[credentials.bench]\nvariable = "BENCH_TOKEN"\nhosts = ["${host}"]\n\n[network]\nupstream_ca = ["${join(certDir, 'ca.pem')}"]\n`,
    );
    const terminatedEnv = { ...ctx.env, XDG_CONFIG_HOME: configHome, BENCH_TOKEN: 'bench-real-token' };
    const tunnelEnv = { ...ctx.env, BENCH_TOKEN: 'bench-real-token' };
    const network = ['--network-allow', host];
    const urls = Array.from({ length: 200 }, (_, i) => `https://${host}/r${i}`).join(' ');
    // Terminated: curl trusts the session CA through CURL_CA_BUNDLE (the host's trust store and the
    // session CA); the tunnel: the image's trust store and the server's own CA, made before the clock
    // starts. Both load a whole store, as for a real host: OpenSSL takes ~20 ms to load one here,
    // which a tunnel given the one bench CA alone skipped (it was 20 ms of the terminated case's lead).
    const tunnelCa = '/tmp/bench-bundle.pem';
    const bundle = (cacert) =>
      cacert ? `cat /etc/ssl/certs/ca-certificates.crt /bench-ca/ca.pem > ${tunnelCa} || exit 1; ` : '';
    const requests = (cacert) =>
      `${bundle(cacert)}s=$(date +%s%N); curl -sf ${cacert} -H "Authorization: Bearer $BENCH_TOKEN" ${urls} > /dev/null || exit 1; e=$(date +%s%N); echo $(( (e - s) / 1000 ))`;
    const download = (cacert) =>
      `${bundle(cacert)}curl -sf ${cacert} -o /dev/null -w '%{speed_download}\\n' https://${host}/big`;
    const rounds = Math.max(3, Math.ceil(ctx.runs / 2));
    const pair = (script) => {
      const t = [];
      const u = [];
      for (let i = 0; i < rounds + 1; i++) {
        const a = inSession(ctx, terminatedEnv, network, script(''));
        const b = inSession(ctx, tunnelEnv, network, script(`--cacert ${tunnelCa}`));
        if (!Number.isFinite(a) || !Number.isFinite(b)) throw new Error('no number in the output');
        if (i > 0) {
          t.push(a);
          u.push(b);
        }
      }
      return {
        terminated: { median: round(median(t)), runs: t.length },
        tunnel: { median: round(median(u)), runs: u.length },
      };
    };
    const req = pair(requests);
    const dl = pair(download);
    return {
      requests_200_https_us: { ...req, ratio: ratio(req.terminated.median, req.tunnel.median), target_ratio: 1.5 },
      download_100mb: {
        ...dl,
        terminated_mb_per_s: round(dl.terminated.median / 1e6),
        tunnel_mb_per_s: round(dl.tunnel.median / 1e6),
        ratio: ratio(dl.terminated.median, dl.tunnel.median),
        target_min_ratio: 0.7,
      },
    };
  } finally {
    server.stop();
    rmSync(certDir, { recursive: true, force: true });
  }
}

/** Table rows of the TLS cases for bench/run.mjs. */
export function tlsRows(r) {
  if (!r?.requests_200_https_us) return [];
  return [
    [
      '(t) 200 https req µs, term/tunnel',
      r.requests_200_https_us.terminated.median,
      r.requests_200_https_us.tunnel.median,
      r.requests_200_https_us.ratio,
      1.5,
    ],
    [
      '(t) 100 MB MB/s, term/tunnel',
      r.download_100mb.terminated_mb_per_s,
      r.download_100mb.tunnel_mb_per_s,
      r.download_100mb.ratio,
      '>=0.7',
    ],
  ];
}
