import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { writeFileAtomic } from '../common/atomic-write.js';
import { MinoError } from '../common/errors.js';
import { ensurePrivateDir } from '../common/private-dir.js';
import { pidAlive } from '../common/pid-alive.js';
import { ControlUnavailableError, controlRequest } from './control.js';
import { readHelperInfo, type EgressLaunch } from './egress-launch.js';
import type { EgressPlan } from './egress-plan.js';
import { encodeEgressSecrets, type EgressSecrets } from './egress-secrets.js';
import { egressPathsOf, type EgressPaths } from './egress-paths.js';
import { answerHook, readHookRequests } from './hook-fifo.js';
import { networkLogPath, readNetworkRecord, type NetworkRecord } from './network-record.js';
import { hookDocument } from './netns-hook.js';
import { findProgram } from '../common/find-program.js';
import { processStartTime } from './proxy/netns-listener.js';
import { sshProxyConfig } from './ssh-proxy-config.js';

/**
 * Starting and ending a session's egress proxy from `mino run`. The proxy is a detached process
 * of its own (`mino _egress-proxy DIR`), so it outlives a detached `mino run` and serves the
 * session for exactly as long as the container lives; `mino run` starts it next to `podman run`
 * (the container's hook waits for it), and for attached runs asks it for the final record when
 * the command has ended.
 */

/** Who the session is and where its proxy reports. */
export interface EgressSessionContext {
  session: string;
  stateDir: string;
  stateKey: string;
  audit: boolean;
  ownerPid: number;
  rootless: boolean;
  /** argv that runs mino itself (common/self-argv.ts). */
  self: readonly string[];
  /** How long the proxy waits for its container (default 10 minutes: a slow first start included). */
  startupTimeoutMs?: number;
  /** The session CA and the proxied credentials: written to the proxy's stdin, nowhere else. */
  secrets?: EgressSecrets;
  /** A warm container's proxy (egress-launch.ts `warm`): `session` is the container's name. */
  warm?: boolean;
  /** Where the proxy's own errors go (default: next to the session's network record). */
  logPath?: string;
}

/** A started proxy, as `mino run` holds it. */
export interface SessionEgress {
  /** Settles once the proxy serves (or failed to start; the container's hook then fails too). */
  readonly ready: Promise<void>;
  /** The proxy's start-up error, once known. */
  failure(): Error | undefined;
  /** The session ended: the final record, and the proxy stops. */
  finish(): Promise<NetworkRecord | undefined>;
  /** The container could not start: stop the proxy. */
  abort(): Promise<void>;
  /** A detached session started: the proxy lives on without this process. */
  release(): void;
}

/** Starts a session's proxy. */
export type EgressStarter = (plan: EgressPlan, ctx: EgressSessionContext) => SessionEgress;

