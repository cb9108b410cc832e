import { isAbsolute, relative } from 'node:path';
import { SESSION_ENV_PATH } from '../credentials/session-env-file.js';
import type { RunPlan } from '../launch/run-plan.js';
import type { PlannedMount } from '../launch/volume-args.js';
import { isDnsLabel } from './kube-names.js';
import type { YamlValue } from './yaml-emit.js';

/**
 * The volumes of a session's Pod, from the plan's mounts (launch/volume-args.ts), in their order:
 * - the project: a `hostPath` directory (what `podman kube play` runs here), or, for a cluster,
 *   the `project` volume an init container clones the project into (its volume is the caller's:
 *   an emptyDir in a Pod, a volume claim template in a sandbox);
 * - a host path inside the project (a protected path): in a clone, the project volume again
 *   with `subPath`, read-only as planned; with a hostPath project a `hostPath` of its own (podman 4.3's
 *   `kube play` ignores `subPath` on a hostPath volume and would mount the whole project there);
 * - another host path (`--volume /host:/ctr`, host agent settings, the SSH agent socket, the CA
 *   bundle): `hostPath` with a hostPath project; a cluster has no such path, so a clone leaves it out
 *   (with a note);
 * - a named volume (home, caches, shared logins, `mino volume`s): a PersistentVolumeClaim named like
 *   the podman volume, so `podman kube play` mounts that very volume;
 * - a protected path absent from the project (mino run creates a stand-in on the host first and
 *   removes it afterwards; a Pod cannot): left out, named in a note, with whatever lies under it;
 * - the session env file: never; its variables come from a Secret (see session-pod.ts);
 * - the `--read-only` tmpfs paths: `emptyDir` volumes in memory.
 */

/** Where the project comes from: this machine's directory, or a clone made in the Pod (project-init.ts). */
export type ProjectSource = 'host-path' | 'cloned';

/** The volume part of a Pod spec. */
export interface KubeVolumes {
  /** `spec.volumes` entries. */
  volumes: YamlValue[];
  /** The main container's `volumeMounts`. */
  mounts: YamlValue[];
  /** Names of the PersistentVolumeClaims the Pod uses (podman volume names), in order. */
  claims: string[];
  /** Container paths of host files left out (a clone has no host): variables naming them go too. */
  dropped: string[];
  /** What did not carry over, for the user. */
  notes: string[];
}

/** The name of the project volume (a claim template in the cluster form). */
export const PROJECT_VOLUME = 'project';

interface HostVolume {
  name: string;
  path: string;
}

/** `sub` relative to `dir` when it lies inside it (`''` for `dir` itself), else undefined. */
function inside(dir: string, sub: string): string | undefined {
  const rel = relative(dir, sub);
  if (rel === '') return '';
  return rel.startsWith('..') || isAbsolute(rel) ? undefined : rel;
}

function mountOf(name: string, m: PlannedMount, subPath?: string): YamlValue {
  return {
    name,
    mountPath: m.target,
    ...(subPath ? { subPath } : {}),
    ...(m.readOnly ? { readOnly: true } : {}),
  };
}

/** Builds the volumes of `plan`'s Pod; `base` (the session's object name) prefixes volumes podman would create. */
export function kubeVolumes(plan: RunPlan, project: ProjectSource, base: string): KubeVolumes {
  const out: KubeVolumes = { volumes: [], mounts: [], claims: [], dropped: [], notes: [] };
  const hostVolumes: HostVolume[] = [];
  let counter = 0;
  const next = (kind: string): string => `${kind}-${++counter}`;
  const stubs = plan.protection.stubs.map((s) => s.hostPath);
  const absent: string[] = [];
  for (const m of plan.mounts) {
    if (m.origin === 'credentials' && m.target === SESSION_ENV_PATH) continue;
    if (
      m.origin === 'protect' &&
      (stubs.some((s) => inside(s, m.source) !== undefined) || absent.some((t) => inside(t, m.target) !== undefined))
    ) {
      absent.push(m.target);
      continue;
    }
    if (m.origin === 'project') {
      hostVolumes.push({ name: PROJECT_VOLUME, path: m.source });
      out.mounts.push(mountOf(PROJECT_VOLUME, m));
      if (project === 'host-path')
        out.volumes.push({ name: PROJECT_VOLUME, hostPath: { path: m.source, type: 'Directory' } });
      continue;
    }
    if (isAbsolute(m.source)) {
      const holder = project === 'cloned' ? hostVolumes.find((h) => inside(h.path, m.source) !== undefined) : undefined;
      if (holder) {
        out.mounts.push(mountOf(holder.name, m, inside(holder.path, m.source)));
        continue;
      }
      if (project === 'cloned') {
        out.notes.push(`${m.target} (the host's ${m.source}) is left out: a cluster has no such host path`);
        out.dropped.push(m.target);
        continue;
      }
      const name = next('host');
      hostVolumes.push({ name, path: m.source });
      out.volumes.push({ name, hostPath: { path: m.source } });
      out.mounts.push(mountOf(name, m));
      continue;
    }
    const name = next(m.origin === 'home' ? 'home' : m.origin === 'cache' ? 'cache' : 'volume');
    if (!isDnsLabel(m.source))
      out.notes.push(
        `The volume ${m.source} is no valid Kubernetes object name: rename its PersistentVolumeClaim for a cluster`,
      );
    if (!out.claims.includes(m.source)) out.claims.push(m.source);
    out.volumes.push({ name, persistentVolumeClaim: { claimName: m.source } });
    out.mounts.push(mountOf(name, m));
  }
  if (absent.length > 0)
    out.notes.push(
      `Not protected in the Pod (absent from the project; mino run protects a stand-in): ${absent.join(' ')}`,
    );
  for (const [i, path] of (plan.spec.tmpfs ?? []).entries()) {
    // podman kube play makes a named volume of each emptyDir: the session's name keeps it apart.
    const name = `${base}-tmp-${i + 1}`;
    out.volumes.push({ name, emptyDir: { medium: 'Memory' } });
    out.mounts.push({ name, mountPath: path });
  }
  return out;
}
