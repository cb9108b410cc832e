import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBE_IMAGE, ensureProbeImage, parseLddPaths, runProbe } from '../../../src/setup/probe.js';
import { FakeHost } from '../../helpers/fake-host.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';

function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/ldd/${name}`, import.meta.url), 'utf8');
}

describe('parseLddPaths', () => {
  it('lists the libraries of a glibc binary, without the vdso', () => {
    expect(parseLddPaths(fixture('glibc-true.txt'))).toEqual([
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
    expect(parseLddPaths(fixture('glibc-ls.txt'))).toEqual([
      '/lib/x86_64-linux-gnu/libselinux.so.1',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib/x86_64-linux-gnu/libpcre2-8.so.0',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('lists the musl loader once even though ldd names it twice', () => {
    expect(parseLddPaths(fixture('musl-busybox.txt'))).toEqual(['/lib/ld-musl-x86_64.so.1']);
  });

  it('skips libraries ldd could not find', () => {
    expect(parseLddPaths('\tlibfoo.so.1 => not found\n\tlibc.so.6 => /lib/libc.so.6 (0x1)\n')).toEqual([
      '/lib/libc.so.6',
    ]);
  });

  it('finds nothing in the output for a static binary', () => {
    expect(parseLddPaths('\tnot a dynamic executable\n')).toEqual([]);
    expect(parseLddPaths('')).toEqual([]);
  });
});

describe('the probe container', () => {
  it("is imported once from the host's own `true` and the libraries ldd names", async () => {
    const host = new FakeHost();
    host.files.set('/usr/bin/true', '');
    host.programs.set('ldd', () => ({ stdout: fixture('glibc-true.txt') }));
    const runtime = new FakeRuntime();
    await ensureProbeImage(runtime, host);
    expect(runtime.callsTo('importImage')).toEqual([
      [
        '/',
        PROBE_IMAGE,
        {
          paths: ['usr/bin/true', 'lib/x86_64-linux-gnu/libc.so.6', 'lib64/ld-linux-x86-64.so.2'],
          dereference: true,
          changes: ['CMD ["/usr/bin/true"]', 'LABEL io.mino.probe=true'],
        },
      ],
    ]);
    await ensureProbeImage(runtime, host);
    expect(runtime.callNames()).toEqual(['imageExists', 'importImage', 'imageExists']);
  });

  it('runs with --init on the network asked, and names what went wrong', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(PROBE_IMAGE);
    expect(await runProbe(runtime, 'bridge')).toEqual({ ok: true, network: 'bridge', stderr: '', problem: undefined });
    expect(runtime.callsTo('runCaptured')[0]?.[0]).toMatchObject({
      image: PROBE_IMAGE,
      init: true,
      network: 'bridge',
      autoRemove: true,
      labels: { 'io.mino.probe': 'true' },
    });
    runtime.on('runCaptured', () => ({
      exitCode: 126,
      stdout: '',
      stderr: 'Error: crun: cgroups in hybrid mode not supported\n',
    }));
    expect(await runProbe(runtime, 'none', ['nofile=1024:1024'])).toMatchObject({
      ok: false,
      problem: 'crun-cgroup-hybrid',
      stderr: 'Error: crun: cgroups in hybrid mode not supported',
    });
    expect(runtime.callsTo('runCaptured')[1]?.[0]).toMatchObject({ ulimits: ['nofile=1024:1024'] });
  });

  it('refuses to build without a `true` on the host', async () => {
    await expect(ensureProbeImage(new FakeRuntime(), new FakeHost())).rejects.toThrow(/no \/usr\/bin\/true/);
  });
});
