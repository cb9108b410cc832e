import type { RunPlan } from '../launch/run-plan.js';
import { claimObject, CLAIM_SIZE, networkPolicy, type KubeRenderOptions, type KubeRendering } from './kube-objects.js';
import { PROJECT_VOLUME } from './kube-volumes.js';
import { sessionLabels } from './session-labels.js';
import { sessionPod } from './session-pod.js';
import type { YamlValue } from './yaml-emit.js';

/**
 * The kubernetes-sigs/agent-sandbox form of a session (API versions `agents.x-k8s.io/v1beta1` and
 * `extensions.agents.x-k8s.io/v1beta1`, field names from the project's Go types):
 * - the session's Pod spec (session-pod.ts) as a `podTemplate`, its project a volume claim template
 *   (`project`) that an init container fills with a `git clone` of the project's repository (a
 *   cluster cannot reach this machine's directory);
 * - with warm sandboxes (`warm` > 0, mino's warm pool): a `SandboxTemplate` holding the blueprint
 *   and the NetworkPolicy rules (`networkPolicy`, enforced by the controller), a `SandboxWarmPool`
 *   of `warm` replicas, and a `SandboxClaim` that takes one for the session. As mino's warm
 *   containers do, a warm sandbox idles; the session's command runs in the claimed one (`kubectl
 *   exec`), named by the claim's `io.mino.command` annotation;
 * - without: one `Sandbox` with the blueprint, and a NetworkPolicy object of its own;
 * - the Secrets, the egress ConfigMap and PersistentVolumeClaims of the named volumes (home,
 *   caches, logins) it needs (ReadWriteMany with a pool: several sandboxes mount them).
 */

const SANDBOX_API = 'agents.x-k8s.io/v1beta1';
const EXTENSIONS_API = 'extensions.agents.x-k8s.io/v1beta1';

/** What a warm sandbox runs until a session claims it: nothing, until stopped. */
const IDLE: readonly string[] = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

/** Renders the agent-sandbox objects of `plan` (see the module comment). */
export function agentSandboxObjects(plan: RunPlan, base: string, options: KubeRenderOptions): KubeRendering {
  const pod = sessionPod(plan, base, 'cloned', options.projectRepo);
  const spec = pod.spec;
  const blueprint = {
    podTemplate: { metadata: { labels: sessionLabels(plan) }, spec },
    volumeClaimTemplates: [
      {
        metadata: { name: PROJECT_VOLUME },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: CLAIM_SIZE } } },
      },
    ],
  };
  const pooled = options.warm > 0;
  const agent = (spec.containers as { [key: string]: YamlValue }[])[0];
  if (pooled && agent) {
    // As mino's warm containers: warm sandboxes idle; a session runs its command in the one it claims.
    agent.args = [...IDLE];
    delete agent.stdin;
    delete agent.tty;
  }
  const objects: YamlValue[] = [...pod.objects, ...pod.claims.map((c) => claimObject(plan, c, pooled))];
  const meta = (name: string): YamlValue => ({ name, labels: sessionLabels(plan) });
  if (pooled) {
    objects.push(
      {
        apiVersion: EXTENSIONS_API,
        kind: 'SandboxTemplate',
        metadata: meta(base),
        spec: {
          ...blueprint,
          networkPolicyManagement: 'Managed',
          ...(pod.egress === undefined ? {} : { networkPolicy: { egress: pod.egress } }),
        },
      },
      {
        apiVersion: EXTENSIONS_API,
        kind: 'SandboxWarmPool',
        metadata: meta(`${base}-pool`),
        spec: { replicas: options.warm, sandboxTemplateRef: { name: base } },
      },
      {
        apiVersion: EXTENSIONS_API,
        kind: 'SandboxClaim',
        metadata: {
          name: base,
          labels: sessionLabels(plan),
          annotations: { 'io.mino.command': JSON.stringify(plan.command) },
        },
        spec: { warmPoolRef: { name: `${base}-pool` } },
      },
    );
  } else {
    if (pod.egress !== undefined) objects.push(networkPolicy(plan, base, pod.egress));
    objects.push({ apiVersion: SANDBOX_API, kind: 'Sandbox', metadata: meta(base), spec: blueprint });
  }
  const notes = [...pod.notes];
  if (plan.credentials.secretVariables.length > 0)
    notes.push(`Fill in the values of the Secret ${base}-env before applying it; mino never writes them`);
  if (plan.credentials.proxy.length > 0)
    notes.push(`Fill in the values of the Secret ${base}-proxy-credentials (mounted into the egress proxy only)`);
  if (pooled)
    notes.push(
      `Warm sandboxes idle until claimed: run the command in the claimed sandbox's Pod (kubectl exec -it POD -c agent -- ${plan.command.join(' ')}); the claim's io.mino.command annotation holds it`,
    );
  if (pooled && pod.claims.length > 0)
    notes.push(`The warm sandboxes share the claims ${pod.claims.join(', ')}: they need a ReadWriteMany storage class`);
  return {
    objects,
    comments: [
      `mino kube render --agent-sandbox: session ${plan.sessionName} (image ${plan.image})`,
      'Needs the agent-sandbox controller and its extensions (github.com/kubernetes-sigs/agent-sandbox); on paper: not run here',
      'kubectl apply -f FILE',
    ],
    notes,
  };
}
