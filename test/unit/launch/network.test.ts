import { describe, expect, it } from 'vitest';
import { MinoError, UsageError } from '../../../src/common/errors.js';
import { networkSpec, resolveNetwork, withProxyEnv } from '../../../src/launch/network.js';
import { buildEgressPlan } from '../../../src/network/egress-plan.js';
import { egressPaths } from '../../../src/network/egress-paths.js';
import { parseRules } from '../../../src/network/rule.js';
import { thrown } from '../../helpers/thrown.js';

const egress = buildEgressPlan({
  mode: 'allowlist',
  rules: parseRules(['github.com:443']),
  presets: [],
  paths: egressPaths('/run/user/1001/mino/egress', 'abc', 'demo'),
  systemHooksDirs: ['/usr/share/containers/oci/hooks.d'],
});

describe('resolveNetwork', () => {
  it('defaults to bridge', () => {
    expect(resolveNetwork(undefined)).toEqual({ mode: 'bridge' });
  });

  it.each(['bridge', 'host', 'none'] as const)('accepts %s', (mode) => {
    expect(resolveNetwork(mode)).toEqual({ mode });
    expect(networkSpec({ mode })).toEqual({ network: mode });
  });

  it.each(['Bridge', 'slirp4netns', 'container:x', ''])('rejects %j with a hint listing the modes', (value) => {
    const err = thrown(() => resolveNetwork(value));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(`Invalid network mode '${value}'`);
    expect(err.hint).toContain('Use --network bridge, host, none');
  });

  it('never turns learn or allowlist into a plain mode without an egress plan', () => {
    expect(thrown(() => resolveNetwork('learn'))).toBeInstanceOf(MinoError);
    expect(thrown(() => resolveNetwork('allowlist'))).toBeInstanceOf(MinoError);
  });

  it('runs an egress plan with --network none, its hook directory last, and the proxy variables', () => {
    const plan = resolveNetwork('bridge', egress);
    expect(plan).toEqual({ mode: 'allowlist', egress });
    expect(networkSpec(plan)).toEqual({
      network: 'none',
      hooksDirs: ['/usr/share/containers/oci/hooks.d', `${egress.dir}/hooks.d`],
    });
    const { env, warnings } = withProxyEnv({ HTTPS_PROXY: 'http://corp:8080', KEEP: '1' }, plan);
    expect(env).toMatchObject({
      KEEP: '1',
      HTTPS_PROXY: 'http://127.0.0.1:3128',
      https_proxy: 'http://127.0.0.1:3128',
      ALL_PROXY: 'http://127.0.0.1:3128',
      NO_PROXY: 'localhost,127.0.0.1,::1',
    });
    expect(warnings).toEqual([
      "HTTPS_PROXY is set by mino in this session: all traffic goes through the session's egress proxy",
    ]);
    expect(withProxyEnv({ A: 'b' }, { mode: 'bridge' })).toEqual({ env: { A: 'b' }, warnings: [] });
  });
});
