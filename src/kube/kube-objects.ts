import type { RunPlan } from '../launch/run-plan.js';
import { sessionLabelValue } from './kube-names.js';
import { sessionLabels } from './session-labels.js';
import type { YamlValue } from './yaml-emit.js';

/** The options and result types of `mino kube render`, and the plain objects both forms share. */

/** Which manifests to render. */
type KubeForm = 'pod' | 'agent-sandbox';

/** Options of {@link renderKube}. */
export interface KubeRenderOptions {
  form: KubeForm;
  /** Render PersistentVolumeClaim objects for the named volumes (always with agent-sandbox). */
  claims: boolean;
  /** agent-sandbox: warm sandboxes kept by a SandboxWarmPool (0: a single Sandbox, no pool). */
  warm: number;
  /** The git URL an init container clones the project from: '' = a hostPath in the Pod form, to fill in with agent-sandbox. */
  projectRepo: string;
}

/** The rendered objects, the header comments of the YAML, what the user should know. */
export interface KubeRendering {
  objects: YamlValue[];
  comments: string[];
  notes: string[];
}

/** The size requested for each claim (a placeholder to adjust). */
export const CLAIM_SIZE = '10Gi';

/** A PersistentVolumeClaim named `name`. */
export function claimObject(plan: RunPlan, name: string, shared: boolean): YamlValue {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, labels: sessionLabels(plan) },
    spec: {
      accessModes: [shared ? 'ReadWriteMany' : 'ReadWriteOnce'],
      resources: { requests: { storage: CLAIM_SIZE } },
    },
  };
}

/** A NetworkPolicy of the session's Pod letting it out by `egress` only (`[]`: nowhere). */
export function networkPolicy(plan: RunPlan, base: string, egress: YamlValue[]): YamlValue {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `${base}-egress`, labels: sessionLabels(plan) },
    spec: {
      podSelector: { matchLabels: { 'io.mino.session': sessionLabelValue(plan.sessionName) } },
      policyTypes: ['Egress'],
      egress,
    },
  };
}
