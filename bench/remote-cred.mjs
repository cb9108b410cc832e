// Credentials and live policy on a remote engine in `npm run bench` (root only), over the same
// ssh loopback engine as bench/remote.mjs (its rig). Figures: a contained `mino run --engine loop
// -- true` that keeps a credential at the engine's proxy (the session CA made here, its key and
// the value handed to the proxy container through `podman exec`, the CA bundle as a podman secret)
// against the same contained run without one, interleaved; and `mino network allow` on a running
// remote session (one `podman exec` into its proxy), whose change the very next request sees.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchEnv, interleaved, median, round, timeOnce } from './lib.mjs';
import { startRig } from './remote.mjs';

const IMAGE = 'localhost/mino-test-busybox:latest';

/** The figures (see the module comment); `{ skipped }` when they cannot be taken. */
export async function remoteCredBench({ mino, runs, warmup }) {
  if (process.getuid?.() !== 0) return { skipped: 'run the bench as root for the remote-engine figures' };
  const root = mkdtempSync(join(tmpdir(), 'mino-bench-remote-cred-'));
  chmodSync(root, 0o755);
  const without = benchEnv(root);
  const env = { ...without, BENCH_API_TOKEN: 'bench-secret-value' };
  const rig = await startRig(root, 'mino-bench-cred');
  const m = (...args) => [process.execPath, mino, ...args];
  const ok = (argv, extra = {}) => {
    const r = spawnSync(argv[0], argv.slice(1), { env: { ...env, ...extra }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${argv.slice(2).join(' ')} failed: ${r.stderr.slice(-400)}`);
    return r.stdout;
  };
  try {
    ok(m('engine', 'add', 'loop', rig.url, '--identity', rig.key));
    const project = join(root, 'p');
    mkdirSync(project);
    const config = join(env.XDG_CONFIG_HOME, 'mino');
    mkdirSync(config, { recursive: true });
    // The credential is bound to a host of the allowlist; the run sends nothing (`true`).
    writeFileSync(
      join(config, 'config.toml'),
      '[credentials.bench]\nvariable = "BENCH_API_TOKEN"\nhosts = ["api.bench.example"]\n',
    );
    const run = (...extra) =>
      m('run', '--engine', 'loop', '--image', IMAGE, '-p', project, '--no-cache', ...extra, '--', 'true');
    const allow = '--network-allow=api.bench.example:443';
    // The first contained run builds the proxy's image on the engine: not measured.
    timeOnce(run(allow), { env });
    const [withCredential, plain] = interleaved(
      [
        { name: 'mino run --engine loop (ssh) -- true, a credential kept at the proxy', argv: run(allow), env },
        {
          name: 'the same without the credential (contained, no TLS termination)',
          argv: run(allow),
          env: without,
        },
      ],
      { runs, warmup },
    );
    // Live changes: a detached session, then `mino network allow` N times; after the last one,
    // a request in the session at once (through the engine's own podman, no tunnel).
    ok(m('run', '--engine', 'loop', '--image', IMAGE, '-p', project, '-d', '-n', 'live', allow, '--', 'sleep', '600'));
    const times = [];
    for (let i = 0; i < warmup + runs; i++) {
      const t = timeOnce(m('network', 'allow', 'live', `h${i}.bench.example:443`), { env });
      if (i >= warmup) times.push(t);
    }
    const probe = ok(
      m(
        'exec',
        'live',
        '--',
        'sh',
        '-c',
        `p=\${HTTP_PROXY#http://}; printf 'GET http://h${warmup + runs - 1}.bench.example:443/ HTTP/1.0\\r\\n\\r\\n' | nc -w 5 \${p%:*} \${p##*:} | head -1`,
      ),
    );
    ok(m('stop', '-f', 'live'));
    return {
      run_true_with_credential: {
        with_credential: withCredential,
        without: plain,
        added_ms: round(withCredential.median_ms - plain.median_ms),
      },
      network_allow_live: {
        name: 'mino network allow NAME RULE on a remote session (one podman exec into its proxy)',
        median_ms: round(median(times)),
        runs: times.length,
        // The request right after the last change was judged by it (not a 403 of "no rule": the
        // proxy tried the host, which does not resolve here: 502).
        next_request_judged_by_new_rule: /^HTTP\/1\.[01] (?!403)/.test(probe.trim()),
        next_request_status: probe.trim(),
      },
    };
  } finally {
    rig.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

// Alone: `node bench/remote-cred.mjs`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const mino = join(new URL('..', import.meta.url).pathname, 'bin', 'mino');
  const result = await remoteCredBench({ mino, runs: Number(process.env.BENCH_RUNS ?? 5), warmup: 1 });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
