import { type spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMino, type MinoResult, type RunAs } from '../../helpers/run-mino.js';
import {
  IS_ROOT,
  REPO_ROOT,
  ROOTLESS_USER,
  TEST_IMAGE,
  ownProject,
  stateKeyOf,
  uidOf,
} from '../../helpers/test-env.js';
import { Sandbox, buildTestImage, hex, podmanAs } from '../../helpers/sandbox.js';

/**
 * Shared set-up of the credentials integration tests: a sandbox whose PATH starts with fake gh,
 * aws, gcloud and az (test/fixtures/credentials/bin/fake-cli) printing tokens unique to the test,
 * and the places a secret must never show up.
 */

/** The fake CLIs' tools. */
export const TOOLS = ['gh', 'aws', 'gcloud', 'az'] as const;

/** A sandbox with fake credential CLIs. */
export class CredSandbox extends Sandbox {
  /** Directory with the fakes' behaviour files and calls.log. */
  readonly fakeDir: string;
  /** Token each fake prints. */
  readonly tokens: Record<(typeof TOOLS)[number], string>;
  readonly uid: number;

  constructor(as: RunAs) {
    super(as);
    this.uid = as === 'rootless' && IS_ROOT ? uidOf(ROOTLESS_USER)! : (process.getuid?.() ?? 0);
    const bin = join(this.root, 'bin');
    mkdirSync(bin);
    cpSync(join(REPO_ROOT, 'test', 'fixtures', 'credentials', 'bin', 'fake-cli'), join(bin, 'fake-cli'));
    chmodSync(join(bin, 'fake-cli'), 0o755);
    for (const t of TOOLS) symlinkSync('fake-cli', join(bin, t));
    this.fakeDir = join(this.root, 'fake');
    mkdirSync(this.fakeDir);
    this.chown(this.fakeDir);
    const id = hex(10);
    this.tokens = { gh: `ghp_FAKEGH${id}`, aws: `FAKEAWS${id}`, gcloud: `ya29.FAKEGCP${id}`, az: `eyFAKEAZ${id}` };
    for (const t of TOOLS) this.fake(t, 'token', this.tokens[t]);
    this.env.PATH = `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`;
    this.env.FAKE_CRED_DIR = this.fakeDir;
  }

  /** Sets a fake's behaviour file (`mode`, `token`, `expires`). */
  fake(tool: string, what: 'mode' | 'token' | 'expires', value: string): void {
    const path = join(this.fakeDir, `${tool}.${what}`);
    writeFileSync(path, value);
    this.chown(path);
  }

  /** The fakes' calls so far, one line each. */
  calls(): string[] {
    const path = join(this.fakeDir, 'calls.log');
    return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
  }

  /** Every value a provider hands out (AWS: key, secret and token). */
  secrets(): string[] {
    return [this.tokens.gh, this.tokens.aws, `${this.tokens.aws}-secret`, this.tokens.gcloud, this.tokens.az];
  }

  /** Writes the global config file. */
  config(toml: string): void {
    const dir = join(this.env.XDG_CONFIG_HOME as string, 'mino');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.toml'), toml);
    this.chown(dir);
    this.chown(join(dir, 'config.toml'));
  }

  /** mino's state directory. */
  get stateDir(): string {
    return join(this.env.XDG_STATE_HOME as string, 'mino');
  }

  /** The key of the state directory (label io.mino.state). */
  get stateKey(): string {
    return stateKeyOf(this.stateDir);
  }

  /** Session env files (and relay sockets) present now, wherever this user's mino keeps them. */
  sessionEnvFiles(): string[] {
    const key = this.stateKey;
    const dirs = [
      join('/run/user', String(this.uid), 'mino', key, 'session-env'),
      join('/run/mino', key, 'session-env'),
      join(this.stateDir, 'session-env'),
    ];
    return dirs.flatMap((d) => (existsSync(d) ? readdirSync(d).map((f) => join(d, f)) : []));
  }

  /** Everything mino wrote in its state directory that could hold a leak: sessions, audit log, caches except the credential cache. */
  stateTexts(): string {
    const out: string[] = [];
    const walk = (dir: string): void => {
      if (!existsSync(dir)) return;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          if (e.name !== 'credentials') walk(p);
        } else if (e.isFile()) out.push(readFileSync(p, 'utf8'));
      }
    };
    walk(this.stateDir);
    return out.join('\n');
  }

  /** Runs mino with extra environment. */
  minoEnv(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<MinoResult> {
    return runMino(args, { as: this.as, env: { ...this.env, ...env }, timeoutMs });
  }

  /** Gives a path to the user mino runs as. */
  chown(path: string): void {
    if (this.as === 'rootless' && IS_ROOT) chownSync(path, this.uid, this.uid);
  }

  /** Also removes the logins volume and leftover env files. */
  /**
   * A project owned by the user the image's user maps to: rootful, a normal user (as a
   * developer's checkout on a server; a root-owned one would make the image's user host root).
   */
  override project(name: string): string {
    const dir = super.project(name);
    ownProject(dir, this.as);
    return dir;
  }

  override cleanup(): void {
    podmanAs(this.as, ['volume', 'rm', '-f', `mino-logins-${this.stateKey}`]);
    for (const f of this.sessionEnvFiles()) rmSync(f, { force: true });
    super.cleanup();
  }
}

/** The host's process list (command lines of every process). */
export function processList(): string {
  return spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).stdout;
}

/** The secrets of `secrets` that occur in `text` (so a failure names them). */
export function leaked(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => text.includes(s));
}

/**
 * PID of the `node …/mino` process of a child from {@link Sandbox.spawn}: the child itself, or
 * (rootless, through runuser) runuser's one child. Never podman's client, mino's own child.
 */
export function minoPid(child: ReturnType<typeof spawn>, as: RunAs): number {
  if (as !== 'rootless' || !IS_ROOT) return child.pid!;
  const out = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.trim();
  return out ? Number(out.split('\n')[0]) : child.pid!;
}

/** A scratch directory every user may read (0755), removed by the caller. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * Builds, for `as`, an image mino treats as its own (a `mino-composed-` name: home volume,
 * user developer uid 1000, its home at /home/developer) from the busybox test image, with host
 * programs copied in together with their shared libraries (e.g. ssh-add, which needs glibc).
 * Labelled io.mino.test, so the global teardown removes it.
 */
export function buildAgentTestImage(as: RunAs, programs: readonly string[]): string {
  const tag = `localhost/mino-composed-7e57${hex(8)}:latest`;
  const dir = scratchDir('mino-cred-image-');
  const root = join(dir, 'root');
  mkdirSync(join(root, 'home', 'developer'), { recursive: true });
  const copy = (path: string): void => {
    const dest = join(root, path);
    mkdirSync(join(dest, '..'), { recursive: true });
    cpSync(path, dest, { dereference: true });
  };
  for (const program of programs) {
    copy(program);
    const ldd = spawnSync('ldd', [program], { encoding: 'utf8' }).stdout;
    for (const m of ldd.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) copy(m[1]!);
  }
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  return buildTestImage(as, dir, tag, [
    `FROM ${TEST_IMAGE}`,
    'COPY root/ /',
    'RUN chown -R 1000:1000 /home/developer',
    'USER 1000',
  ]);
}

/** The home volume mino gives a project (to remove at cleanup). */
export function homeVolumeOf(projectDir: string): string {
  return `mino-home-${createHash('sha256').update(projectDir).digest('hex').slice(0, 12)}`;
}
