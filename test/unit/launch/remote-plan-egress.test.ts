import { describe, expect, it } from 'vitest';
import { formatPlan } from '../../../src/launch/plan-format.js';
import { planOnEngine } from '../../../src/launch/remote-plan.js';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { buildEgressPlan } from '../../../src/network/egress-plan.js';
import { egressPaths } from '../../../src/network/egress-paths.js';
import { parseL7Rule } from '../../../src/network/l7-rule.js';
import { REMOTE_PROXY_ADDRESS, remoteEgressNames, withProxyAddress } from '../../../src/network/remote-egress.js';
import { parseRules } from '../../../src/network/rule.js';
import { egressDryRunLines } from '../../../src/run/session-network.js';
import { typicalInput } from './plan-input.js';

const egress = buildEgressPlan({
  mode: 'allowlist',
  rules: parseRules(['github.com:443']),
  l7: [parseL7Rule('GET api.example.com:80/v1/*')],
  presets: [],
  paths: egressPaths('/run/user/1000/mino/egress', 'abc123', 'demo'),
  systemHooksDirs: ['/usr/share/containers/oci/hooks.d'],
  sshConfig: true,
});

describe('a contained plan on a remote engine', () => {
  const local = buildRunPlan(typicalInput({ stateKey: 'abc123', sessionName: 'demo', egress }));
  const remote = planOnEngine(local, 'gpu', 'mino-project-abc').plan;
  const argv = formatPlan(remote);
  const names = remoteEgressNames('abc123', 'demo');

  it('puts the session on its own internal network only, IPv6 off, and runs no proxy on this machine', () => {
    expect(argv).toContain(`--network`);
    expect(argv[argv.indexOf('--network') + 1]).toBe(names.network);
    expect(argv.filter((a) => a === '--network')).toHaveLength(1);
    expect(argv).toContain('net.ipv6.conf.all.disable_ipv6=1');
    // No OCI hook (the local proxy's), no mount of this machine's ssh ProxyCommand file.
    expect(argv.join(' ')).not.toContain('--hooks-dir');
    expect(argv.join(' ')).not.toContain('mino-egress.conf');
    expect(argv.join(' ')).not.toContain('none');
    // The policy stays in the plan (dry run, records, learn).
    expect(remote.network.egress?.policy.allow).toContain('github.com:443');
  });

  it('points the proxy variables at the engine proxy once its address is known', () => {
    expect(remote.spec.env?.HTTPS_PROXY).toBe(`http://${REMOTE_PROXY_ADDRESS}:3128`);
    const spec = withProxyAddress(remote.spec, '10.89.3.2:3128');
    for (const key of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'])
      expect(spec.env?.[key]).toBe('http://10.89.3.2:3128');
    expect(spec.env?.NO_PROXY).toBe('localhost,127.0.0.1,::1');
  });

  it('says in --dry-run where the proxy runs', () => {
    expect(egressDryRunLines(egress, 'gpu')[0]).toContain('a container on engine gpu');
    expect(egressDryRunLines(egress)[0]).toContain('listening on 127.0.0.1:3128 inside the container');
  });

  it('names the proxy and network after the state key and session', () => {
    expect(names.container).toMatch(/^mino-egress-[0-9a-f]{16}$/);
    expect(names.network).toBe(names.container.replace('mino-egress-', 'mino-egress-net-'));
    expect(remoteEgressNames('abc123', 'other').container).not.toBe(names.container);
  });
});
