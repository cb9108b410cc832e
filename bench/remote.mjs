// Remote engines in `npm run bench` (root only): a second engine on this machine, as in the tests
// (test/helpers/remote-engine-rig.ts): a throwaway user's rootless `podman system service`, reached
// over ssh through an sshd of our own on 127.0.0.1. Figures: `mino run --engine <ssh loopback> --
// true` against the same run on the local engine, the same run served by a warm container on the
// engine against a cold one there, and shipping a 10,000-file, 200 MB project
// (first run, a run after 10 files changed here, a run whose command changes 10 files), each
// also as the difference to a run where nothing travels.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchEnv, interleaved, median, round, timeOnce } from './lib.mjs';

const USER = 'mino-bench-eng';
const IMAGE = 'localhost/mino-test-busybox:latest';

function sh(argv, input) {
  const r = spawnSync(argv[0], argv.slice(1), {
    input,
    encoding: input ? undefined : 'utf8',
    cwd: '/',
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${String(r.stderr).slice(-400)}`);
  return r.stdout;
}

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function waitFile(path) {
  for (let i = 0; i < 400 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(path)) throw new Error(`${path} did not appear`);
}

/** Starts the engine (throwaway user `user`); returns its URL, key and a stop function. */
export async function startRig(dir, user = USER) {
  const USER = user;
  // A rig left by a killed bench: its user's processes (the pause process) would block userdel.
  const left = spawnSync('id', ['-u', USER], { encoding: 'utf8' }).stdout.trim();
  if (left !== '') spawnSync('pkill', ['-KILL', '-U', left], { stdio: 'ignore' });
  spawnSync('userdel', ['-r', USER], { stdio: 'ignore' });
  sh(['useradd', '--create-home', '--shell', '/bin/sh', USER]);
  sh(['usermod', '-p', '*', USER]);
  const uid = Number(sh(['id', '-u', USER]).trim());
  const run = `/run/user/${uid}`;
  mkdirSync(`${run}/podman`, { recursive: true });
  sh(['chown', '-R', `${uid}:${uid}`, run]);
  chmodSync(run, 0o700);
  const asUser = (argv) => [
    'runuser',
    '-u',
    USER,
    '--',
    'env',
    '-i',
    `HOME=/home/${USER}`,
    `XDG_RUNTIME_DIR=${run}`,
    `PATH=${process.env.PATH}`,
    ...argv,
  ];
  const socket = `${run}/podman/podman.sock`;
  const [svc, ...svcArgs] = asUser(['podman', 'system', 'service', '--time=0', `unix://${socket}`]);
  const service = spawn(svc, svcArgs, { stdio: 'ignore', detached: true, cwd: '/' });
  for (const k of ['host_key', 'client_key']) sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(dir, k)]);
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    `Port ${port}\nListenAddress 127.0.0.1\nHostKey ${join(dir, 'host_key')}\nAuthorizedKeysFile ${join(dir, 'client_key.pub')}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile ${join(dir, 'sshd.pid')}\nAllowUsers ${USER}\n`,
  );
  mkdirSync('/run/sshd', { recursive: true });
  sh(['/usr/sbin/sshd', '-f', join(dir, 'sshd_config')]);
  await waitFile(socket);
  const archive = spawnSync('podman', ['save', '--format', 'oci-archive', IMAGE], { maxBuffer: 256 << 20 });
  sh(asUser(['podman', 'load']), archive.stdout);
  return {
    url: `ssh://${USER}@127.0.0.1:${port}${socket}`,
    key: join(dir, 'client_key'),
    /** Waits (at most 30 s) until no container runs on the engine (a refill, a drain, a proxy's end), then 1 s more. */
    idle() {
      const [ps, ...psArgs] = asUser(['podman', 'ps', '-q']);
      for (let i = 0; i < 300; i++) {
        if (spawnSync(ps, psArgs, { encoding: 'utf8', cwd: '/' }).stdout.trim() === '') break;
        spawnSync('sleep', ['0.1']);
      }
      spawnSync('sleep', ['1']);
    },
    stop() {
      try {
        process.kill(Number(sh(['cat', join(dir, 'sshd.pid')]).trim()));
      } catch {}
      try {
        process.kill(-service.pid, 'SIGKILL');
      } catch {}
      const [reset, ...resetArgs] = asUser(['podman', 'system', 'reset', '-f']);
      spawnSync(reset, resetArgs, { stdio: 'ignore', cwd: '/' });
      // The engine user's own processes (its pause process would block userdel), by pid.
      const pids = spawnSync('ps', ['-u', String(uid), '-o', 'pid='], { encoding: 'utf8' })
        .stdout.split('\n')
        .map(Number);
      for (const pid of pids.filter((p) => p > 1)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      spawnSync('userdel', ['-r', USER], { stdio: 'ignore' });
      rmSync(run, { recursive: true, force: true });
    },
  };
}

