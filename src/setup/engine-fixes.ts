import { CONF_EDIT, mergeUlimits, parseContainersConf, userContainersConfPath } from '../host/containers-conf.js';
import { setKeyInText, tomlValue } from '../common/toml-edit.js';
import type { Host } from '../host/host.js';
import { hostEnv, hostUid, readHostFile, writeHostFile } from './host-files.js';
import { parseLimits, ulimitCandidates, type HardLimits } from './host-limits.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { runProbe } from './probe.js';
import type { ProbeProblem } from './probe-diagnosis.js';

/**
 * Fixes that live in the containers.conf of the user who runs podman. Each edit touches one
 * key, keeps the rest of the file as it was, and is checked to parse before it is written.
 */

/**
 * Path of the containers.conf mino edits for the podman host's user: `$CONTAINERS_CONF` when
 * set (podman then reads only that file), else the file the user owns.
 */
async function containersConfPath(host: Host): Promise<string> {
  const forced = await hostEnv(host, 'CONTAINERS_CONF');
  if (forced?.startsWith('/')) return forced;
  const uid = await hostUid(host);
  const [home, xdg] = await Promise.all([hostEnv(host, 'HOME'), hostEnv(host, 'XDG_CONFIG_HOME')]);
  return userContainersConfPath(uid, home, xdg);
}

async function editConf(host: Host, edit: (text: string, parsed: Record<string, unknown>) => string): Promise<string> {
  const path = await containersConfPath(host);
  const before = await readHostFile(host, path);
  const parsed = await parseContainersConf(path, before);
  const after = edit(before, parsed);
  await parseContainersConf(path, after); // never write a file podman could not read
  if (after !== before) await writeHostFile(host, path, after);
  return path;
}

/** Sets `[engine] runtime = "<name>"` in the containers.conf on `host`; returns the file edited. */
export function setOciRuntime(host: Host, name: string): Promise<string> {
  return editConf(host, (text) => setKeyInText(text, 'engine', 'runtime', tomlValue(name), CONF_EDIT));
}

/**
 * Finds ulimits the engine can really grant by running the probe with explicit `--ulimit`
 * values, largest first (the host's hard limit, then smaller fallbacks). Undefined when none work.
 */
async function findGrantableUlimits(
  runtime: ContainerRuntime,
  host: Host,
  network: string,
): Promise<{ ulimits: string[] } | { blockedBy: ProbeProblem | undefined }> {
  const limits = parseLimits(await readHostFile(host, '/proc/self/limits'));
  let blockedBy: ProbeProblem | undefined;
  const pick = async (name: keyof HardLimits, fixed: string[]): Promise<string | undefined> => {
    for (const n of ulimitCandidates(limits, name)) {
      const value = `${name}=${n}:${n}`;
      const probe = await runProbe(runtime, network, [...fixed, value]);
      if (probe.ok) return value;
      if (probe.problem !== 'ulimits') {
        // Something else fails first (e.g. crun on cgroup v1): that has to be fixed before limits can be measured.
        blockedBy = probe.problem;
        return undefined;
      }
    }
    return undefined;
  };
  // Find nofile with a small nproc, then the largest nproc that goes with that nofile.
  const nofile = await pick('nofile', ['nproc=4096:4096']);
  const nproc = nofile ? await pick('nproc', [nofile]) : undefined;
  return nofile && nproc ? { ulimits: [nofile, nproc] } : { blockedBy };
}

/**
 * Sets `[containers] default_ulimits` to values the probe showed the engine can grant, keeping
 * entries for other limits. Returns the file edited and the values set, or what blocked the
 * measurement (another problem to fix first, or undefined when no value worked).
 */
export async function setGrantableUlimits(
  runtime: ContainerRuntime,
  host: Host,
  network: string,
): Promise<{ path: string; ulimits: string[] } | { blockedBy: ProbeProblem | undefined }> {
  const found = await findGrantableUlimits(runtime, host, network);
  if (!('ulimits' in found)) return found;
  const wanted = found.ulimits;
  let merged: string[] = wanted;
  const path = await editConf(host, (text, parsed) => {
    const containers = parsed.containers as { default_ulimits?: unknown } | undefined;
    const existing = Array.isArray(containers?.default_ulimits)
      ? containers.default_ulimits.filter((u): u is string => typeof u === 'string')
      : [];
    merged = mergeUlimits(existing, wanted);
    return setKeyInText(text, 'containers', 'default_ulimits', tomlValue(merged), CONF_EDIT);
  });
  return { path, ulimits: merged };
}