/** Prepares the session's egress directory: FIFOs, hook file, launch file. */
function prepareEgressDir(plan: EgressPlan, ctx: EgressSessionContext, paths: EgressPaths): void {
  if (!findProgram('nsenter')) {
    throw new MinoError('Network allowlists need nsenter, which is not installed', {
      hint: 'Install util-linux (e.g. apt-get install util-linux), or run with --network bridge or none',
    });
  }
  ensurePrivateDir(paths.base, "the session's egress proxy");
  stopStaleProxy(paths);
  rmSync(paths.dir, { recursive: true, force: true });
  mkdirSync(paths.dir, { mode: 0o700 });
  mkdirSync(paths.hooksDir, { mode: 0o700 });
  const fifo = spawnSync('mkfifo', ['-m', '600', paths.attach, paths.attached], { encoding: 'utf8' });
  if (fifo.status !== 0)
    throw new MinoError(
      `Cannot create the egress FIFOs in ${paths.dir}: ${(fifo.stderr || fifo.error?.message || '').trim()}`,
    );
  // A fresh private directory nobody reads before this returns: plain writes, no fsync.
  writeFileSync(paths.hookFile, hookDocument(paths.dir), { mode: 0o600, flag: 'wx' });
  if (plan.sshConfig && !existsSync(plan.sshConfig.source)) {
    // Read by the container user through a read-only bind mount.
    writeFileAtomic(plan.sshConfig.source, sshProxyConfig(plan.listen.port), { mode: 0o644 });
  }
  const launch: EgressLaunch = {
    version: 1,
    session: ctx.session,
    stateKey: ctx.stateKey,
    stateDir: ctx.stateDir,
    audit: ctx.audit,
    policy: plan.policy,
    presets: plan.presets,
    listen: plan.listen,
    rootless: ctx.rootless,
    ownerPid: ctx.ownerPid,
    startupTimeoutMs: ctx.startupTimeoutMs ?? 10 * 60_000,
    ...(ctx.secrets ? { secrets: true } : {}),
    ...(ctx.warm ? { warm: true } : {}),
  };
  writeFileSync(paths.launch, `${JSON.stringify(launch, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
}

/**
 * Stops the proxy of an earlier session of this name that has not stopped yet: it would remove
 * the new session's directory when it does.
 */
export function stopStaleProxy(paths: EgressPaths): void {
  const stale = readHelperInfo(paths.helper);
  if (stale && processStartTime(stale.pid) === stale.start) {
    try {
      process.kill(stale.pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * The final record of a session's proxy at `paths`: it answers `finish` with it and stops; one
 * that saw its container end first is finishing on its own (waited for, up to 3 s, when its PID
 * is known), and its record is read from disk.
 */
export async function finishProxy(
  paths: EgressPaths,
  stateDir: string,
  session: string,
  pid: number | undefined,
): Promise<NetworkRecord | undefined> {
  try {
    const res = await controlRequest(paths.control, { op: 'finish' });
    if (res.ok) return res.record;
  } catch (err) {
    if (!(err instanceof ControlUnavailableError)) throw err;
  }
  if (pid !== undefined) await waitGone(pid, 3000);
  return readNetworkRecord(stateDir, session);
}

async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (pidAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
}

/** `env` without the variables whose value is one of `values`. */
function withoutValues(env: NodeJS.ProcessEnv, values: readonly string[]): NodeJS.ProcessEnv {
  if (values.length === 0) return env;
  const drop = new Set(values.filter((v) => v !== ''));
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v === undefined || !drop.has(v)));
}

/** The real starter: prepares the directory and spawns the proxy process. */
export const startSessionEgress: EgressStarter = (plan, ctx) => {
  const paths = egressPathsOf(plan.dir);
  prepareEgressDir(plan, ctx, paths);
  const logPath = ctx.logPath ?? networkLogPath(ctx.stateDir, ctx.session);
  mkdirSync(dirname(logPath), { recursive: true, mode: 0o700 });
  const logFd = openSync(logPath, 'a', 0o600);
  const [file, ...args] = ctx.self;
  const child = spawn(file!, [...args, '_egress-proxy', paths.dir], {
    detached: true,
    // The real values reach it on stdin only: not also in its environment (/proc/PID/environ).
    env: withoutValues(process.env, ctx.secrets?.credentials.map((c) => c.value) ?? []),
    stdio: [ctx.secrets ? 'pipe' : 'ignore', 'ignore', logFd, 'pipe'],
  });
  closeSync(logFd);
  if (ctx.secrets && child.stdin) {
    child.stdin.on('error', () => undefined);
    child.stdin.end(encodeEgressSecrets(ctx.secrets));
  }
  let failure: Error | undefined;
  let refuser: ReturnType<typeof readHookRequests> | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    const pipe = child.stdio[3] as Readable;
    let text = '';
    const fail = (err: Error): void => {
      failure = err;
      // The container's hook may already wait for the proxy: answer it, so podman fails now
      // instead of after the hook's timeout.
      try {
        refuser = readHookRequests(paths.attach, () => void answerHook(paths.attached, err.message));
      } catch {
        // the directory is gone: the hook fails on its own
      }
      reject(err);
    };
    pipe.setEncoding('utf8');
    pipe.on('data', (chunk: string) => {
      text += chunk;
    });
    pipe.on('error', () => undefined);
    pipe.on('close', () => {
      const line = text.trim();
      if (line === 'ready') resolve();
      else
        fail(
          new MinoError(
            `The egress proxy did not start: ${line.replace(/^error: /, '') || `it exited (see ${logPath})`}`,
          ),
        );
    });
    child.on('error', (err) => fail(new MinoError(`The egress proxy did not start: ${err.message}`)));
  });
  ready.catch(() => undefined);
  child.unref();

  const stopChild = async (): Promise<void> => {
    if (child.pid !== undefined && pidAlive(child.pid)) {
      child.kill('SIGTERM');
      await waitGone(child.pid, 3000);
    }
    refuser?.destroy();
    rmSync(paths.dir, { recursive: true, force: true });
  };

  return {
    ready,
    failure: () => failure,
    finish(): Promise<NetworkRecord | undefined> {
      refuser?.destroy();
      return finishProxy(paths, ctx.stateDir, ctx.session, child.pid);
    },
    abort: stopChild,
    release(): void {
      refuser?.destroy();
      (child.stdio[3] as Readable | null)?.destroy();
    },
  };
};
