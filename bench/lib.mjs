// Shared helpers of `npm run bench`: timing child processes, statistics, host facts.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * CPU time (user + system, ms) of this process's waited-for children so far, from
 * /proc/self/stat (cutime, cstime; clock-tick resolution, so only sums over many runs mean
 * much). Undefined off Linux.
 */
function childrenCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): cutime is field 16, cstime field 17.
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS;
  } catch {
    return undefined;
  }
}

/** Runs argv once and returns its wall time in milliseconds (throws on a non-zero exit). */
export function timeOnce(argv, options = {}) {
  return timeAndCpuOnce(argv, options).wall;
}

/**
 * Runs argv once: its wall time and the CPU time (user + system) of it and its children, in ms
 * (throws on a non-zero exit). CPU time is steadier than wall time on a busy machine.
 */
export function timeAndCpuOnce(argv, options = {}) {
  const cpu0 = childrenCpuMs();
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu1 = childrenCpuMs();
  if (r.status !== (options.expectCode ?? 0)) {
    throw new Error(`${argv.join(' ')} exited ${r.status}: ${String(r.stderr).slice(-500)}`);
  }
  return { wall, cpu: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0 };
}

/** Median of a list of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** 95th percentile (nearest rank). */
export function p95(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)];
}

/**
 * Times several commands interleaved (a, b, a, b, ...) after `warmup` unmeasured rounds, so
 * machine noise hits all of them alike. Returns per-command {median, p95, runs} of wall time,
 * and `cpu_mean_ms`, the mean CPU time of the command (and its children: for `mino run` that
 * includes the podman client), when the platform tells it.
 */
export function interleaved(commands, { runs = 10, warmup = 2 } = {}) {
  const samples = commands.map(() => []);
  const cpu = commands.map(() => 0);
  let cpuKnown = true;
  for (let i = 0; i < warmup + runs; i++) {
    commands.forEach((c, j) => {
      const t = timeAndCpuOnce(c.argv, c);
      if (i < warmup) return;
      samples[j].push(t.wall);
      if (t.cpu === undefined) cpuKnown = false;
      else cpu[j] += t.cpu;
    });
  }
  return commands.map((c, j) => ({
    name: c.name,
    median_ms: round(median(samples[j])),
    p95_ms: round(p95(samples[j])),
    ...(cpuKnown ? { cpu_mean_ms: round(cpu[j] / samples[j].length) } : {}),
    runs: samples[j].length,
  }));
}

/** Rounds to 0.1. */
export function round(x) {
  return Math.round(x * 10) / 10;
}

/** Facts about the machine and the engine, for the JSON header. */
export function hostFacts() {
  const info = spawnSync('podman', ['info', '--format', 'json'], { encoding: 'utf8' });
  let podman = null;
  if (info.status === 0) {
    const j = JSON.parse(info.stdout);
    podman = {
      version: j.version?.Version,
      oci_runtime: j.host?.ociRuntime?.name,
      rootless: j.host?.security?.rootless,
      storage_driver: j.store?.graphDriverName,
      cgroup_version: j.host?.cgroupVersion,
    };
  }
  return {
    hostname: os.hostname(),
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    podman,
  };
}

/**
 * A throwaway CA (`ca.pem`, `ca.key`) and a server certificate (`server.pem`, `server.key`) for
 * host.containers.internal with subjectAltName `san`, made with openssl in `dir`; the directory
 * and the CA are left readable for the rootless test user.
 */
export function makeServerCerts(dir, san) {
  const ssl = (args) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  ssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem'].concat([
      '-days',
      '2',
      '-subj',
      '/CN=mino bench CA',
    ]),
  );
  ssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr'].concat([
      '-subj',
      '/CN=host.containers.internal',
    ]),
  );
  writeFileSync(join(dir, 'san.ext'), `subjectAltName=${san}\n`);
  ssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'san.ext',
    ]),
  );
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'ca.pem'), 0o644);
}

/** The environment of a bench's mino runs: this process's, with mino's XDG folders under `root`. */
export function benchEnv(root) {
  return {
    ...process.env,
    XDG_STATE_HOME: join(root, 'state'),
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_DATA_HOME: join(root, 'data'),
    NO_COLOR: '1',
  };
}

/**
 * The raw `podman run` of a `mino run --dry-run` output (its `podman ` line; protected paths are
 * listed above it as shell comments), as a maker of argv with a fresh container name each call.
 * The dry-run line is shell-quoted; labels and paths in the benches contain no spaces.
 */
