import type { RunPlan } from '../launch/run-plan.js';
import { sessionLabelValue } from './kube-names.js';

/** The labels every object of the session carries (its NetworkPolicy selects the Pod by them). */
export function sessionLabels(plan: RunPlan): Record<string, string> {
  return { 'app.kubernetes.io/managed-by': 'mino', 'io.mino.session': sessionLabelValue(plan.sessionName) };
}
