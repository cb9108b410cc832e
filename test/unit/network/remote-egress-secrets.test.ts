import { describe, expect, it } from 'vitest';
import type { StreamedRun } from '../../../src/runtime/container-runtime.js';
import type { EgressSecrets } from '../../../src/network/egress-secrets.js';
import { newNetworkRecord } from '../../../src/network/network-record.js';
import { changeRemotePolicy, remoteEgressNames, startRemoteEgress } from '../../../src/network/remote-egress.js';
import { parseRemoteProxyLaunch } from '../../../src/network/remote-proxy-protocol.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';
import { REMOTE_TEST_IMAGE, remoteTestEgress } from './remote-egress-fixture.js';

/**
 * A remote session that terminates TLS: its proxy container gets the session CA's key and the
 * credentials' real values on the stdin of one `podman exec`, never in an argument, a variable
 * or a podman secret; live policy changes travel the same way.
 */

const egress = remoteTestEgress('api.example.com:443');
const image = REMOTE_TEST_IMAGE;
const KEY = '-----BEGIN PRIVATE KEY-----\nSECRET-KEY-canary\n-----END PRIVATE KEY-----\n';
const VALUE = 'sk-REAL-canary-value';
const secrets: EgressSecrets = {
  version: 1,
  ca: { certPem: '-----BEGIN CERTIFICATE-----\nPUBLIC\n-----END CERTIFICATE-----\n', keyPem: KEY },
  credentials: [
    {
      variable: 'API_KEY',
      placeholder: 'mino-proxy-managed-api_key-0123456789abcdef',
      value: VALUE,
      hosts: ['api.example.com'],
      header: 'authorization',
      prefix: 'Bearer ',
      add: true,
    },
  ],
  upstreamCa: [],
};

async function text(input: StreamedRun['input']): Promise<string> {
  let out = '';
  for await (const chunk of input ?? []) out += Buffer.from(chunk).toString('utf8');
  return out;
}

/** Every argument of every call, stdin excluded (the streams object is not an argument). */
function argv(runtime: FakeRuntime): string {
  return JSON.stringify(
    runtime.calls.map((c) => c.args.map((a) => (a && typeof a === 'object' && 'input' in a ? '<streams>' : a))),
  );
}

describe('the secrets of a remote session that terminates TLS', () => {
  const names = remoteEgressNames('k', 's1');

  it('go to the proxy container on the stdin of podman exec, before it says ready, and nowhere else', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(image.tag);
    const stdin: string[] = [];
    runtime.on('execStreamed', async (id, command, streams) => {
      stdin.push(await text(streams.input));
      // The proxy listens once it has them.
      runtime.containers.find((c) => c.name === names.container)!.logs = {
        stdout: 'ready 10.89.3.2:3128\n',
        stderr: '',
      };
      await streams.onStdout?.(Buffer.from('{"ok":true}\n'));
      expect(id).toMatch(/./);
      expect(command.slice(0, 2)).toEqual(['/opt/mino/node', '-e']);
      expect(command.at(-1)).toBe('/tmp/mino-egress-control.sock');
      return { stdout: '', stderr: '', exitCode: 0 };
    });
    const address = await startRemoteEgress(
      runtime,
      { session: 's1', stateKey: 'k', engine: 'gpu', egress, image },
      2000,
      Promise.resolve(secrets),
    );
    expect(address).toBe('10.89.3.2:3128');
    expect(stdin).toHaveLength(1);
    expect(JSON.parse(stdin[0]!)).toEqual({ op: 'secrets', secrets });
    // The container is told to wait for them; no argument, variable or podman secret holds them.
    const spec = runtime.callsTo('run')[0]![0] as unknown as { env: Record<string, string>; secretFiles?: unknown[] };
    expect(parseRemoteProxyLaunch(spec.env.MINO_EGRESS_LAUNCH ?? '').secrets).toBe(true);
    expect(spec.secretFiles ?? []).toEqual([]);
    expect(argv(runtime)).not.toContain('SECRET-KEY-canary');
    expect(argv(runtime)).not.toContain(VALUE);
    expect(runtime.callsTo('secretCreate')).toEqual([]);
  });

  it('a proxy that refuses them fails the start, and proxy and network go', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(image.tag);
    runtime.on('execStreamed', async (_id, _command, streams) => {
      await text(streams.input);
      await streams.onStdout?.(Buffer.from('{"ok":false,"error":"bad CA"}\n'));
      return { stdout: '', stderr: 'bad CA', exitCode: 1 };
    });
    await expect(
      startRemoteEgress(
        runtime,
        { session: 's1', stateKey: 'k', engine: 'gpu', egress, image },
        2000,
        Promise.resolve(secrets),
      ),
    ).rejects.toThrow(/did not take the session's CA: .*bad CA/);
    expect(runtime.networks).not.toContain(names.network);
    expect(runtime.containers.map((c) => c.name)).not.toContain(names.container);
  });

  it('a run that stops before its secrets are made removes the proxy (no wait)', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(image.tag);
    await expect(
      startRemoteEgress(
        runtime,
        { session: 's1', stateKey: 'k', engine: 'gpu', egress, image },
        2000,
        Promise.reject(new Error('the run ended')),
      ),
    ).rejects.toThrow(/the run ended/);
    expect(runtime.callsTo('execStreamed')).toEqual([]);
    expect(runtime.networks).not.toContain(names.network);
  });
});