export function podmanArgvOfDryRun(dryRunLines) {
  const line = dryRunLines.find((l) => l.startsWith('podman ')).trim();
  const argv = line.split(' ').map((w) => w.replace(/^'(.*)'$/, '$1'));
  const at = argv.indexOf('--name');
  return () => {
    const copy = [...argv];
    copy[at + 1] = `mino-bench-${process.hrtime.bigint()}`;
    return copy;
  };
}

/** The checkout's root (bench/..). */
const checkout = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Source of a module that re-exports the egress proxy's parts from the src/ of `repo`
 * (PROXY_MICRO_SRC, else this checkout: another tree's src/ for before/after), with `extra`
 * (`export … from '<src path>'` lines, the path relative to src/).
 */
export function proxyEntry(extra = {}) {
  const repo = process.env.PROXY_MICRO_SRC ?? checkout;
  const parts = {
    EgressServer: 'network/proxy/egress-server.ts',
    DestinationLog: 'network/proxy/destination-log.ts',
    createDialer: 'network/proxy/dialer.ts',
    newNetworkRecord: 'network/network-record.ts',
    policyText: 'network/policy.ts',
    parseRules: 'network/rule.ts',
    ...extra,
  };
  return Object.entries(parts)
    .map(([names, path]) => `export { ${names} } from '${repo}/src/${path}';\n`)
    .join('');
}

/**
 * Bundles `entry` (TypeScript that re-exports mino's src/ code) with esbuild into `dir/out` the way
 * proxy-main.ts is built (ESM for Node, a `require` for the CommonJS dependencies) and imports it.
 */
export async function bundleAndImport(dir, entry, out) {
  const { build } = await import('esbuild');
  writeFileSync(join(dir, 'entry.ts'), entry);
  const outfile = join(dir, out);
  await build({
    entryPoints: [join(dir, 'entry.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile,
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    nodePaths: [join(checkout, 'node_modules')],
    logLevel: 'error',
  });
  return import(pathToFileURL(outfile).href);
}

/**
 * Source of an HTTP `handler` for a server child: `…/big` answers 100 MB (1 MB writes, with
 * back-pressure), anything else `ok`. A bare relay passes the absolute-form target on as it is,
 * hence endsWith.
 */
export const BULK_HANDLER_SOURCE = `
const chunk = Buffer.alloc(1 << 20, 120);
const handler = (req, res) => {
  if (req.url.endsWith('/big')) {
    res.writeHead(200, { 'content-length': 100 * chunk.length });
    let n = 0;
    const more = () => { while (n < 100) { n++; if (!res.write(chunk)) return res.once('drain', more); } res.end(); };
    more();
  } else res.end('ok');
};
`;

/**
 * Starts `node -e script ...args` (a server that prints its ports, space-separated, as its first
 * line) and resolves to the child and those ports. The caller kills the child.
 */
export async function startServerChild(script, args = []) {
  const child = spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (b) => resolve(String(b).trim().split(' ').map(Number)));
  });
  return { child, ports };
}

/** Pipes the sockets `a` and `b` into each other; when either ends or fails, both are destroyed. */
export function joinSockets(a, b) {
  a.pipe(b).pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end).on('close', end);
  b.on('error', end).on('close', end);
}

/**
 * A connection handler that relays each connection to 127.0.0.1:port with the proxy's socket
 * settings and no mino code (its 256 KB buffers; its large upstream reads: 1 MB at a time into one
 * buffer, each read passed on as a copy, as src/network/proxy/dialer.ts bulkReads); `noDelay`:
 * Nagle off on both legs, as the session proxy's listener sets it.
 */
export function bareRelayTo(port, { noDelay = false } = {}) {
  const bulk = Buffer.allocUnsafe(1024 * 1024);
  return (c) => {
    if (noDelay) c.setNoDelay(true);
    const u = connect({
      host: '127.0.0.1',
      port,
      ...(noDelay ? { noDelay: true } : {}),
      highWaterMark: 256 * 1024,
      onread: {
        buffer: bulk,
        callback: (n, buf) => {
          u.emit('data', Buffer.from(buf.subarray(0, n)));
          return true;
        },
      },
    });
    joinSockets(c, u);
  };
}

/**
 * A proxy's DestinationLog (module `m`, a bundle of src/) for `session` under `policy`, writing its
 * record to dir/network.json as proxy-main.ts does: a failed write never stops the proxy.
 */
export function benchDestinationLog(m, session, policy, dir) {
  return new m.DestinationLog(
    m.newNetworkRecord(session, 'allowlist', m.policyText(policy), []),
    (record) => {
      try {
        writeFileSync(join(dir, 'network.json'), JSON.stringify(record));
      } catch {}
    },
    () => undefined,
  );
}
