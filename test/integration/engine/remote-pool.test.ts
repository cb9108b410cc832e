import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { onEngine, runOn, useRemoteRig } from '../../helpers/remote-engine-rig.js';
import { MODES, Sandbox, modeLabel } from '../../helpers/sandbox.js';
import { ownProject, stateKeyOf } from '../../helpers/test-env.js';
import { waitForPool } from '../pool/pool-helpers.js';

/**
 * The warm pool on a remote engine, over real ssh (test/helpers/remote-engine-rig.ts): warm
 * containers start there on the project's shipped volume; a run claims one (podman exec through
 * the tunnel), sees what changed here since, and its edit comes home (the trips through the
 * pool's warm sync helper, or a helper container when it is gone); two runs at once never get the
 * same container; drain removes them there, and so does `engine remove`. The contained default is
 * kept warm there too, each warm container with a proxy and a network of its own (allowed host
 * answers, denied one refused and audited here, nothing left after drain). The test run's one rig; the test image is loaded
 * into the engine directly (the image's shipment is remote-engine.test.ts's).
 */

requirePrerequisites();
const rig = useRemoteRig();

function listen(body: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end(body));
  return new Promise((resolve) =>
    server.listen(0, '0.0.0.0', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    }),
  );
}

/** Services of this machine (the engine's host) a contained run is allowed, or not, to reach. */
let allowed: { server: Server; port: number };
let denied: { server: Server; port: number };
beforeAll(async () => {
  [allowed, denied] = await Promise.all([listen('allowed-ok'), listen('denied-body')]);
  rig.loadTestImage();
}, 120_000);
afterAll(() => {
  for (const s of [allowed, denied]) s?.server.close();
});

