import type { RunPlan } from '../launch/run-plan.js';
import { agentSandboxObjects } from './agent-sandbox.js';
import { kubeBaseName } from './kube-names.js';
import { PROJECT_VOLUME } from './kube-volumes.js';
import { claimObject, networkPolicy, type KubeRenderOptions, type KubeRendering } from './kube-objects.js';
import { sessionLabels } from './session-labels.js';
import { sessionPod } from './session-pod.js';
import type { YamlValue } from './yaml-emit.js';

/**
 * The manifests of `mino kube render` for one run plan: plain data, written as YAML or JSON by the
 * caller. Two forms:
 * - `pod` (default): a Pod and what it needs (the Secret of secret variables, a NetworkPolicy when
 *   the plan restricts the network, with `claims` the PersistentVolumeClaims). `podman kube play`
 *   takes it as it is: the project is a hostPath, the claims name this engine's podman volumes;
 * - `agent-sandbox`: the kubernetes-sigs/agent-sandbox resources (agent-sandbox.ts).
 */

/**
 * The `podman kube play` flags that run the Pod form here as `mino run` runs the plan: the rootless
 * user namespace mapping (`--userns`) and `--network none`. (A Pod with an egress policy cannot be
 * played here: its proxy sidecar's image does not exist yet; see egress-sidecar.ts.)
 */
export function podmanPlayFlags(plan: RunPlan): string[] {
  const flags: string[] = [];
  if (plan.identity.userns !== undefined) flags.push(`--userns=${plan.identity.userns}`);
  if (plan.network.mode === 'none') flags.push('--network=none');
  return flags;
}

/** Renders the manifests of `plan` (pure). */
export function renderKube(plan: RunPlan, options: KubeRenderOptions): KubeRendering {
  const base = kubeBaseName(plan.sessionName);
  if (options.form === 'agent-sandbox') return agentSandboxObjects(plan, base, options);
  const cloned = options.projectRepo !== '';
  const pod = sessionPod(plan, base, cloned ? 'cloned' : 'host-path', options.projectRepo);
  if (cloned) (pod.spec.volumes as YamlValue[]).unshift({ name: PROJECT_VOLUME, emptyDir: {} });
  const objects: YamlValue[] = [...pod.objects];
  if (options.claims) objects.push(...pod.claims.map((c) => claimObject(plan, c, false)));
  if (pod.egress !== undefined) objects.push(networkPolicy(plan, base, pod.egress));
  objects.push({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: base,
      labels: sessionLabels(plan),
      annotations: { 'io.mino.project': plan.projectDir },
    },
    spec: pod.spec,
  });
  const notes = [...pod.notes];
  if (plan.credentials.secretVariables.length > 0)
    notes.push(
      `Fill in the values of the Secret ${base}-env (${plan.credentials.secretVariables.join(', ')}) before applying it; mino never writes them`,
    );
  const claims = options.claims ? '' : ' (render with --claims for the PersistentVolumeClaims)';
  return {
    objects,
    comments: [
      `mino kube render: the Pod of session ${plan.sessionName} (image ${plan.image}, project ${plan.projectDir})`,
      cloned || plan.network.egress
        ? `Here: not for podman kube play (${cloned ? 'the project is cloned from its repository' : 'the egress proxy sidecar has no image yet; on paper'})`
        : `Here: podman kube play ${[...podmanPlayFlags(plan), 'FILE'].join(' ')}   then: podman kube down FILE`,
      cloned
        ? `A cluster: kubectl apply -f FILE${claims}`
        : "A cluster: the project is this machine's directory (hostPath); render with --project-repo URL to clone it instead",
    ],
    notes,
  };
}
