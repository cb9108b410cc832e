import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../common/logger.js';
import { traceSpan } from '../common/trace.js';
import type { NetworkRecord } from '../network/network-record.js';
import type { EgressSessionContext, EgressStarter, SessionEgress } from '../network/session-egress.js';
import type { ContainerRuntime, ContainerSpec, ExecOutput } from '../runtime/container-runtime.js';
import { bumpCounters } from '../session/sandbox-counters.js';
import type { RunPlan } from './run-plan.js';
import { forwardSignals, type SignalSource } from './signal-policy.js';
import { runThroughAgent } from './warm-agent-client.js';

/**
 * The executor: the one module that starts session containers. Two strategies, one signal policy
 * (signal-policy.ts):
 * - warm: a warm container a {@link WarmSource} (the pool) claimed for the plan runs the plan's
 *   command through its warm agent (no podman call; runs without a terminal, see
 *   warm-agent-client.ts) or else with `podman exec`, attached to this terminal; a claimed
 *   container that turned out gone is followed by the next claim, and no claim at all by a cold
 *   start;
 * - cold: `podman run` attached to this terminal (the command's exit code comes back), or
 *   detached (the container ID comes back). With an egress policy, the session's proxy is
 *   started first (next to `podman run`: the container's hook waits for it) and, for attached
 *   runs, finished after the command ended, its final record coming back with the exit code.
 * The warm containers themselves are started here too ({@link startWarmContainer}), for the pool
 * to fill itself. Nothing else: recording the session and explaining failures are the caller's.
 */

/** How an execution ended. */
export type Execution =
  | { kind: 'exited'; exitCode: number; network?: NetworkRecord; networkError?: Error }
  | { kind: 'detached'; containerId: string };

/** How the executor starts a session's egress proxy (the real one, or a test's). */
export interface EgressDeps {
  start: EgressStarter;
  context: EgressSessionContext;
  /** Called before a cold start only: what the context lacks until then (a deferred session CA's secrets). */
  prepare?: () => Promise<Partial<EgressSessionContext>>;
}

/** An error of the egress proxy's start-up, to explain a failed container start. */
export class EgressStartError extends Error {
  constructor(
    override readonly cause: Error,
    readonly exitCode?: number,
  ) {
    super(cause.message);
    this.name = 'EgressStartError';
  }
}

/** A warm container claimed for one run (see {@link WarmSource}). */
export interface WarmClaim {
  /** The container's ID. */
  container: string;
  /** The argv the command is appended to for `podman exec` (the warm container's wrapper). */
  wrapper: readonly string[];
  /** Variables of this run on top of the container's (its credentials' placeholders). */
  env?: Record<string, string>;
  /**
   * The socket of the container's warm agent, when it has one and the run can use it (no
   * terminal): the command then runs through it without podman (launch/warm-agent-client.ts);
   * an agent that turns out unavailable leaves the run to `podman exec`.
   */
  agent?: string;
  /**
   * Called once the command ended (or failed to start): the container is never used again.
   * `viaAgent`: the command ran through the agent (no podman call was needed).
   */
  release(viaAgent: boolean): void;
  /** After the command exited with `exitCode`: true when the container had vanished (the run goes on with the next claim). */
  vanished(exitCode: number): Promise<boolean>;
  /** A contained run: the container's egress proxy, claimed for this session (its final record comes back). */
  network?: { finish(): Promise<NetworkRecord | undefined> };
  /** Once the command exited through the agent: seconds its agent keeps the container (see AgentIo.lingerSeconds). */
  lingerSeconds?: () => number;
  /** Output `podman exec` may lose (a remote engine's): it comes through here, made whole before the release. */
  output?: WarmOutput;
}

/** A warm run's output through mino: the exec's streams, then `settle` once the exec ended (see WarmClaim.output). */
export interface WarmOutput extends ExecOutput {
  settle(exitCode: number): Promise<void>;
}

/** Where warm containers come from (the pool, pool/pooled-run.ts), for the warm strategy. */
export interface WarmSource {
  /** Claims the next warm container that serves `plan`; undefined when there is none (the run starts cold). */
  claim(plan: RunPlan): Promise<WarmClaim | undefined>;
}

