import { checkEngineState } from './engine-state-check.js';
import { errorMessage, MinoError } from '../common/errors.js';
import type { Host } from '../host/host.js';
import { hostUid } from './host-files.js';
import { hasProgram } from './rootless-checks.js';
import type { ContainerRuntime, RuntimeInfo } from '../runtime/container-runtime.js';
import type { RuntimeKind } from '../runtime/select-runtime.js';
import { ensureProbeImage, runProbe, type ProbeResult } from './probe.js';
import { CheckLog, type CheckReporter, type CheckResult } from './check-result.js';
import { setGrantableUlimits, setOciRuntime } from './engine-fixes.js';
import { checkPodmanInstalled, checkRootlessPrerequisites, type FixPolicy } from './host-checks.js';
import { installPackages, rootRunner } from './privileged.js';
import { BASE_IMAGE_ID, BASE_IMAGE_TITLE, checkBaseImage, type ImageProgress } from './base-image-check.js';
import { checkStorage, type OwnStoreAccess } from './storage-check.js';
import { DEFAULT_BASE_FROM } from '../image/base-image.js';

/** Inputs of a host diagnosis. */
export interface DoctorOptions {
  runtime: ContainerRuntime;
  /** The machine the engine runs on (this one for Podman, the VM for OrbStack). */
  host: Host;
  kind: RuntimeKind;
  /** Repair what can be repaired (setup), or only report (status, setup --check). */
  fix: boolean;
  /** Apply fixes without asking (`--yes`). */
  assumeYes: boolean;
  /** A person can answer questions. */
  interactive: boolean;
  /** Asks a yes/no question (default No). */
  confirm: (question: string) => Promise<boolean>;
  reporter?: CheckReporter;
  /** Leave the mino-base image out (`mino setup --skip-image`). */
  skipImage?: boolean;
  /** Parent of mino-base (config `image.base_from`); default Debian bookworm slim. */
  baseFrom?: string;
  /** Where image build progress goes. */
  progress?: ImageProgress;
  /**
   * mino's own image store for a rootless user whose vfs store cannot be reset (native Podman
   * only). With it, `runtime` is the engine on its default store (the user's).
   */
  ownStore?: OwnStoreAccess;
}

/** Outcome of a host diagnosis. */
export interface DoctorReport {
  ok: boolean;
  results: CheckResult[];
  info: RuntimeInfo | undefined;
}

function fixPolicy(options: DoctorOptions, root: FixPolicy['root']): FixPolicy {
  return {
    root,
    fixHint: options.fix ? 'Run: mino setup --yes' : 'Run: mino setup',
    async mayFix(question) {
      if (!options.fix) return false;
      if (options.assumeYes) return true;
      if (!options.interactive) return false;
      return options.confirm(question);
    },
  };
}

const PROBE_TITLE: Record<string, string> = {
  none: 'Probe container (no network)',
  bridge: 'Probe container (bridge network)',
};

/**
 * Runs the probe on one network and repairs what its failure points at, up to a few rounds
 * (a host can have several problems: crun on cgroup v1 first, then ulimits).
 */
async function probeAndRepair(log: CheckLog, engine: Engine, network: string, policy: FixPolicy): Promise<ProbeResult> {
  const { runtime } = engine;
  const id = `probe.${network}`;
  let result = await runProbe(runtime, network);
  const tried = new Set<string>();
  while (!result.ok && result.problem && result.problem !== 'unknown' && !tried.has(result.problem)) {
    tried.add(result.problem);
    if (!(await repair(log, engine, result.problem, policy, network))) break;
    result = await runProbe(runtime, network);
  }
  const title = PROBE_TITLE[network] ?? `Probe container (${network})`;
  if (result.ok) {
    log.add({
      id,
      title,
      status: tried.size > 0 ? 'fixed' : 'ok',
      detail: `podman run --rm --network ${network} works`,
    });
  } else {
    log.add({ id, title, status: 'fail', detail: lastLine(result.stderr), hint: hintFor(result.problem, policy) });
  }
  return result;
}

function lastLine(text: string): string {
  return text.split('\n').filter(Boolean).pop() ?? text;
}

function hintFor(problem: ProbeResult['problem'], policy: FixPolicy): string {
  switch (problem) {
    case 'crun-cgroup-hybrid':
      return `crun does not support cgroup v1 hybrid hosts. ${policy.fixHint} (installs runc and sets [engine] runtime = "runc")`;
    case 'ulimits':
      return `Podman's default ulimits exceed this host's hard limits. ${policy.fixHint} (sets [containers] default_ulimits)`;
    case 'dev-net-tun':
      return `Rootless networking cannot open /dev/net/tun. ${policy.fixHint}, or as root: chmod 0666 /dev/net/tun`;
    case 'subids':
      return `Rootless uid/gid ranges are missing or invalid. ${policy.fixHint}; then: podman system migrate`;
    case 'runtime-dir':
      return 'Set XDG_RUNTIME_DIR to a 0700 directory you own';
    case 'init-missing':
      return `Podman's container init (catatonit) is missing; sessions run with --init. ${policy.fixHint} (installs catatonit)`;
    default:
      return 'Run the probe by hand to see details: podman run --rm --network none localhost/mino-probe:1';
  }
}

