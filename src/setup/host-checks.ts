import { readFileSync } from 'node:fs';
import type { Host } from '../host/host.js';
import { hasProgram, narrowRuntimeDir, rootlessFacts, type RuntimeDirState } from './rootless-checks.js';
import type { EngineClient } from '../runtime/container-runtime.js';
import type { CheckLog } from './check-result.js';
import { installPackages, type RootRunner } from './privileged.js';

/** What the host checks may do about problems they find. */
export interface FixPolicy {
  /** Asks (or decides) whether to apply a fix; false means report only. */
  mayFix(question: string): Promise<boolean>;
  /** Hint for problems left unfixed, e.g. `Run: mino setup --yes`. */
  fixHint: string;
  root: RootRunner;
}

/** Lowest first sub-id handed out when a user has none (matches useradd's default). */
const SUBID_START = 100000;
const SUBID_COUNT = 65536;

/** First free sub-id start after every range already in an `/etc/subuid`-style file. */
export function nextFreeSubIdStart(text: string): number {
  let next = SUBID_START;
  for (const line of text.split('\n')) {
    const [, start, count] = line.trim().split(':');
    const end = Number(start) + Number(count);
    if (Number.isFinite(end) && end > next) next = end;
  }
  return next;
}

/** `podman version 4.3.1`, or undefined when podman does not answer. */
async function podmanVersion(runtime: EngineClient): Promise<string | undefined> {
  const version = await runtime.version().catch(() => undefined);
  return version ? `podman version ${version}` : undefined;
}

/**
 * Checks (and with permission installs) podman on this Linux host. Returns false when podman is
 * still missing, in which case nothing else can be checked.
 */
export async function checkPodmanInstalled(
  log: CheckLog,
  policy: FixPolicy,
  runtime: EngineClient,
  host: Host,
): Promise<boolean> {
  if (await hasProgram('podman', host)) {
    log.add({ id: 'podman.installed', title: 'Podman installed', status: 'ok', detail: await podmanVersion(runtime) });
    return true;
  }
  // Rootless use needs more than the podman package on some distributions (Debian: uidmap).
  // catatonit: the init `--init` runs (Debian's podman only recommends it).
  const packages = ['podman', 'uidmap', 'slirp4netns', 'catatonit'];
  if (await policy.mayFix(`Podman is not installed. Install ${packages.join(', ')} now?`)) {
    const outcome = await installPackages(policy.root, packages, host);
    if (outcome.ok && (await hasProgram('podman', host))) {
      const version = await podmanVersion(runtime);
      log.add({
        id: 'podman.installed',
        title: 'Podman installed',
        status: 'fixed',
        detail: `installed ${outcome.packages.join(', ')} with ${outcome.manager}; ${version ?? ''}`.trim(),
      });
      return true;
    }
    log.add({
      id: 'podman.installed',
      title: 'Podman installed',
      status: 'fail',
      detail: outcome.error,
      hint: 'Install podman with your package manager, then run: mino setup',
    });
    return false;
  }
  log.add({
    id: 'podman.installed',
    title: 'Podman installed',
    status: 'fail',
    detail: 'podman not found on PATH',
    hint: `${policy.fixHint} (installs podman), or install it with your package manager`,
  });
  return false;
}