describe.each(MODES)('the warm pool on a remote engine over ssh (%s)', (as) => {
  const box = new Sandbox(as);
  afterAll(() => box.cleanup());
  const engine = `rigpool-${modeLabel(as)}`;
  const stateKey = stateKeyOf(join(box.env.XDG_STATE_HOME as string, 'mino'));

  /** This sandbox's containers on the engine (full IDs) named as warm ones: the warm containers, or (`helpers`) the pool's sync helpers. */
  const warmOnEngine = (helpers = false, key = stateKey): string[] => {
    const ps = (...filters: string[]): string[] =>
      rig
        .podman([
          'ps',
          '-a',
          '--no-trunc',
          '--format',
          '{{.ID}} {{.Names}}',
          ...filters.flatMap((f) => ['--filter', f]),
        ])
        .split('\n')
        .filter((l) => l.includes(' mino.warm.'))
        .map((l) => l.split(' ')[0]!);
    const sync = ps(`label=io.mino.state=${key}`, 'label=io.mino.sync');
    return helpers ? sync : ps(`label=io.mino.state=${key}`).filter((id) => !sync.includes(id));
  };

  /** Writes a project file as its owner would. */
  const write = (dir: string, name: string, text: string): void => {
    writeFileSync(join(dir, name), text);
    ownProject(join(dir, name), as);
  };

  /**
   * The contained default (an allowlist) kept warm there: each warm container with a proxy and
   * a network of its own on the engine; a run claims one, its policy handed over: the allowed
   * host answers, the denied one is refused and audited here; the refill starts the next pair,
   * and drain leaves no proxy or network behind.
   */
  async function containedPool(box: Sandbox, dir: string, stateKey: string): Promise<void> {
    const { port: a } = allowed;
    const { port: b } = denied;
    const run = [...onEngine(engine, dir), '--network-allow', `host.containers.internal:${a}`];
    const warm = await box.mino(['pool', 'warm', '-n', '1', ...run]);
    expect(warm.stdout, warm.stderr).toMatch(/: 1 warm \(1 started\) .* on engine rigpool-/);
    expect(warm.exitCode).toBe(0);
    const [warmId] = warmOnEngine(false, stateKey);
    expect(rig.egressOnEngine(stateKey)).toHaveLength(2);
    const dry = await box.mino(['run', ...run, '--dry-run', '--', 'true']);
    expect(dry.stdout).toMatch(/# Pool: a warm container would serve this run .* on engine rigpool-/);
    const script = [
      'cat /proc/sys/kernel/hostname',
      'proxy=${HTTP_PROXY#http://}',
      // busybox wget crashes on this network: requests to the proxy by nc.
      'get() { printf "GET $1 HTTP/1.0\\r\\n\\r\\n" | nc -w 5 ${proxy%:*} ${proxy##*:}; echo; }',
      `get http://host.containers.internal:${a}/`,
      `get http://host.containers.internal:${b}/ | grep -q 403 && echo "refused b"`,
    ].join('\n');
    const r = await box.mino(['run', ...run, '--name', 'rpc', '--', 'sh', '-c', script]);
    expect(r.stdout.split('\n')[0], r.stderr).toBe(warmId!.slice(0, 12));
    expect(r.stdout).toContain('allowed-ok');
    expect(r.stdout).not.toContain('denied-body');
    expect(r.stdout).toContain('refused b');
    expect(r.stderr).toContain(`host.containers.internal:${b}`);
    expect(r.exitCode).toBe(0);
    const audit = readFileSync(join(box.env.XDG_STATE_HOME as string, 'mino', 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; data: { name?: string; destination?: string } });
    expect(
      audit.some(
        (e) =>
          e.event === 'network.denied' &&
          e.data.name === 'rpc' &&
          e.data.destination === `host.containers.internal:${b}`,
      ),
    ).toBe(true);
    const logs = await box.mino(['logs', 'rpc', '--network']);
    expect(logs.stdout).toContain(`host.containers.internal:${a}`);
    // The session's proxy and network went with it; the refill's pair is there.
    await waitForPool(box, (s) => s.warm_total === 1, 60_000);
    expect(warmOnEngine(false, stateKey)).not.toContain(warmId);
    expect(rig.egressOnEngine(stateKey)).toHaveLength(2);
    const drain = await box.mino(['pool', 'drain', '--engine', engine]);
    expect(drain.exitCode).toBe(0);
    expect(warmOnEngine(false, stateKey)).toEqual([]);
    expect(rig.egressOnEngine(stateKey)).toEqual([]);
  }

  // Both modes (rootless: ~13 s on a quiet machine).
  it('keeps a contained allowlist warm there: a proxy and a network per warm container, the policy handed at the claim', async () => {
    // A sandbox of its own (state, engines, pools), apart from the test below.
    const own = new Sandbox(as);
    try {
      expect((await own.mino(['engine', 'add', engine, rig.url, '--identity', rig.key(as)])).exitCode).toBe(0);
      const dir = own.project('contained');
      write(dir, 'a.txt', 'one\n');
      chmodSync(dir, 0o700);
      await containedPool(own, dir, stateKeyOf(join(own.env.XDG_STATE_HOME as string, 'mino')));
    } finally {
      own.cleanup();
    }
  });

  // One mode (the engine's secrets are the same whoever runs mino here): the time budget.
  if (modeLabel(as) === 'rootful')
    it("keeps the host's CA bundle as one secret there: made once, again when removed behind mino's back, listed, gone with the engine", async () => {
      const own = new Sandbox(as);
      const ownKey = stateKeyOf(join(own.env.XDG_STATE_HOME as string, 'mino'));
      // A host CA of the test's own (an extra CA by NODE_EXTRA_CA_CERTS), whatever the machine has.
      const system = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
      const extra = join(own.root, 'extra-ca.crt');
      writeFileSync(extra, system.slice(0, system.indexOf('-----END CERTIFICATE-----') + 26), { mode: 0o644 });
      own.env.NODE_EXTRA_CA_CERTS = extra;
      // A podman that logs its calls (never a value: secrets travel on stdin).
      const shim = mkdtempSync(join(tmpdir(), 'mino-podman-log-'));
      chmodSync(shim, 0o755);
      const calls = join(shim, 'calls.log');
      writeFileSync(calls, '');
      chmodSync(calls, 0o666);
      const real = spawnSync('sh', ['-c', 'command -v podman'], { encoding: 'utf8' }).stdout.trim();
      writeFileSync(join(shim, 'podman'), `#!/bin/sh\necho "$*" >> ${calls}\nexec ${real} "$@"\n`, { mode: 0o755 });
      const secretCalls = (): string[] => {
        const lines = readFileSync(calls, 'utf8').split('\n');
        writeFileSync(calls, '');
        return lines.filter((l) => / secret /.test(` ${l} `));
      };
      const bundles = (): string[] =>
        rig
          .podman(['secret', 'ls', '--format', '{{.Name}}'])
          .split('\n')
          .filter((n) => n.startsWith(`mino-ca-${ownKey}.`));
      try {
        expect((await own.mino(['engine', 'add', engine, rig.url, '--identity', rig.key(as)])).exitCode).toBe(0);
        const dir = own.project('ca');
        own.env.PATH = `${shim}:${process.env.PATH}`;
        const run = [...runOn(engine, dir), '--network', 'none', '--'];
        const probe = [...run, 'sh', '-c', 'grep -c "BEGIN CERT" "$SSL_CERT_FILE"'];
        const first = await own.mino(probe);
        expect(first.exitCode, first.stderr).toBe(0);
        expect(Number(first.stdout.trim())).toBeGreaterThan(1);
        expect(secretCalls().filter((l) => l.includes('secret create'))).toHaveLength(1);
        expect(bundles()).toHaveLength(1);
        // The second run: no podman secret call at all.
        const second = await own.mino([...run, 'true']);
        expect(second.exitCode, second.stderr).toBe(0);
        expect(secretCalls()).toEqual([]);
        // Removed behind mino's back: the run fails before podman creates anything; made again, run once.
        const [name] = bundles();
        rig.podman(['secret', 'rm', name!]);
        const third = await own.mino(probe);
        expect(third.exitCode, third.stderr).toBe(0);
        expect(third.stderr).toMatch(/no such secret/);
        expect(third.stdout.trim()).toBe(first.stdout.trim());
        expect(bundles()).toEqual([name]);
        const cache = await own.mino(['cache', 'list', '--engine', engine, '-f', 'json']);
        const images = (JSON.parse(cache.stdout) as { images: { name: string; kind: string; in_use_by: string }[] })
          .images;
        expect(images.filter((i) => i.kind === 'ca-bundle')).toEqual([
          expect.objectContaining({ name, in_use_by: "the host's CAs now" }),
        ]);
        expect((await own.mino(['engine', 'remove', engine])).exitCode).toBe(0);
        expect(bundles()).toEqual([]);
      } finally {
        own.cleanup();
        rmSync(shim, { recursive: true, force: true });
      }
    });

  it('warms there, serves a run whose edit comes home, never one container twice, and drains there', async () => {
    expect((await box.mino(['engine', 'add', engine, rig.url, '--identity', rig.key(as)])).exitCode).toBe(0);
    const dir = box.project('proj');
    write(dir, 'a.txt', 'one\n');
    chmodSync(dir, 0o700); // the engine's user cannot read it: only what mino ships is there
    const flags = [...onEngine(engine, dir), '--network', 'none'];

    const warm = await box.mino(['pool', 'warm', '-n', '1', ...flags]);
    expect(warm.stdout, warm.stderr).toMatch(/: 1 warm \(1 started\) .* on engine rigpool-/);
    expect(warm.exitCode).toBe(0);
    const [warmId] = warmOnEngine();
    expect(warmId).toMatch(/^[0-9a-f]{64}$/);
    // Beside it, the pool's sync helper (mino's own container on the project volume).
    expect(warmOnEngine(true)).toHaveLength(1);
    const dry = await box.mino(['run', ...flags, '--dry-run', '--', 'true']);
    expect(dry.stdout).toMatch(
      /# Pool: a warm container would serve this run .* on engine rigpool-.* with podman exec/,
    );

    // Changed here after warming: shipped before the command runs in the warm container.
    write(dir, 'a.txt', 'two\n');
    const script = 'cat a.txt; cat /proc/sys/kernel/hostname; echo made > b.txt; exit 3';
    const r = await box.mino(['run', ...flags, '--', 'sh', '-c', script]);
    expect(r.stdout.split('\n').slice(0, 2), r.stderr).toEqual(['two', warmId!.slice(0, 12)]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/Brought back 1 change/);
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('made\n');
    const list = await box.mino(['list', '-a', '--format', 'json']);
    expect(list.stdout).toContain(`"engine": "${engine}"`);

    // The background refill puts a new warm container there; two runs at once: one gets it, the
    // other starts cold (never the same container).
    const refilled = await waitForPool(box, (s) => s.warm_total === 1, 60_000);
    expect(refilled.pools).toMatchObject([{ engine, warm: 1 }]);
    const table = await box.mino(['pool', 'status']);
    expect(table.stdout).toMatch(new RegExp(`POOL +ENGINE +WARM[^\\n]*\\n[0-9a-f]{12} +${engine} +1/1 `));
    expect((await box.mino(['pool', 'status', '--engine', 'local', '-f', 'json'])).stdout).toContain('"pools": []');
    const [next] = warmOnEngine().filter((id) => id !== warmId);
    // The sync helper gone behind mino's back: the runs' trips take a helper container instead,
    // and the refill after them starts a new helper.
    const [helper] = warmOnEngine(true);
    rig.podman(['rm', '-f', '-t', '0', helper!]);
    const host = ['run', ...flags, '--', 'cat', '/proc/sys/kernel/hostname'];
    const both = await Promise.all([box.mino(host), box.mino(host)]);
    for (const b of both) expect(b.exitCode, b.stderr).toBe(0);
    const names = both.map((b) => b.stdout.trim());
    expect(new Set(names).size).toBe(2);
    expect(names).toContain(next!.slice(0, 12));

    await waitForPool(box, (s) => s.warm_total === 1, 60_000);
    expect(warmOnEngine(true)).toHaveLength(1);
    expect(warmOnEngine(true)).not.toContain(helper);
    const drain = await box.mino(['pool', 'drain', '--engine', engine]);
    expect(drain.stderr).toContain('Removed 2 warm container(s) of 1 pool(s)');
    expect(drain.exitCode).toBe(0);
    expect(warmOnEngine()).toEqual([]);
    expect(warmOnEngine(true)).toEqual([]);
    expect((await box.mino(['pool', 'status', '-f', 'json'])).stdout).toContain('"pools": []');

    // engine remove drains that engine's pool there first, its sync helper too (one mode: the
    // same code either way).
    if (modeLabel(as) !== 'rootful') return;
    expect((await box.mino(['pool', 'warm', '-n', '1', ...flags])).exitCode).toBe(0);
    // First a podman whose exec drops the command's stdout (as podman-remote's can, containers/
    // podman#25855): the output is whole all the same, read back from its copy in the container.
    const real = spawnSync('sh', ['-c', 'command -v podman'], { encoding: 'utf8' }).stdout.trim();
    const shim = mkdtempSync(join(tmpdir(), 'mino-lossy-podman-'));
    writeFileSync(
      join(shim, 'podman'),
      `#!/bin/sh\ncase " $* " in *" exec "*.mino-out*) ${real} "$@" >/dev/null; exit $? ;; esac\nexec ${real} "$@"\n`,
      { mode: 0o755 },
    );
    const path = box.env.PATH;
    box.env.PATH = `${shim}:${process.env.PATH}`;
    const lossy = await box
      .mino(['run', ...flags, '--', 'sh', '-c', 'echo whole; echo err >&2; exit 4'])
      .finally(() => {
        box.env.PATH = path;
        if (path === undefined) delete box.env.PATH;
        rmSync(shim, { recursive: true, force: true });
      });
    expect(lossy.stdout).toBe('whole\n');
    expect(lossy.stderr).toContain('err\n');
    expect(lossy.exitCode).toBe(4);
    await waitForPool(box, (s) => s.warm_total === 1, 60_000);
    expect([warmOnEngine().length, warmOnEngine(true).length]).toEqual([1, 1]);
    const removed = await box.mino(['engine', 'remove', engine]);
    expect(removed.stderr).toContain(`Removed 2 warm container(s) of 1 pool(s) on ${engine}`);
    expect(removed.exitCode).toBe(0);
    expect([warmOnEngine(), warmOnEngine(true)]).toEqual([[], []]);
    expect((await box.mino(['pool', 'status', '-f', 'json'])).stdout).toContain('"pools": []');
  });
});
