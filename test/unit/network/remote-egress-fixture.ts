import { buildEgressPlan } from '../../../src/network/egress-plan.js';
import { egressPaths } from '../../../src/network/egress-paths.js';
import { parseRules } from '../../../src/network/rule.js';

/** The egress plan of session `s1` (state `k`) allowing `rule`, for the remote proxy's tests. */
export function remoteTestEgress(rule: string): ReturnType<typeof buildEgressPlan> {
  return buildEgressPlan({
    mode: 'allowlist',
    rules: parseRules([rule]),
    presets: [],
    paths: egressPaths('/tmp/e', 'k', 's1'),
    systemHooksDirs: [],
  });
}

/** A remote proxy image of mino's bundle, as egress-image.ts makes it. */
export const REMOTE_TEST_IMAGE = {
  tag: 'localhost/mino-egress:0123456789abcdef',
  command: ['/opt/mino/node', '/opt/mino/mino.cjs', '_egress-proxy-remote'],
};