/** How {@link executePlan} runs: signals, egress proxy, warm containers, counters. */
export interface ExecuteOptions {
  /** Where termination signals come from (default: this process). */
  signals?: SignalSource;
  /** The egress proxy's starter; required when the plan has an egress policy. */
  egress?: EgressDeps;
  /** Warm containers to try before a cold start (attached runs only). */
  warm?: WarmSource;
  /** The state directory whose sandbox counters count the containers created (none: not counted). */
  countIn?: string;
}

/** Starts the plan's session, warm when a claim serves it, else cold (see the module comment). */
export async function executePlan(
  runtime: ContainerRuntime,
  plan: RunPlan,
  options: ExecuteOptions = {},
): Promise<Execution> {
  const signals = options.signals ?? process;
  if (options.warm && plan.attached) {
    for (let claim = await options.warm.claim(plan); claim; claim = await options.warm.claim(plan)) {
      let exitCode: number | undefined;
      let viaAgent = false;
      try {
        if (claim.agent !== undefined) exitCode = await runInAgent(plan, claim, claim.agent, signals);
        viaAgent = exitCode !== undefined;
        exitCode ??= await execInWarm(runtime, plan, claim, signals);
      } finally {
        claim.release(viaAgent);
      }
      // The agent answered: the container was there (only podman's 125 can mean it vanished).
      if (!viaAgent && (await claim.vanished(exitCode))) continue;
      return { kind: 'exited', exitCode, ...(await finishWarmNetwork(claim)) };
    }
  }
  return options.countIn === undefined
    ? startCold(runtime, plan, signals, options.egress)
    : startCounted(runtime, plan, options.countIn, signals, options.egress);
}

/** The final record of a claimed container's egress proxy, as a cold run's comes back. */
async function finishWarmNetwork(claim: WarmClaim): Promise<{ network?: NetworkRecord; networkError?: Error }> {
  try {
    const network = await claim.network?.finish();
    return network ? { network } : {};
  } catch (err) {
    return { networkError: err as Error };
  }
}

/** Starts a warm container for the pool (`podman run -d` of its warm spec); returns its ID. */
export function startWarmContainer(runtime: ContainerRuntime, spec: ContainerSpec): Promise<string> {
  return runtime.run(spec);
}

/** The cold strategy: starts the plan's container (and its egress proxy) and waits for it when it is attached. */
async function startCold(
  runtime: ContainerRuntime,
  plan: RunPlan,
  signals: SignalSource,
  egressDeps?: EgressDeps,
): Promise<Execution> {
  const egressPlan = plan.network.egress;
  if (egressPlan && !egressDeps) throw new Error('Internal error: an egress plan needs an egress starter');
  const context = egressDeps?.prepare
    ? { ...egressDeps.context, ...(await egressDeps.prepare()) }
    : egressDeps?.context;
  const egress: SessionEgress | undefined =
    egressPlan && egressDeps && context ? egressDeps.start(egressPlan, context) : undefined;
  const explain = async (err: unknown, exitCode?: number): Promise<unknown> => {
    await egress?.ready.catch(() => undefined);
    const failure = egress?.failure();
    await egress?.abort();
    return failure ? new EgressStartError(failure, exitCode) : err;
  };
  if (!plan.attached) {
    try {
      const containerId = await runtime.run(plan.spec);
      egress?.release();
      return { kind: 'detached', containerId };
    } catch (err) {
      throw await explain(err);
    }
  }
  const release = forwardSignals(runtime, plan.containerName, signals);
  let exitCode: number;
  try {
    exitCode = await runtime.runAttached(plan.spec, { ownProcessGroup: !(plan.spec.tty ?? false) });
  } catch (err) {
    throw await explain(err);
  } finally {
    release();
  }
  if (!egress) return { kind: 'exited', exitCode };
  if (exitCode === 125 || exitCode === 126 || exitCode === 127) {
    // podman could not start the container: the proxy's own failure is the better explanation.
    await egress.ready.catch(() => undefined);
    const failure = egress.failure();
    if (failure) {
      await egress.abort();
      throw new EgressStartError(failure, exitCode);
    }
  }
  try {
    return { kind: 'exited', exitCode, network: await egress.finish() };
  } catch (err) {
    return { kind: 'exited', exitCode, networkError: err as Error };
  }
}

/**
 * A cold start, counted in the sandbox counters of `stateDir`: a container created and its
 * creation time (until podman wrote the container ID, `--cidfile`, watched without polling
 * podman; for a detached run until `podman run -d` returned).
 */
