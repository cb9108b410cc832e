import type { RunPlan } from '../launch/run-plan.js';
import { egressSidecar } from './egress-sidecar.js';
import { withoutGitConfigPairs } from './git-config-env.js';
import { kubeVolumes, type ProjectSource } from './kube-volumes.js';
import { projectInit } from './project-init.js';
import { sessionLabels } from './session-labels.js';
import type { YamlValue } from './yaml-emit.js';

/**
 * The Pod spec of a session, from its run plan (launch/run-plan.ts), shared by the plain Pod and
 * the agent-sandbox templates. What maps, and how:
 * - the image, its command as `args` (the image's entrypoint stays, as with `podman run IMAGE CMD`),
 *   the working directory, `stdin`/`tty` for a shell;
 * - the hardening: the image's user (`runAsUser`/`runAsGroup`, `runAsNonRoot`), every capability
 *   dropped, no privilege escalation, the runtime's default seccomp profile, a read-only root
 *   filesystem when the plan has one;
 * - the environment: the same names; the plain values as they are, the secret ones (the session env
 *   file's) from a Secret whose values the user fills in, never mino;
 * - the mounts (kube-volumes.ts); with an egress policy, the proxy sidecar (egress-sidecar.ts).
 * What does not: the init process (`--init`), the process limit (`--pids-limit`, a kubelet setting),
 * the user namespace mapping (a flag of `podman kube play` here, `hostUsers: false` in a cluster),
 * the session prelude (the shared-logins and host-settings links; secrets need none).
 */

/** The object name of a session's Secret of secret variables. */
function envSecretName(base: string): string {
  return `${base}-env`;
}

/** A session's Pod spec and what goes with it. */
export interface SessionPod {
  /** `spec` of the Pod (or of a sandbox's pod template). */
  spec: { [key: string]: YamlValue };
  /** Objects the Pod needs besides its claims (Secrets, ConfigMaps). */
  objects: YamlValue[];
  /** The PersistentVolumeClaims it mounts (podman volume names). */
  claims: string[];
  /** The Pod's egress rules for a NetworkPolicy; undefined = unrestricted (plain bridge). */
  egress: YamlValue[] | undefined;
  /** What did not carry over. */
  notes: string[];
}

/** The user the session's container runs as: the image's, when known. */
function identity(plan: RunPlan, notes: string[]): { [key: string]: YamlValue } {
  const uid = plan.identity.imageUser;
  if (uid === undefined || uid === 0) {
    notes.push(
      uid === 0
        ? 'The image runs as root: the Pod asks for a non-root user (runAsNonRoot), so a cluster refuses it; use an image with a non-root USER'
        : "The image's user is unknown: the Pod asks for a non-root user (runAsNonRoot); set runAsUser for a cluster",
    );
    return { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
  }
  const gid = plan.identity.imageGid ?? uid;
  return {
    runAsUser: uid,
    runAsGroup: gid,
    runAsNonRoot: true,
    fsGroup: gid,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * The session's main container's environment: plain values, secret ones by reference. A variable
 * naming a file that is left out (the CA bundle's SSL_CERT_FILE…) goes too: a path to nothing
 * breaks the tools that read it (a git configuration pair goes whole, git-config-env.ts).
 */
function environment(plan: RunPlan, base: string, dropped: readonly string[], notes: string[]): YamlValue[] {
  const gone = (value: string): boolean => dropped.some((d) => value === d || value.startsWith(`${d}/`));
  const plain = Object.entries(plan.spec.env ?? {});
  const left = plain.filter(([, value]) => gone(value)).map(([name]) => name);
  if (left.length > 0) notes.push(`Left out with the files they name: ${left.join(', ')}`);
  const kept = withoutGitConfigPairs(
    plain.filter(([, value]) => !gone(value)),
    new Set(left),
  );
  const env: YamlValue[] = kept.map(([name, value]) => ({ name, value }));
  for (const name of plan.credentials.secretVariables)
    env.push({ name, valueFrom: { secretKeyRef: { name: envSecretName(base), key: name } } });
  return env;
}

/** The Secret of the secret variables' names, values left for the user. */
function envSecret(plan: RunPlan, base: string): YamlValue {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: envSecretName(base), labels: sessionLabels(plan) },
    type: 'Opaque',
    stringData: Object.fromEntries(plan.credentials.secretVariables.map((name) => [name, ''])),
  };
}

/**
 * Builds the Pod spec of `plan`; `base` names the session's objects, `project` says where its files
 * come from (a clone of `repo`, '' = to fill in, by the init container of project-init.ts; the
 * caller provides the clone's volume).
 */
export function sessionPod(plan: RunPlan, base: string, project: ProjectSource, repo = ''): SessionPod {
  const notes: string[] = [];
  const vols = kubeVolumes(plan, project, base);
  notes.push(...vols.notes);
  const shell = plan.mode === 'shell' || (plan.mode === 'detached' && plan.spec.interactive === true);
  const container: { [key: string]: YamlValue } = {
    name: 'agent',
    image: plan.image,
    imagePullPolicy: 'IfNotPresent',
    args: [...plan.command],
    workingDir: plan.workdir,
    env: environment(plan, base, vols.dropped, notes),
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      ...(plan.spec.readOnly ? { readOnlyRootFilesystem: true } : {}),
    },
    volumeMounts: vols.mounts,
    ...(shell ? { stdin: true, ...(plan.spec.tty ? { tty: true } : {}) } : {}),
  };
  const spec: { [key: string]: YamlValue } = {
    restartPolicy: 'Never',
    securityContext: identity(plan, notes),
    containers: [container],
    volumes: vols.volumes,
  };
  const init: YamlValue[] = [];
  if (project === 'cloned') {
    init.push(projectInit(plan, repo, container.securityContext ?? {}));
    if (repo === '')
      notes.push("Set MINO_PROJECT_REPO in the 'project' init container to the project's git URL (--project-repo)");
  }
  if (init.length > 0) spec.initContainers = init;
  const objects: YamlValue[] = plan.credentials.secretVariables.length > 0 ? [envSecret(plan, base)] : [];
  let egress: YamlValue[] | undefined;
  const mode = plan.network.mode;
  if (mode === 'host') {
    spec.hostNetwork = true;
    notes.push("--network host: the Pod uses its node's network (hostNetwork)");
  } else if (mode === 'none') {
    egress = [];
  } else if (plan.network.egress) {
    const sidecar = egressSidecar(plan, base);
    spec.initContainers = [...init, sidecar.fence, sidecar.proxy];
    (spec.volumes as YamlValue[]).push(...sidecar.volumes);
    objects.push(...sidecar.objects);
    egress = sidecar.egress;
    notes.push(...sidecar.notes);
  }
  notes.push(
    "Not carried over: the init process, the process limit (the kubelet's podPidsLimit sets it in a cluster) and the session prelude's links of shared logins and host settings",
  );
  return { spec, objects, claims: vols.claims, egress, notes };
}