describe('live policy changes of a remote session', () => {
  const names = remoteEgressNames('k', 's1');
  const policy = { mode: 'allowlist' as const, allow: ['api.example.com:443', 'b.example:443'], deny: [] };

  it('are one podman exec into its proxy container, the request on stdin; the answer is the policy', async () => {
    const runtime = new FakeRuntime();
    const stdin: string[] = [];
    runtime.on('execStreamed', async (id, command, streams) => {
      stdin.push(await text(streams.input));
      expect(id).toBe(names.container);
      expect(command[1]).toBe('-e');
      await streams.onStdout?.(
        Buffer.from(
          `${JSON.stringify({ ok: true, policy, record: newNetworkRecord('s1', 'allowlist', policy, []) })}\n`,
        ),
      );
      return { stdout: '', stderr: '', exitCode: 0 };
    });
    expect(await changeRemotePolicy(runtime, 'k', 's1', 'allow', ['b.example:443'])).toEqual(policy);
    expect(JSON.parse(stdin[0]!)).toEqual({ op: 'allow', rules: ['b.example:443'] });
    expect(runtime.calls.map((c) => c.method)).toEqual(['execStreamed']);
  });

  it('try the other kind of mino (bundle or single executable) when the command is not in the image', async () => {
    const runtime = new FakeRuntime();
    const commands: string[][] = [];
    runtime.on('execStreamed', async (_id, command, streams) => {
      commands.push(command);
      if (commands.length === 1) return { stdout: '', stderr: 'executable file not found', exitCode: 127 };
      await streams.onStdout?.(
        Buffer.from(
          `${JSON.stringify({ ok: true, policy, record: newNetworkRecord('s1', 'allowlist', policy, []) })}\n`,
        ),
      );
      return { stdout: '', stderr: '', exitCode: 0 };
    });
    expect(await changeRemotePolicy(runtime, 'k', 's1', 'allow', ['b.example:443'])).toEqual(policy);
    expect(commands.map((c) => c[0])).toEqual(['/opt/mino/node', '/opt/mino/mino']);
  });

  it("read the policy from the proxy's record when podman lost the exec's output", async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(image.tag);
    await runtime.run({ image: image.tag, command: [], name: names.container });
    runtime.containers.find((c) => c.name === names.container)!.logs = {
      stdout: `ready 10.89.3.2:3128\nrecord ${JSON.stringify(newNetworkRecord('s1', 'allowlist', policy, []))}\n`,
      stderr: '',
    };
    runtime.on('execStreamed', async () => ({ stdout: '', stderr: '', exitCode: 0 }));
    expect(await changeRemotePolicy(runtime, 'k', 's1', 'allow', ['b.example:443'])).toEqual(policy);
  });

  it("fail with the proxy's reason when it refused, or when it is gone", async () => {
    const runtime = new FakeRuntime();
    runtime.on('execStreamed', async (_id, _c, streams) => {
      await streams.onStdout?.(Buffer.from('{"ok":false,"error":"Invalid rule"}\n'));
      return { stdout: '', stderr: '', exitCode: 1 };
    });
    await expect(changeRemotePolicy(runtime, 'k', 's1', 'deny', ['x'])).rejects.toThrow(/refused: Invalid rule/);
    const gone = new FakeRuntime();
    await expect(changeRemotePolicy(gone, 'k', 's1', 'deny', ['x:1'])).rejects.toThrow(/exit 125/);
  });
});