/** The engine under diagnosis: its runtime, its host and which kind it is. */
type Engine = Pick<DoctorOptions, 'runtime' | 'host' | 'kind'>;

/** Applies the fix for one diagnosed problem; true when something changed. */
async function repair(
  log: CheckLog,
  engine: Engine,
  problem: string,
  policy: FixPolicy,
  network: string,
): Promise<boolean> {
  const { runtime, host, kind } = engine;
  try {
    if (problem === 'crun-cgroup-hybrid') {
      if (!(await policy.mayFix('crun fails on this cgroup v1 hybrid host. Switch podman to runc?'))) return false;
      if (kind === 'podman' && !(await hasProgram('runc', host))) {
        const outcome = await installPackages(policy.root, ['runc'], host);
        if (!outcome.ok) {
          log.add({
            id: 'fix.runc',
            title: 'Install runc',
            status: 'fail',
            detail: outcome.error,
            hint: 'Install the runc package',
          });
          return false;
        }
      }
      const path = await setOciRuntime(host, 'runc');
      log.add({ id: 'fix.oci-runtime', title: 'OCI runtime', status: 'fixed', detail: `runtime = "runc" in ${path}` });
      return true;
    }
    if (problem === 'ulimits') {
      if (!(await policy.mayFix("Podman's default ulimits exceed this host's hard limits. Set default_ulimits?")))
        return false;
      let set = await setGrantableUlimits(runtime, host, network);
      if ('blockedBy' in set && set.blockedBy && set.blockedBy !== 'ulimits') {
        // Another problem hides the limits (crun on cgroup v1 fails before setrlimit): fix it, then measure.
        if (!(await repair(log, engine, set.blockedBy, policy, network))) return false;
        set = await setGrantableUlimits(runtime, host, network);
      }
      if ('blockedBy' in set) return false;
      const { path, ulimits } = set;
      log.add({
        id: 'fix.ulimits',
        title: 'Default ulimits',
        status: 'fixed',
        detail: `default_ulimits = [${ulimits.join(', ')}] in ${path}`,
      });
      return true;
    }
    if (problem === 'init-missing' && kind === 'podman') {
      if (!(await policy.mayFix("Podman's container init (catatonit) is missing. Install it?"))) return false;
      const outcome = await installPackages(policy.root, ['catatonit'], host);
      if (!outcome.ok) {
        log.add({
          id: 'fix.init',
          title: 'Install catatonit',
          status: 'fail',
          detail: outcome.error,
          hint: 'Install the catatonit package',
        });
        return false;
      }
      log.add({
        id: 'fix.init',
        title: 'Container init',
        status: 'fixed',
        detail: `installed ${outcome.packages.join(', ')} with ${outcome.manager}`,
      });
      return true;
    }
    if (problem === 'dev-net-tun' && kind === 'podman') {
      if (!(await policy.mayFix('/dev/net/tun is not usable. Make it mode 0666?'))) return false;
      const result = await policy.root.run(['chmod', '0666', '/dev/net/tun']);
      if (result.exitCode !== 0) return false;
      log.add({ id: 'fix.tun', title: '/dev/net/tun', status: 'fixed', detail: 'chmod 0666 /dev/net/tun' });
      return true;
    }
  } catch (err) {
    log.add({
      id: `fix.${problem}`,
      title: `Fix for ${problem}`,
      status: 'fail',
      detail: errorMessage(err),
      hint: err instanceof MinoError ? err.hint : undefined,
    });
  }
  return false;
}

