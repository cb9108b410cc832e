/** What went wrong when the probe container ran, as far as its error output tells. */
export type ProbeProblem =
  | 'crun-cgroup-hybrid'
  | 'ulimits'
  | 'dev-net-tun'
  | 'subids'
  | 'runtime-dir'
  | 'init-missing'
  | 'unknown';

const PATTERNS: Array<[RegExp, ProbeProblem]> = [
  // `--init` needs catatonit, which Debian's podman only recommends.
  [/container-init binary not found|catatonit: no such file/i, 'init-missing'],
  [/cgroups? in hybrid mode|hybrid mode not supported/i, 'crun-cgroup-hybrid'],
  [/setrlimit|error setting rlimit|rlimit type/i, 'ulimits'],
  [/\/dev\/net\/tun/i, 'dev-net-tun'],
  [/newuidmap|newgidmap|subuid|subgid|insufficient uids|cannot set up namespace/i, 'subids'],
  [/XDG_RUNTIME_DIR|rootless.*runtime dir|run\/user/i, 'runtime-dir'],
];

/** Classifies a failed probe's stderr. */
export function diagnoseProbe(stderr: string): ProbeProblem {
  for (const [pattern, problem] of PATTERNS) if (pattern.test(stderr)) return problem;
  return 'unknown';
}
