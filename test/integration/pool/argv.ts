import { rootlessPrefix, minoArgv } from '../../helpers/test-env.js';
import type { Sandbox } from '../../helpers/sandbox.js';

/** argv that runs mino as the sandbox's user with its environment (for tests that signal mino). */
export function runMinoArgv(sandbox: Sandbox, args: string[]): string[] {
  const env = Object.entries({ NO_COLOR: '1', ...sandbox.env }).map(([k, v]) => `${k}=${String(v)}`);
  if (sandbox.as === 'rootless') {
    const prefix = rootlessPrefix();
    if (prefix.length > 0) return [...prefix, ...env, ...minoArgv('rootless'), ...args];
  }
  return ['env', ...env, ...minoArgv('self'), ...args];
}