/** Checks the container engine end to end and, when allowed, repairs it. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const log = new CheckLog(options.reporter);
  const { host } = options;
  let { runtime } = options;
  const policy = fixPolicy(options, await rootRunner(options.interactive));

  log.add({ id: 'runtime', title: 'Runtime', status: 'info', detail: runtime.name });
  if (options.kind === 'podman') {
    if (process.platform !== 'linux') {
      log.add({
        id: 'platform',
        title: 'Platform',
        status: 'fail',
        detail: process.platform,
        hint: 'Native Podman needs Linux; on macOS use OrbStack (unset MINO_RUNTIME)',
      });
      return { ok: false, results: log.results, info: undefined };
    }
    if (!(await checkPodmanInstalled(log, policy, runtime, host)))
      return { ok: log.ok, results: log.results, info: undefined };
    await checkRootlessPrerequisites(log, policy);
    await checkEngineState(log, runtime, host, policy);
  } else if (options.fix) {
    try {
      await runtime.ensureReady();
      log.add({ id: 'orbstack.ready', title: 'OrbStack machine ready', status: 'ok', detail: runtime.name });
    } catch (err) {
      log.add({
        id: 'orbstack.ready',
        title: 'OrbStack machine ready',
        status: 'fail',
        detail: errorMessage(err),
        hint: err instanceof MinoError ? err.hint : undefined,
      });
      return { ok: false, results: log.results, info: undefined };
    }
  } else if (!(await runtime.isAvailable())) {
    log.add({
      id: 'orbstack.ready',
      title: 'OrbStack machine ready',
      status: 'fail',
      detail: `${runtime.name} is not running or has no podman`,
      hint: 'Run: mino setup',
    });
    return { ok: false, results: log.results, info: undefined };
  }

  // Before the first `podman info`: on a fresh rootless user that call creates the image store,
  // and the driver it picks stays (vfs, unless overlay is configured first). A switch from vfs
  // resets the store, so it also has to come before the probe and base images are made.
  // From here on, `runtime` may be the engine on mino's own store (vfs user store with objects of the user's).
  // A failure so far (sub-ids, runtime directory, ...) would make the storage decision on a
  // podman that is not set up: it is skipped, and says so.
  if (log.ok) {
    runtime = await checkStorage(log, {
      runtime,
      host,
      policy,
      baseFrom: options.baseFrom ?? DEFAULT_BASE_FROM,
      skipImage: options.skipImage,
      own: options.kind === 'podman' ? options.ownStore : undefined,
    });
  } else {
    if (options.ownStore?.recorded) runtime = runtime.withStore(options.ownStore.recorded);
    if ((await hostUid(host).catch(() => 0)) !== 0) {
      log.skip(
        'storage',
        'Image storage',
        'the storage driver is decided once the checks above pass',
        'Fix the failures above, then run: mino setup',
      );
    }
  }
  const engine: Engine = { runtime, host, kind: options.kind };

  let info: RuntimeInfo | undefined;
  try {
    info = await runtime.info();
    log.add({
      id: 'engine',
      title: 'Podman engine',
      status: 'ok',
      detail: `podman ${info.version}, ${info.rootless ? 'rootless' : 'rootful'}, storage ${info.storageDriver}, runtime ${info.ociRuntime}, cgroup ${info.cgroupVersion}`,
    });
  } catch (err) {
    log.add({
      id: 'engine',
      title: 'Podman engine',
      status: 'fail',
      detail: errorMessage(err),
      hint: err instanceof MinoError ? err.hint : 'Run: podman info',
    });
    skipEngineChecks(log, options, 'podman does not answer');
    return { ok: false, results: log.results, info: undefined };
  }

  try {
    await ensureProbeImage(runtime, host);
  } catch (err) {
    log.add({
      id: 'probe.image',
      title: 'Probe image',
      status: 'fail',
      detail: errorMessage(err),
      hint: 'Check that podman can import images: podman import --help',
    });
    skipEngineChecks(log, options, 'there is no probe image to run');
    return { ok: false, results: log.results, info };
  }
  if (info.rootless && info.cgroupVersion === 'v1') {
    log.add({
      id: 'engine.limits',
      title: 'Resource limits',
      status: 'warn',
      detail: 'rootless podman cannot enforce limits on cgroup v1: sessions run without --pids-limit',
      hint: 'Boot the host with the unified cgroup hierarchy (systemd.unified_cgroup_hierarchy=1) to get limits',
    });
  }
  const none = await probeAndRepair(log, engine, 'none', policy);
  if (none.ok) await probeAndRepair(log, engine, 'bridge', policy);
  else log.skip('probe.bridge', PROBE_TITLE.bridge!, 'no container starts at all');
  if (options.skipImage) return { ok: log.ok, results: log.results, info };
  if (!none.ok) {
    log.skip(BASE_IMAGE_ID, BASE_IMAGE_TITLE, 'no container starts, so mino-base can be neither built nor used');
  } else if (options.fix && !log.ok) {
    // A build takes minutes and 1 GB: not on a podman whose setup failed (it would be slow, land
    // in a store the storage check did not get to decide, or fail half way).
    log.skip(
      BASE_IMAGE_ID,
      BASE_IMAGE_TITLE,
      'mino-base is built once the checks above pass',
      'Fix the failures above, then run: mino setup',
    );
  } else {
    await checkBaseImage(log, {
      runtime,
      host,
      policy,
      fix: options.fix,
      rootless: info.rootless,
      debootstrapPossible: options.kind === 'podman',
      baseFrom: options.baseFrom,
      ...(runtime !== options.runtime ? { userRuntime: options.runtime } : {}),
      progress: options.progress,
    });
  }
  return { ok: log.ok, results: log.results, info };
}

/** The checks after the engine line, skipped (and listed) when podman itself cannot be used. */
function skipEngineChecks(log: CheckLog, options: DoctorOptions, why: string): void {
  log.skip('probe.none', PROBE_TITLE.none!, why);
  log.skip('probe.bridge', PROBE_TITLE.bridge!, why);
  if (!options.skipImage) log.skip(BASE_IMAGE_ID, BASE_IMAGE_TITLE, why);
}
