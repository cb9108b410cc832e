// Shared helpers of `npm run bench`: timing child processes, statistics, host facts.
import { spawnSync } from 'node:child_process';
import os from 'node:os';

/** Runs argv once and returns its wall time in milliseconds (throws on a non-zero exit). */
export function timeOnce(argv, options = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: options.env ?? process.env, cwd: options.cwd });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== (options.expectCode ?? 0)) {
    throw new Error(`${argv.join(' ')} exited ${r.status}: ${String(r.stderr).slice(-500)}`);
  }
  return ms;
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
 * machine noise hits all of them alike. Returns per-command {median, p95, runs}.
 */
export function interleaved(commands, { runs = 10, warmup = 2 } = {}) {
  const samples = commands.map(() => []);
  for (let i = 0; i < warmup + runs; i++) {
    commands.forEach((c, j) => {
      const ms = timeOnce(c.argv, c);
      if (i >= warmup) samples[j].push(ms);
    });
  }
  return commands.map((c, j) => ({
    name: c.name,
    median_ms: round(median(samples[j])),
    p95_ms: round(p95(samples[j])),
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