async function startCounted(
  runtime: ContainerRuntime,
  plan: RunPlan,
  stateDir: string,
  signals: SignalSource,
  egress?: EgressDeps,
): Promise<Execution> {
  const started = Date.now();
  const watch = plan.attached ? cidFileFor(stateDir) : undefined;
  try {
    const outcome = await startCold(
      runtime,
      watch ? { ...plan, spec: { ...plan.spec, cidFile: watch.path } } : plan,
      signals,
      egress,
    );
    const createdAt = watch ? watch.createdAt() : Date.now();
    if (createdAt !== undefined) countCreated(stateDir, createdAt - started);
    return outcome;
  } finally {
    watch?.close();
  }
}

/** Adds a created container to the sandbox counters; a failure is logged, never thrown (the run matters more). */
export function countCreated(stateDir: string, creationMs: number): void {
  try {
    bumpCounters(stateDir, { sandboxes_created: 1, creation_ms_total: creationMs });
  } catch (err) {
    log.warn('could not update the sandbox counters', { error: String(err) });
  }
}

/**
 * A `--cidfile` path under the state directory; podman writes it once the container exists, so
 * its modification time is the container's creation time (no podman call, no polling).
 */
function cidFileFor(
  stateDir: string,
): { path: string; createdAt: () => number | undefined; close: () => void } | undefined {
  const dir = join(stateDir, 'cid');
  const path = join(dir, `${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    log.debug('no directory for the container ID file', { error: String(err) });
    return undefined;
  }
  return { path, createdAt: () => mtimeOf(path), close: () => rmSync(path, { force: true }) };
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The command of a warm run: through the session prelude when there is one (shared logins, host agent settings), as cold. */
function warmCommand(plan: RunPlan, claim: WarmClaim): string[] {
  return [...claim.wrapper, ...(plan.credentials.prelude ? plan.spec.command : plan.command)];
}

/**
 * The warm strategy through the container's agent (no podman call): the command's exit code, or
 * undefined when the agent is unavailable (nothing ran; the run goes on with `podman exec`).
 * Signals go to the command through the agent: SIGINT as SIGINT, SIGTERM and SIGHUP as SIGTERM
 * (SIGKILL 10 s later, as `podman stop`), a second signal as SIGKILL.
 */
async function runInAgent(
  plan: RunPlan,
  claim: WarmClaim,
  socket: string,
  signals: SignalSource,
): Promise<number | undefined> {
  const end = traceSpan('warm run through the agent', claim.container.slice(0, 12));
  const outcome = await runThroughAgent(
    socket,
    {
      argv: warmCommand(plan, claim),
      ...(plan.spec.workdir === undefined ? {} : { cwd: plan.spec.workdir }),
      ...(claim.env ? { env: claim.env } : {}),
      interactive: plan.spec.interactive ?? true,
    },
    {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      signals,
      ...(claim.lingerSeconds ? { lingerSeconds: claim.lingerSeconds } : {}),
    },
  );
  if (outcome.kind === 'exited') {
    end(`exit ${outcome.exitCode}`);
    return outcome.exitCode;
  }
  end(`unavailable: ${outcome.reason}`);
  log.info('warm agent unavailable; running with podman exec', { reason: outcome.reason });
  return undefined;
}

/**
 * The warm strategy: runs the plan's command in its claimed container attached to this terminal,
 * with the signal policy of a cold run (the warm container's main process hands INT, TERM and HUP
 * to the command). With a terminal, Ctrl-C goes through the terminal, as in a cold run.
 */
async function execInWarm(
  runtime: ContainerRuntime,
  plan: RunPlan,
  claim: WarmClaim,
  signals: SignalSource,
): Promise<number> {
  const tty = plan.spec.tty ?? false;
  const release = forwardSignals(runtime, claim.container, signals);
  try {
    const exitCode = await runtime.execSession(claim.container, warmCommand(plan, claim), {
      tty,
      interactive: plan.spec.interactive ?? true,
      ...(plan.spec.workdir === undefined ? {} : { workdir: plan.spec.workdir }),
      // podman sets HOSTNAME (the container's host name) for a container's main process only.
      env: {
        ...(plan.spec.env && 'HOSTNAME' in plan.spec.env
          ? {}
          : { HOSTNAME: plan.spec.hostname ?? claim.container.slice(0, 12) }),
        ...claim.env,
      },
      ownProcessGroup: !tty,
      ...(claim.output ? { output: claim.output } : {}),
    });
    await claim.output?.settle(exitCode);
    return exitCode;
  } finally {
    release();
  }
}