/** Writes `count` files of `size` random bytes under `dir` (100 per directory). */
function bigProject(dir, count, size) {
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.bin`), randomBytes(size));
  }
}

/**
 * Pooled `mino run --engine loop --network none -- true` (a warm container on the engine, podman
 * exec through the tunnel) against the same cold remote run (`--fresh`), interleaved; each pooled
 * run starts once the previous one's refill is done and a container is warm again.
 */
function pooledRemote(m, env, project, { runs, warmup }, network = ['--network', 'none']) {
  const flags = ['--engine', 'loop', ...network, '--image', IMAGE, '-p', project, '--no-cache'];
  const what = network.length ? network.join(' ') : '(contained: a warm proxy there each)';
  const status = () => {
    const argv = m('pool', 'status', '-f', 'json');
    const r = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8' });
    return JSON.parse(r.stdout);
  };
  const settled = () => {
    for (let i = 0; i < 600; i++) {
      const s = status();
      if (!s.refilling && s.warm_total >= 1) return;
      spawnSync('sleep', ['0.1']);
    }
    throw new Error('the remote pool did not refill within 60 s');
  };
  timeOnce(m('pool', 'warm', '-n', '1', ...flags), { env });
  const pooled = [];
  const cold = [];
  try {
    for (let i = 0; i < warmup + runs; i++) {
      settled();
      const p = timeOnce(m('run', ...flags, '--', 'true'), { env });
      const c = timeOnce(m('run', ...flags, '--fresh', '--', 'true'), { env });
      if (i < warmup) continue;
      pooled.push(p);
      cold.push(c);
    }
    // BENCH_TRACE=1: one pooled and one cold run again with mino's timeline on stderr.
    if (process.env.BENCH_TRACE) {
      for (const fresh of [[], ['--fresh']]) {
        settled();
        const argv = m('run', ...flags, ...fresh, '--', 'true');
        const r = spawnSync(argv[0], argv.slice(1), { env: { ...env, MINO_TRACE: '1' }, encoding: 'utf8' });
        process.stderr.write(`--- remote ${fresh.length ? 'cold' : 'pooled'}\n${r.stderr}`);
      }
    }
  } finally {
    timeOnce(m('pool', 'drain', '--engine', 'loop'), { env });
  }
  const counters = JSON.parse(readFileSync(join(env.XDG_STATE_HOME, 'mino', 'sandbox-counters.json'), 'utf8'));
  const p = round(median(pooled));
  const c = round(median(cold));
  return {
    pooled: { name: `mino run --engine loop (ssh) ${what} -- true, pooled`, median_ms: p, runs: pooled.length },
    cold: { name: 'the same with --fresh (cold)', median_ms: c, runs: cold.length },
    ratio: Math.round((p / c) * 100) / 100,
    pool_hits: counters.pool_hits ?? 0,
  };
}

/** The remote-engine figures (see the module comment); `{ skipped }` when they cannot be taken. */
export async function remoteBench({ mino, runs, warmup }) {
  if (process.getuid?.() !== 0) return { skipped: 'run the bench as root for the remote-engine figures' };
  if (!existsSync('/usr/sbin/sshd')) return { skipped: 'openssh-server is not installed' };
  if (spawnSync('podman', ['image', 'exists', IMAGE]).status !== 0)
    return { skipped: `${IMAGE} is missing (the integration tests' global setup builds it)` };
  const root = mkdtempSync(join(tmpdir(), 'mino-bench-remote-'));
  chmodSync(root, 0o755);
  const env = benchEnv(root);
  // BENCH_RIG_USER: another throwaway user for the engine (two benches at once must not share one).
  const rigUser = process.env.BENCH_RIG_USER ?? USER;
  if (!/^mino-[a-z0-9-]{1,24}$/.test(rigUser)) throw new Error(`BENCH_RIG_USER must look like mino-NAME: ${rigUser}`);
  const rig = await startRig(root, rigUser);
  const m = (...args) => [process.execPath, mino, ...args];
  try {
    sh([
      'env',
      ...Object.entries(env)
        .filter(([k]) => k.startsWith('XDG') || k === 'NO_COLOR')
        .map(([k, v]) => `${k}=${v}`),
      ...m('engine', 'add', 'loop', rig.url, '--identity', rig.key),
    ]);
    const small = join(root, 'small');
    mkdirSync(small);
    writeFileSync(join(small, 'a.txt'), 'a\n');
    // The same run on both engines: `--network none` on each (the remote default; here the
    // default is the contained allowlist, whose proxy start would flatter the ratio).
    const run = (project, engine, cmd = ['true']) =>
      m(
        'run',
        ...(engine ? ['--engine', engine] : []),
        '--network',
        'none',
        '--image',
        IMAGE,
        '-p',
        project,
        '--no-cache',
        '--',
        ...cmd,
      );
    // BENCH_REMOTE_PARTS=ship (comma-separated: run, pooled, contained, pooled_contained, ship): only those parts.
    const parts = new Set((process.env.BENCH_REMOTE_PARTS ?? 'run,pooled,contained,pooled_contained,ship').split(','));
    const out = {};
    if (parts.has('run')) {
      out.run_true = runTrue(run, small, env, { runs, warmup });
      out.raw_podman = rawPodman(rig, { runs, warmup });
    }
    if (parts.has('pooled')) out.run_true_pooled = pooledRemote(m, env, small, { runs, warmup });
    if (parts.has('contained')) out.remote_contained = remoteContained(m, run, small, env, { runs, warmup });
    if (parts.has('pooled_contained'))
      out.run_true_pooled_contained = pooledRemote(m, env, small, { runs, warmup }, []);
    if (parts.has('ship')) out.ship_10000_files_200mb = shipment(run, root, env, rig);
    return out;
  } finally {
    rig.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

/** `mino run --engine loop --network none -- true` against the same run here. */
function runTrue(run, small, env, { runs, warmup }) {
  const [remote, local] = interleaved(
    [
      { name: 'mino run --engine loop (ssh) --network none -- true', argv: run(small, 'loop'), env },
      { name: 'mino run --network none -- true (local engine)', argv: run(small, undefined), env },
    ],
    { runs, warmup },
  );
  // BENCH_TRACE=1: one remote and one local run again with mino's timeline (--trace) on stderr.
  if (process.env.BENCH_TRACE) {
    for (const engine of ['loop', undefined]) {
      const argv = run(small, engine);
      const r = spawnSync(argv[0], argv.slice(1), { env: { ...env, MINO_TRACE: '1' }, encoding: 'utf8' });
      process.stderr.write(`--- ${engine ?? 'local'}\n${r.stderr}\n${phases(r.stderr)}\n`);
    }
  }
  return { remote, local, ratio: Math.round((remote.median_ms / local.median_ms) * 100) / 100, target_ratio: 2 };
}

/**
 * Where a traced run's time goes (ms): Node's start to mino's `main`, mino's work before the
 * session's `podman run`, that run, and what follows it; then each engine call (podman, or the
 * sync trips' `sh -c cat | podman`) with its start and duration, spans ending in order.
 */
function phases(trace) {
  const events = [...trace.matchAll(/^mino-trace +([0-9.]+) ms {2}(.+?)(?: {2}(.*))?$/gm)].map((m) => ({
    at: Number(m[1]),
    event: m[2],
    detail: m[3] ?? '',
  }));
  const at = (event) => events.find((e) => e.event === event)?.at;
  const session = events.find((e) => e.event === 'exec attached');
  const sessionDone = events.find((e) => e.event === 'exec attached done');
  const done = at('done');
  const rows = [
    ['start to main', at('main')],
    ["main to the session's podman run", session && session.at - at('main')],
    ['session (podman run)', sessionDone && session && sessionDone.at - session.at],
    ['after the session', done && sessionDone && done - sessionDone.at],
  ];
  const calls = events.filter((e) => /^exec( streamed)?$/.test(e.event) && /podman/.test(e.detail));
  const ends = events.filter((e) => /^exec( streamed)? done$/.test(e.event));
  const used = new Set();
  for (const c of calls) {
    const end = ends.find((e) => e.at >= c.at && !used.has(e) && e.event === `${c.event} done`);
    if (end) used.add(end);
    // A piped call's verb is past the argv head the trace shows.
    const verb = c.detail.startsWith('sh -c cat')
      ? '(input piped)'
      : (c.detail.match(/\.\.\. ([a-z]+(?: [a-z]+)?) \.\.\./)?.[1] ?? c.detail.slice(0, 30));
    const what = c.event === 'exec' ? 'podman' : 'podman, streamed (sync trip)';
    rows.push([`  ${what} ${verb} at ${c.at.toFixed(0)}`, end && end.at - c.at]);
  }
  return rows.map(([name, ms]) => `${name.padEnd(48)} ${ms === undefined ? '-' : ms.toFixed(0)}`).join('\n');
}

/**
 * The floor of the ratio above: podman's own client, the same container on both engines
 * (`podman --url … run` through the same ssh loopback, against `podman run` here).
 */
function rawPodman(rig, { runs, warmup }) {
  const flags = ['run', '--rm', '--network', 'none', IMAGE, 'true'];
  const [remote, local] = interleaved(
    [
      {
        name: 'podman --url <ssh loopback> run --rm --network none busybox true',
        argv: ['podman', '--url', rig.url, '--identity', rig.key, ...flags],
      },
      { name: 'podman run --rm --network none busybox true (local)', argv: ['podman', ...flags] },
    ],
    { runs, warmup },
  );
  return { remote, local, ratio: Math.round((remote.median_ms / local.median_ms) * 100) / 100 };
}

/** The contained default there against --network none there (and the first run, which builds the proxy image). */
function remoteContained(m, run, small, env, { runs, warmup }) {
  // The contained default there (its egress proxy runs on the engine, in a container) against
  // --network none there; the first contained run builds the proxy's image on the engine.
  const contained = m('run', '--engine', 'loop', '--image', IMAGE, '-p', small, '--no-cache', '--', 'true');
  const proxyImage = timeOnce(contained, { env });
  const [remoteContained, remoteNone] = interleaved(
    [
      { name: 'mino run --engine loop (ssh) -- true (contained)', argv: contained, env },
      { name: 'mino run --engine loop (ssh) --network none -- true', argv: run(small, 'loop'), env },
    ],
    { runs, warmup },
  );
  return {
    contained: remoteContained,
    none: remoteNone,
    added_ms: round(remoteContained.median_ms - remoteNone.median_ms),
    first_run_with_proxy_image_build_ms: round(proxyImage),
  };
}

/** Shipping a 10,000-file, 200 MB project: the first run, 10 files changed here, 10 changed there. */
function shipment(run, root, env, rig) {
  let big = join(root, 'big-0');
  bigProject(big, 10_000, 20_000);
  // The 200 MB just written go to disk first, not while the first run reads them; what the parts
  // before left running on the engine (a refill, a drain, a proxy's end) ends first too.
  spawnSync('sync');
  rig.idle();
  const opts = { env };
  // The first shipment BENCH_SHIP_RUNS times (default 3; the project renamed in between is a new
  // project to mino: its own volume there, all of it shipped), each against a run right after it
  // where nothing travels; the median of the differences.
  const firsts = [];
  const nothings = [];
  const shipping = [];
  for (let i = 0; i < Number(process.env.BENCH_SHIP_RUNS ?? 3); i++) {
    if (i > 0) {
      const next = join(root, `big-${i}`);
      renameSync(big, next);
      big = next;
    }
    firsts.push(timeOnce(run(big, 'loop'), opts));
    nothings.push(timeOnce(run(big, 'loop'), opts));
    shipping.push(firsts.at(-1) - nothings.at(-1));
  }
  // BENCH_TRACE=1: one more first shipment with mino's timeline on stderr.
  if (process.env.BENCH_TRACE) {
    const traced = join(root, 'big-traced');
    renameSync(big, traced);
    const argv = run(traced, 'loop');
    const r = spawnSync(argv[0], argv.slice(1), { env: { ...env, MINO_TRACE: '1' }, encoding: 'utf8' });
    process.stderr.write(`--- first shipment\n${r.stderr}`);
    renameSync(traced, big);
  }
  const first = median(firsts);
  const nothing = median([...nothings, ...[0, 1].map(() => timeOnce(run(big, 'loop'), opts))]);
  for (let i = 0; i < 10; i++) writeFileSync(join(big, `d${i}`, `f${i * 100}.bin`), randomBytes(20_000));
  const changed = timeOnce(run(big, 'loop'), opts);
  const back = timeOnce(
    run(big, 'loop', ['sh', '-c', 'for i in 0 1 2 3 4 5 6 7 8 9; do echo x >> d$i/f$((i*100)).bin; done']),
    opts,
  );
  return {
    first_run_ms: round(first),
    nothing_changed_run_ms: round(nothing),
    first_shipping_ms: round(median(shipping)),
    first_shipping_runs_ms: shipping.map(round),
    target_first_ms: 5000,
    ten_changed_run_ms: round(changed),
    ten_changed_shipping_ms: round(changed - nothing),
    target_ten_changed_ms: 1000,
    ten_back_run_ms: round(back),
    ten_back_ms: round(back - nothing),
    target_ten_back_ms: 1000,
  };
}

// Alone: `node bench/remote.mjs` prints the remote figures only.
if (import.meta.url === `file://${process.argv[1]}`) {
  const mino = join(new URL('..', import.meta.url).pathname, 'bin', 'mino');
  const result = await remoteBench({ mino, runs: Number(process.env.BENCH_RUNS ?? 5), warmup: 1 });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
