import type { RunPlan } from '../launch/run-plan.js';
import { PROJECT_VOLUME } from './kube-volumes.js';
import type { YamlValue } from './yaml-emit.js';

/**
 * The init container that delivers the project in a cluster, which cannot reach this machine's
 * directory: a `git clone` (init, fetch, checkout, so a volume with `lost+found` works too) of the
 * project's repository into the project volume, skipped when the volume already holds a checkout
 * (a restarted or resumed sandbox). It runs the session's image as the session's user.
 */

/** The init container's script; its inputs come as variables, never spliced into the script. */
const CLONE_SCRIPT = [
  'set -e',
  'if [ -z "$MINO_PROJECT_REPO" ]; then echo "mino: set MINO_PROJECT_REPO to the project\'s git URL" >&2; exit 1; fi',
  'cd "$MINO_PROJECT_DIR"',
  'if [ ! -e .git ]; then',
  '  git init -q',
  '  git remote add origin "$MINO_PROJECT_REPO"',
  '  git fetch -q origin',
  '  git checkout -q FETCH_HEAD',
  'fi',
].join('\n');

/** The init container cloning `repo` ('' = to fill in) into the project volume at the plan's workdir. */
export function projectInit(plan: RunPlan, repo: string, securityContext: YamlValue): YamlValue {
  return {
    name: 'project',
    image: plan.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh', '-c', CLONE_SCRIPT],
    env: [
      { name: 'MINO_PROJECT_REPO', value: repo },
      { name: 'MINO_PROJECT_DIR', value: plan.workdir },
    ],
    securityContext,
    volumeMounts: [{ name: PROJECT_VOLUME, mountPath: plan.workdir }],
  };
}
