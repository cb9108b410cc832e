import { describe, expect, it } from 'vitest';
import { formatPlan } from '../../../src/launch/plan-format.js';
import { engineCaSecretName, planOnEngine } from '../../../src/launch/remote-plan.js';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { buildEgressPlan } from '../../../src/network/egress-plan.js';
import { egressPaths } from '../../../src/network/egress-paths.js';
import { parseL7Rule } from '../../../src/network/l7-rule.js';
import { REMOTE_PROXY_ADDRESS, remoteEgressNames, withProxyAddress } from '../../../src/network/remote-egress.js';
import { parseRules } from '../../../src/network/rule.js';
import { egressDryRunLines } from '../../../src/run/session-network.js';
import { proxiedKeyCredentials, typicalInput } from './plan-input.js';

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

describe('credentials kept at the proxy of a remote session', () => {
  const bundle = '/run/user/1000/mino/sessions/demo.ca.crt';
  const local = buildRunPlan(
    typicalInput({
      stateKey: 'abc123',
      sessionName: 'demo',
      egress,
      credentials: proxiedKeyCredentials('demo', bundle),
    }),
  );
  const remote = planOnEngine(local, 'gpu', 'mino-project-abc').plan;
  const line = formatPlan(remote).join(' ');

  it('trusts the session CA through a public podman secret of the engine, at the same paths as here', () => {
    const ca = engineCaSecretName('abc123', 'demo');
    expect(line).toContain(`--secret ${ca},type=mount,target=/run/mino/ca-certificates.crt,mode=0444`);
    expect(line).toContain(`--secret ${ca},type=mount,target=/etc/ssl/certs/ca-certificates.crt,mode=0444`);
    expect(line).not.toContain(bundle);
    for (const name of [
      'NODE_EXTRA_CA_CERTS',
      'SSL_CERT_FILE',
      'REQUESTS_CA_BUNDLE',
      'CURL_CA_BUNDLE',
      'GIT_SSL_CAINFO',
    ])
      expect(remote.spec.env?.[name]).toBe('/run/mino/ca-certificates.crt');
  });

  it('gets the placeholder as a plain variable, and the proxy rules stay in the plan (no value anywhere)', () => {
    expect(remote.spec.env?.ANTHROPIC_API_KEY).toMatch(/^mino-proxy-managed-anthropic_api_key-/);
    expect(remote.credentials.proxy.map((r) => r.variable)).toEqual(['ANTHROPIC_API_KEY']);
    expect(remote.credentials.sessionCa).toBe(true);
    // Nothing secret in the plan: no env secret, no env file of this machine.
    expect(line).not.toContain('mino-env-');
    expect(line).not.toContain('/run/secrets/mino-env');
  });
});
