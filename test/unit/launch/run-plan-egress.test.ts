import { describe, expect, it } from 'vitest';
import { formatPlan } from '../../../src/launch/plan-format.js';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { buildEgressPlan } from '../../../src/network/egress-plan.js';
import { egressPaths } from '../../../src/network/egress-paths.js';
import { parseRules } from '../../../src/network/rule.js';
import { typicalInput } from './plan-input.js';

const paths = egressPaths('/run/user/1001/mino/egress', 'abc123', 'demo');
const egress = (sshConfig: boolean, rules = ['api.anthropic.com:443', 'github.com:22']) =>
  buildEgressPlan({
    mode: 'allowlist',
    rules: parseRules(rules),
    presets: [],
    paths,
    systemHooksDirs: ['/usr/share/containers/oci/hooks.d', '/etc/containers/oci/hooks.d'],
    sshConfig,
  });

describe('buildRunPlan with an egress policy', () => {
  it('runs --network none with the session hook, the proxy variables and the ssh config (golden argv)', () => {
    const e = egress(true);
    const plan = buildRunPlan(typicalInput({ egress: e, cliEnv: ['HTTPS_PROXY=http://corp.test:3128'] }));
    expect(plan.network).toEqual({ mode: 'allowlist', egress: e });
    expect(plan.network.egress?.policy).toEqual({
      mode: 'allowlist',
      allow: ['api.anthropic.com:443', 'github.com:22'],
      deny: [],
    });
    expect(formatPlan(plan)).toEqual([
      'podman',
      '--hooks-dir',
      '/usr/share/containers/oci/hooks.d',
      '--hooks-dir',
      '/etc/containers/oci/hooks.d',
      '--hooks-dir',
      `${paths.dir}/hooks.d`,
      'run',
      '-i',
      '-t',
      '--rm',
      '--pull=never',
      '--name',
      'mino-demo',
      '--label',
      'io.mino.session=demo',
      '--label',
      'io.mino.owner-pid=4242',
      '--label',
      'io.mino.project=/home/alice/src/webapp',
      '--label',
      'io.mino.version=0.1.0',
      '--label',
      'io.mino.mode=command',
      '--init',
      '--userns=keep-id:uid=1000,gid=1000',
      '-w',
      '/webapp',
      '--network',
      'none',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--pids-limit',
      '4096',
      '-v',
      '/home/alice/src/webapp:/webapp',
      '-v',
      `${e.sshConfig!.source}:/etc/ssh/ssh_config.d/mino-egress.conf:ro`,
      '-e',
      'HTTPS_PROXY=http://127.0.0.1:3128',
      '-e',
      'MINO_QUIET_BOOTSTRAP=1',
      '-e',
      'HTTP_PROXY=http://127.0.0.1:3128',
      '-e',
      'ALL_PROXY=http://127.0.0.1:3128',
      '-e',
      'NO_PROXY=localhost,127.0.0.1,::1',
      '-e',
      'http_proxy=http://127.0.0.1:3128',
      '-e',
      'https_proxy=http://127.0.0.1:3128',
      '-e',
      'all_proxy=http://127.0.0.1:3128',
      '-e',
      'no_proxy=localhost,127.0.0.1,::1',
      'localhost/mino-base:latest',
      'claude',
      '--resume',
    ]);
    expect(plan.warnings).toContain(
      "HTTPS_PROXY is set by mino in this session: all traffic goes through the session's egress proxy",
    );
  });

  it('leaves the ssh config out for other images, and to a mount of the user at the same path', () => {
    expect(buildRunPlan(typicalInput({ egress: egress(false) })).mounts.map((m) => m.origin)).toEqual(['project']);
    const mine = buildRunPlan(
      typicalInput({
        egress: egress(true),
        cliVolumes: ['/home/alice/ssh.conf:/etc/ssh/ssh_config.d/mino-egress.conf:ro'],
      }),
    );
    expect(mine.mounts.map((m) => m.origin)).toEqual(['project', 'cli']);
  });
});
