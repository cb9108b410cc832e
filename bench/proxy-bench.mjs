#!/usr/bin/env node
// The egress proxy's real-session bench cases alone (bench/network.mjs and bench/tls.mjs as
// `npm run bench` runs them, without the rest): `node bench/proxy-bench.mjs [network] [tls] [floor]`
// (all by default; floor: bench/proxy-floor.mjs), BENCH_RUNS / BENCH_WARMUP as for npm run bench (default 3 and 1). Needs
// `npm run build` (bin/mino), mino-base and localhost/mino-probe:1 (mino setup). Prints JSON.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { networkBench } from './network.mjs';
import { tlsBench } from './tls.mjs';
import { proxyFloorBench } from './proxy-floor.mjs';
import { benchEnv } from './lib.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const which = process.argv.slice(2);
const want = (name) => which.length === 0 || which.includes(name);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const warmup = Number(process.env.BENCH_WARMUP ?? 1);
const root = mkdtempSync(join(tmpdir(), 'mino-proxy-bench-'));
const project = join(root, 'project');
mkdirSync(project);
const env = benchEnv(root);
const ctx = { mino: join(repo, 'bin', 'mino'), env, project, root, image: 'localhost/mino-probe:1', runs, warmup };
try {
  const out = { runs, load_average: (await import('node:os')).loadavg().map((l) => Math.round(l * 100) / 100) };
  if (want('network')) out.network = await networkBench(ctx);
  if (want('tls')) out.tls = await tlsBench(ctx);
  if (want('floor')) out.floor = await proxyFloorBench({ runs: Math.max(runs, 3) });
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
