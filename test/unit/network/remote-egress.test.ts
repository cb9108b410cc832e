import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newNetworkRecord, readNetworkRecord } from '../../../src/network/network-record.js';
import { addressInSubnet } from '../../../src/network/proxy/remote-proxy-main.js';
import {
  endRemoteEgress,
  remoteEgressNames,
  remoteProxySpec,
  startRemoteEgress,
} from '../../../src/network/remote-egress.js';
import { lastRecord, parseRemoteProxyLaunch, readyAddress } from '../../../src/network/remote-proxy-protocol.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';
import { REMOTE_TEST_IMAGE, remoteTestEgress } from './remote-egress-fixture.js';

const egress = remoteTestEgress('github.com:443');
const image = REMOTE_TEST_IMAGE;

describe('the proxy container of a remote session', () => {
  const names = remoteEgressNames('k', 's1');
  const spec = remoteProxySpec(
    { session: 's1', stateKey: 'k', engine: 'gpu', egress, image, subnet: '10.89.3.0/24' },
    names,
  );

  it('joins the session network and the engine network, locked down, with the policy and nothing secret', () => {
    expect(spec.network).toBe(names.network);
    expect(spec.extraNetworks).toEqual(['podman']);
    expect(spec.capDrop).toEqual(['ALL']);
    expect(spec.readOnly).toBe(true);
    expect(spec.secretFiles ?? []).toEqual([]);
    const launch = parseRemoteProxyLaunch(spec.env?.MINO_EGRESS_LAUNCH ?? '');
    expect(launch).toMatchObject({ session: 's1', subnet: '10.89.3.0/24', port: 3128 });
    expect(launch.policy.allow).toEqual(['github.com:443']);
    expect(spec.labels).toMatchObject({ 'io.mino.state': 'k', 'io.mino.engine': 'gpu', 'io.mino.remote-egress': 's1' });
  });

  it('listens on its own address in the session subnet only', () => {
    const ifs = {
      eth0: [{ address: '10.88.0.7', family: 'IPv4' }],
      eth1: [{ address: '10.89.3.2', family: 'IPv4' }],
    } as unknown as Parameters<typeof addressInSubnet>[1];
    expect(addressInSubnet('10.89.3.0/24', ifs)).toBe('10.89.3.2');
    expect(addressInSubnet('10.90.0.0/16', ifs)).toBeUndefined();
  });

  it('reads the ready line and the last record from the proxy output', () => {
    const rec = newNetworkRecord('s1', 'allowlist', egress.policy, []);
    const out = `ready 10.89.3.2:3128\nrecord ${JSON.stringify({ ...rec, audit_suppressed: 1 })}\nrecord ${JSON.stringify(rec)}\nrecord {cut`;
    expect(readyAddress(out)).toBe('10.89.3.2:3128');
    expect(readyAddress('record {}')).toBeUndefined();
    expect(lastRecord(out)?.audit_suppressed).toBe(0);
  });

  it('creates the network, then the proxy; removes both when the proxy never says ready', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(image.tag);
    await expect(
      startRemoteEgress(runtime, { session: 's1', stateKey: 'k', engine: 'gpu', egress, image }, 300),
    ).rejects.toThrow(/egress proxy on engine gpu/);
    expect(runtime.calls.map((c) => c.method)).toEqual(
      expect.arrayContaining(['networkCreateInternal', 'run', 'remove', 'networkRemove']),
    );
    expect(runtime.networks).not.toContain(names.network);
  });

  it('replaces a network left by a killed run of the same session', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(image.tag);
    await runtime.networkCreateInternal(names.network, {});
    const start = startRemoteEgress(runtime, { session: 's1', stateKey: 'k', engine: 'gpu', egress, image }, 2000);
    await new Promise((r) => setTimeout(r, 20));
    runtime.containers.find((c) => c.name === names.container)!.logs = { stdout: 'ready 10.89.7.2:3128\n', stderr: '' };
    expect(await start).toBe('10.89.7.2:3128');
    expect(runtime.callsTo('networkCreateInternal')).toHaveLength(3);
    expect(runtime.networks.filter((n) => n === names.network)).toHaveLength(1);
  });

  it('keeps the final record here and audits its denials when the session ends', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(image.tag);
    const stateDir = mkdtempSync(join(tmpdir(), 'mino-remote-egress-'));
    // The proxy's final record (printed on SIGTERM) is marked ended.
    const rec = { ...newNetworkRecord('s1', 'allowlist', egress.policy, []), ended_at: new Date().toISOString() };
    rec.destinations.push({
      destination: 'evil.example:443',
      allowed: 0,
      denied: 2,
      failed: 0,
      rule: null,
      reason: 'no-rule',
      detail: 'no rule',
      first_seen: rec.started_at,
      last_seen: rec.started_at,
    });
    await runtime.run(spec);
    const proxy = runtime.containers.find((c) => c.name === names.container)!;
    proxy.logs = { stdout: `ready 10.89.3.2:3128\nrecord ${JSON.stringify(rec)}\n`, stderr: '' };
    const events: unknown[] = [];
    const audit = { record: (event: string, data: unknown) => events.push({ event, data }) } as never;
    const got = await endRemoteEgress(runtime, stateDir, 'k', 's1', audit);
    expect(got?.destinations).toHaveLength(1);
    expect(readNetworkRecord(stateDir, 's1')?.destinations[0]?.destination).toBe('evil.example:443');
    expect(events).toEqual([
      { event: 'network.denied', data: expect.objectContaining({ destination: 'evil.example:443', count: 2 }) },
    ]);
    expect(runtime.calls.map((c) => c.method)).toEqual(expect.arrayContaining(['remove', 'networkRemove']));
  });

  it('audits each denial the proxy printed, the credential leak too, not only the last reason per destination', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(image.tag);
    const stateDir = mkdtempSync(join(tmpdir(), 'mino-remote-egress-'));
    const rec = { ...newNetworkRecord('s1', 'allowlist', egress.policy, []), ended_at: new Date().toISOString() };
    const denial = (reason: string, detail: string) =>
      `denied ${JSON.stringify({ destination: 'a.example:443', host: 'a.example', port: 443, reason, detail, protocol: 'http' })}`;
    await runtime.run(spec);
    runtime.containers.find((c) => c.name === names.container)!.logs = {
      stdout: [
        'ready 10.89.3.2:3128',
        denial('credential-leak', 'the placeholder of GH_TOKEN was sent to a.example:443'),
        denial('denied', 'denied by rule a.example:443'),
        `record ${JSON.stringify(rec)}`,
        '',
      ].join('\n'),
      stderr: '',
    };
    const events: Array<{ event: string; data: { reason: string; name: string } }> = [];
    const audit = { record: (event: string, data: never) => events.push({ event, data }) } as never;
    await endRemoteEgress(runtime, stateDir, 'k', 's1', audit);
    expect(events.map((e) => [e.event, e.data.reason, e.data.name])).toEqual([
      ['network.denied', 'credential-leak', 's1'],
      ['network.denied', 'denied', 's1'],
    ]);
  });
});
