// Bench case of the credentials step: `mino run -- true` with GitHub on (a fake `gh` printing a
// token, so the run gathers it, writes the session env file and starts through the prelude)
// against the same run with --no-github. Target: <= 1.1x. Needs mino-base (`mino setup`).
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { interleaved, round } from './lib.mjs';

const ratio = (a, b) => Math.round((a / b) * 100) / 100;

/**
 * Runs the pair for each network mode; undefined when mino-base is not built.
 * @param {{ mino: string, repo: string, root: string, project: string, env: NodeJS.ProcessEnv, runs: number, warmup: number }} o
 */
export function credentialsPair(o) {
  if (spawnSync('podman', ['image', 'exists', 'localhost/mino-base:latest'], { env: o.env }).status !== 0)
    return undefined;
  const bin = join(o.root, 'fake-bin');
  const fake = join(o.root, 'fake-cred');
  mkdirSync(bin, { recursive: true });
  mkdirSync(fake, { recursive: true });
  copyFileSync(join(o.repo, 'test', 'fixtures', 'credentials', 'bin', 'fake-cli'), join(bin, 'fake-cli'));
  chmodSync(join(bin, 'fake-cli'), 0o755);
  symlinkSync('fake-cli', join(bin, 'gh'));
  const env = { ...o.env, PATH: `${bin}:${o.env.PATH ?? '/usr/bin:/bin'}`, FAKE_CRED_DIR: fake };
  const out = {};
  for (const network of ['bridge', 'none']) {
    let n = 0;
    const argv = (extra) => [
      process.execPath,
      o.mino,
      'run',
      '-n',
      `bench-cred-${network}-${++n}`,
      '-p',
      o.project,
      '--network',
      network,
      ...extra,
      '--',
      'true',
    ];
    const [on, off] = interleaved(
      [
        {
          name: `mino run --network ${network} -- true (GitHub on, fake gh)`,
          get argv() {
            return argv([]);
          },
          env,
        },
        {
          name: `mino run --network ${network} --no-github -- true`,
          get argv() {
            return argv(['--no-github']);
          },
          env,
        },
      ],
      { runs: o.runs, warmup: o.warmup },
    );
    out[network] = {
      github: on,
      no_github: off,
      ratio: ratio(on.median_ms, off.median_ms),
      overhead_ms: round(on.median_ms - off.median_ms),
      target_ratio: 1.1,
    };
  }
  return out;
}

/** Removes the shared agent logins volume the bench's runs created (every session mounts it). */
export function removeLoginsVolume(env) {
  const key = createHash('sha256').update(join(env.XDG_STATE_HOME, 'mino')).digest('hex').slice(0, 12);
  spawnSync('podman', ['volume', 'rm', '-f', `mino-logins-${key}`], { env });
}