/** Checks the rootless prerequisites of the current user (or, as root, of the machine). */
export async function checkRootlessPrerequisites(log: CheckLog, policy: FixPolicy): Promise<void> {
  const facts = await rootlessFacts();
  const asRoot = facts.uid === 0;
  // As root these only matter to other (rootless) users of the machine: warn, do not fail.
  const missing = asRoot ? 'warn' : 'fail';

  if (asRoot) {
    log.add({
      id: 'user.rootful',
      title: 'Running as root',
      status: 'warn',
      detail: 'containers run rootful; root inside a container is root on the host if it escapes',
      hint: 'Prefer running mino as a normal user (rootless Podman)',
    });
  }

  const tools: Array<[string, boolean, string]> = [
    ['uidmap', facts.newuidmap && facts.newgidmap, 'newuidmap/newgidmap'],
    ['slirp4netns', facts.slirp4netns, 'slirp4netns'],
  ];
  for (const [pkg, present, what] of tools) {
    const id = `rootless.${pkg}`;
    if (present) {
      log.add({ id, title: `${what} present`, status: 'ok' });
      continue;
    }
    if (await policy.mayFix(`${what} is missing (needed for rootless containers). Install ${pkg}?`)) {
      const outcome = await installPackages(policy.root, [pkg]);
      if (outcome.ok) {
        log.add({ id, title: `${what} present`, status: 'fixed', detail: `installed ${outcome.packages.join(', ')}` });
        continue;
      }
      log.add({
        id,
        title: `${what} present`,
        status: missing,
        detail: outcome.error,
        hint: `Install the ${pkg} package`,
      });
      continue;
    }
    log.add({
      id,
      title: `${what} present`,
      status: missing,
      detail: `${what} not found`,
      hint: `${policy.fixHint}, or install the ${pkg} package`,
    });
  }

  if (!asRoot) {
    for (const [file, has] of [
      ['/etc/subuid', facts.subuid],
      ['/etc/subgid', facts.subgid],
    ] as const) {
      const id = `rootless.${file.slice(5)}`;
      if (has) {
        log.add({ id, title: `${file} range for ${facts.user}`, status: 'ok' });
        continue;
      }
      if (await policy.mayFix(`${facts.user} has no range in ${file}. Add one?`)) {
        const start = nextFreeSubIdStart(readText(file));
        const flag = file.endsWith('subuid') ? '--add-subuids' : '--add-subgids';
        const result = await policy.root.run(['usermod', flag, `${start}-${start + SUBID_COUNT - 1}`, facts.user]);
        if (result.exitCode === 0) {
          log.add({
            id,
            title: `${file} range for ${facts.user}`,
            status: 'fixed',
            detail: `added ${start}-${start + SUBID_COUNT - 1}`,
          });
          continue;
        }
        log.add({
          id,
          title: `${file} range for ${facts.user}`,
          status: 'fail',
          detail: result.stderr.trim(),
          hint: `Add '${facts.user}:${start}:${SUBID_COUNT}' to ${file} as root`,
        });
        continue;
      }
      log.add({
        id,
        title: `${file} range for ${facts.user}`,
        status: 'fail',
        detail: 'no sub-id range',
        hint: `${policy.fixHint}, or: sudo usermod ${file.endsWith('subuid') ? '--add-subuids' : '--add-subgids'} 100000-165535 ${facts.user}`,
      });
    }
  }

  if (facts.tunUsable) {
    log.add({ id: 'rootless.tun', title: '/dev/net/tun usable by users', status: 'ok' });
  } else if (
    await policy.mayFix(
      '/dev/net/tun is not usable by unprivileged users (rootless networking needs it). Make it mode 0666?',
    )
  ) {
    const result = await policy.root.run(['chmod', '0666', '/dev/net/tun']);
    log.add(
      result.exitCode === 0
        ? {
            id: 'rootless.tun',
            title: '/dev/net/tun usable by users',
            status: 'fixed',
            detail: 'chmod 0666 /dev/net/tun (until reboot; most distributions ship it so)',
          }
        : {
            id: 'rootless.tun',
            title: '/dev/net/tun usable by users',
            status: missing,
            detail: result.stderr.trim(),
            hint: 'As root: chmod 0666 /dev/net/tun',
          },
    );
  } else {
    log.add({
      id: 'rootless.tun',
      title: '/dev/net/tun usable by users',
      status: missing,
      detail: 'slirp4netns cannot open /dev/net/tun',
      hint: `${policy.fixHint}, or as root: chmod 0666 /dev/net/tun`,
    });
  }

  if (facts.runtimeDir) await checkRuntimeDir(log, policy, facts.runtimeDir);
}

const RUNTIME_DIR = { id: 'rootless.runtime-dir', title: 'XDG_RUNTIME_DIR' } as const;

/**
 * The XDG_RUNTIME_DIR line. A directory of the user's that is wider than 0700 is theirs to
 * narrow: setup does it (chmod 0700, no root needed), status says how.
 */
async function checkRuntimeDir(log: CheckLog, policy: FixPolicy, state: RuntimeDirState): Promise<void> {
  if (state.kind === 'ok') {
    log.add({ ...RUNTIME_DIR, status: 'ok', detail: state.dir });
    return;
  }
  if (state.kind === 'unusable') {
    log.add({
      ...RUNTIME_DIR,
      status: 'fail',
      detail: state.detail,
      hint: 'Log in through a session that sets it (or `loginctl enable-linger`), or export XDG_RUNTIME_DIR=<a 0700 directory you own>',
    });
    return;
  }
  const status = state.kind === 'narrow' ? 'warn' : 'fail';
  if (await policy.mayFix(`${state.detail}. Make it 0700?`)) {
    try {
      narrowRuntimeDir(state.dir);
      log.add({
        ...RUNTIME_DIR,
        status: 'fixed',
        detail: `chmod 0700 ${state.dir} (was ${state.mode.toString(8).padStart(4, '0')})`,
      });
      return;
    } catch (err) {
      log.add({
        ...RUNTIME_DIR,
        status,
        detail: `${state.detail}; chmod failed: ${(err as Error).message}`,
        hint: `Run: chmod 700 ${state.dir}`,
      });
      return;
    }
  }
  log.add({ ...RUNTIME_DIR, status, detail: state.detail, hint: `${policy.fixHint}, or: chmod 700 ${state.dir}` });
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
