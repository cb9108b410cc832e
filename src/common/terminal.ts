/** CI variables whose presence means nobody is at the keyboard. */
const CI_VARS = [
  'CI',
  'GITHUB_ACTIONS',
  'GITLAB_CI',
  'CIRCLECI',
  'TRAVIS',
  'JENKINS_URL',
  'BUILDKITE',
  'TEAMCITY_VERSION',
  'TF_BUILD',
];

/** True when a person is at the terminal: stdin and stdout are TTYs and no CI variable is set. */
export function isInteractive(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return false;
  return !CI_VARS.some((name) => env[name] !== undefined && env[name] !== '' && env[name] !== 'false');
}

/** True when colour output is wanted on the given stream (honours NO_COLOR and FORCE_COLOR). */
function useColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

/** ANSI styles that collapse to plain text when colour is off. */
export interface Palette {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

function wrap(open: number, close: number, on: boolean): (s: string) => string {
  return on ? (s) => `\u001b[${open}m${s}\u001b[${close}m` : (s) => s;
}

/** A palette for one stream. */
export function palette(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Palette {
  const on = useColor(stream, env);
  return {
    red: wrap(31, 39, on),
    green: wrap(32, 39, on),
    yellow: wrap(33, 39, on),
    cyan: wrap(36, 39, on),
    dim: wrap(2, 22, on),
    bold: wrap(1, 22, on),
  };
}
