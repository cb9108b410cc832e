import type { RunPlan } from '../launch/run-plan.js';
import { agentSandboxObjects } from './agent-sandbox.js';
import { kubeBaseName } from './kube-names.js';
import { claimObject, networkPolicy, type KubeRenderOptions, type KubeRendering } from './kube-objects.js';
import { sessionLabels, sessionPod } from './session-pod.js';
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
 * user namespace mapping (`--userns`) and `--network none`.
 */
export function podmanPlayFlags(plan: RunPlan): string[] {
  const flags: string[] = [];
  if (plan.identity.userns !== undefined) flags.push(`--userns=${plan.identity.userns}`);
  if (plan.network.mode === 'none' || plan.network.egress) flags.push('--network=none');
  return flags;
}

/** Renders the manifests of `plan` (pure). */
export function renderKube(plan: RunPlan, options: KubeRenderOptions): KubeRendering {
  const base = kubeBaseName(plan.sessionName);
  if (options.form === 'agent-sandbox') return agentSandboxObjects(plan, base, options);
  const pod = sessionPod(plan, base, 'host-path');
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
  return {
    objects,
    comments: [
      `mino kube render: the Pod of session ${plan.sessionName} (image ${plan.image}, project ${plan.projectDir})`,
      `Here: podman kube play ${[...podmanPlayFlags(plan), 'FILE'].join(' ')}   then: podman kube down FILE`,
      `A cluster: kubectl apply -f FILE${options.claims ? '' : ' (with --claims for the PersistentVolumeClaims)'}`,
    ],
    notes,
  };
}
