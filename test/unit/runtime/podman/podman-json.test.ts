import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseContainerList,
  parseDu,
  parseImageInspect,
  parseImageList,
  parseInfo,
  parseLines,
  parseSecretInspect,
  parseVolumeList,
} from '../../../../src/runtime/podman/podman-json.js';
import { minoErrorOf as errorOf } from '../../../helpers/thrown.js';

/** Output captured from podman 4.3.1 on Debian 12 (`--format json`). */
function fixture(name: string): string {
  return readFileSync(new URL(`../../../fixtures/podman/${name}`, import.meta.url), 'utf8');
}

const UNSUPPORTED_HINT = 'This podman version may be unsupported; run `mino status`';

describe('parseVolumeList', () => {
  it('reads names, labels, mount points and creation times from `podman volume ls`', () => {
    expect(parseVolumeList(fixture('volume-ls.json'))).toEqual([
      {
        name: 'mino-fixture-cache-demo',
        labels: { 'io.mino.fixture': 'true', 'io.mino.project': 'demo' },
        mountpoint: '/var/lib/containers/storage/volumes/mino-fixture-cache-demo/_data',
        createdAt: '2026-11-23T00:57:00.618418396Z',
      },
      {
        name: 'mino-fixture-plain',
        labels: {},
        mountpoint: '/var/lib/containers/storage/volumes/mino-fixture-plain/_data',
        createdAt: '2026-11-23T00:57:00.654923179Z',
      },
    ]);
  });

  it('reads `podman volume inspect` output the same way', () => {
    expect(parseVolumeList(fixture('volume-inspect.json'))).toEqual([
      {
        name: 'mino-fixture-cache-demo',
        labels: { 'io.mino.fixture': 'true', 'io.mino.project': 'demo' },
        mountpoint: '/var/lib/containers/storage/volumes/mino-fixture-cache-demo/_data',
        createdAt: '2026-11-23T00:57:00.618418396Z',
      },
    ]);
  });

  it('treats null labels as no labels', () => {
    expect(parseVolumeList('[{"Name":"v","Labels":null}]')).toEqual([
      { name: 'v', labels: {}, mountpoint: undefined, createdAt: undefined },
    ]);
  });

  it.each(['', '\n', 'null', 'null\n', '[]'])('returns no volumes for the empty output %j', (text) => {
    expect(parseVolumeList(text)).toEqual([]);
  });

  it('explains which field has an unexpected shape', () => {
    const err = errorOf(() => parseVolumeList('[{"Name": 3}]'));
    expect(err.message).toBe('Unexpected podman output for volume list: field 0.Name is invalid');
    expect(err.hint).toBe(UNSUPPORTED_HINT);
    expect(errorOf(() => parseVolumeList('[{"Name":"v","Labels":{"a":1}}]')).message).toBe(
      'Unexpected podman output for volume list: field 0.Labels.a is invalid',
    );
  });

  it('says podman returned invalid JSON when the output is not JSON', () => {
    const err = errorOf(() => parseVolumeList('Error: volume ls: permission denied\n'));
    expect(err.message).toBe('Podman returned invalid JSON for volume list');
    expect(err.hint).toBe('Run with -vv to see podman output');
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });
});

describe('parseContainerList', () => {
  it('reads created, exited, running and unlabelled containers from `podman ps -a`', () => {
    expect(parseContainerList(fixture('ps-a.json'))).toEqual([
      {
        id: '4b974e09e9e9138ddd7285039beeac5ef9998653aad23d3409b42c3bb9eeec82',
        name: 'mino-fixture-created',
        image: 'localhost/mino-dev-busybox:latest',
        state: 'created',
        labels: { 'io.mino.fixture': 'true', 'io.mino.session': 'abc123' },
        exitCode: undefined,
        createdAt: 1795395420,
      },
      {
        id: '665fd91cc51abff314f6322fc882c91e839719942c2a8ecf973a10340139192c',
        name: 'mino-fixture-exited',
        image: 'localhost/mino-dev-busybox:latest',
        state: 'exited',
        labels: { 'io.mino.fixture': 'true' },
        exitCode: 3,
        createdAt: 1795395420,
      },
      {
        id: '94578a2c0db4001a0d07e9ed30c73b41a36103eb671fb976542595778aaf7816',
        name: 'mino-fixture-running',
        image: 'localhost/mino-dev-busybox:latest',
        state: 'running',
        labels: { 'io.mino.fixture': 'true' },
        exitCode: undefined,
        createdAt: 1795395421,
      },
      {
        id: '70a0ee3e477378e3f39ddd7de02ca19bb672062492254d7b86369d72a3b8e6f5',
        name: 'mino-fixture-nolabels',
        image: 'localhost/mino-dev-busybox:latest',
        state: 'created',
        labels: {},
        exitCode: undefined,
        createdAt: 1795395431,
      },
    ]);
  });

  it('reports the exit code of a stopped container', () => {
    const [c] = parseContainerList('[{"Id":"abc","Names":["x"],"State":"stopped","ExitCode":137}]');
    expect(c?.state).toBe('stopped');
    expect(c?.exitCode).toBe(137);
  });

  it('shows an unknown podman state as unknown', () => {
    expect(parseContainerList('[{"Id":"abc","State":"Exited"}]')[0]?.state).toBe('unknown');
    expect(parseContainerList('[{"Id":"abc","State":"dead","ExitCode":1}]')[0]).toEqual({
      id: 'abc',
      name: 'abc',
      image: '',
      state: 'unknown',
      labels: {},
      exitCode: undefined,
      createdAt: 0,
    });
  });

  it('names a container without names by its short id', () => {
    const id = '94578a2c0db4001a0d07e9ed30c73b41a36103eb671fb976542595778aaf7816';
    expect(parseContainerList(`[{"Id":"${id}","Names":null,"State":"running"}]`)[0]?.name).toBe('94578a2c0db4');
    expect(parseContainerList(`[{"Id":"${id}","Names":[],"State":"running"}]`)[0]?.name).toBe('94578a2c0db4');
  });

  it.each(['', 'null', '[]'])('returns no containers for the empty output %j', (text) => {
    expect(parseContainerList(text)).toEqual([]);
  });

  it('explains which container field is missing', () => {
    const err = errorOf(() => parseContainerList('[{"Id":"a","State":"running"},{"Names":["x"],"State":"running"}]'));
    expect(err.message).toBe('Unexpected podman output for container list: field 1.Id is invalid');
    expect(err.hint).toBe(UNSUPPORTED_HINT);
  });

  it('rejects an object where a list is expected', () => {
    const err = errorOf(() => parseContainerList('{"Id":"a","State":"running"}'));
    expect(err.message.startsWith('Unexpected podman output for container list:')).toBe(true);
    expect(err.hint).toBe(UNSUPPORTED_HINT);
  });
});

describe('parseImageList', () => {
  it('lists every image with its names, size, labels and container count', () => {
    const images = parseImageList(fixture('images.json'));
    expect(images.flatMap((i) => i.names)).toEqual(['localhost/mino-probe:1', 'localhost/mino-dev-busybox:latest']);
    expect(images.every((i) => /^[0-9a-f]{64}$/.test(i.id) && i.sizeBytes > 0)).toBe(true);
  });

  it('keeps dangling images (no names) and every name of multi-tagged ones', () => {
    const text = JSON.stringify([
      { Id: 'a', Names: ['localhost/x:1', 'localhost/x:latest'] },
      { Id: 'b' },
      { Id: 'c', Names: null, Labels: null },
    ]);
    expect(parseImageList(text).map((i) => [i.id, i.names, i.labels])).toEqual([
      ['a', ['localhost/x:1', 'localhost/x:latest'], {}],
      ['b', [], {}],
      ['c', [], {}],
    ]);
  });

  it('explains a name list of the wrong type', () => {
    expect(errorOf(() => parseImageList('[{"Id":"a","Names":"x"}]')).message).toBe(
      'Unexpected podman output for image list: field 0.Names is invalid',
    );
  });
});

describe('parseImageInspect', () => {
  const inspect = (image: Record<string, unknown>): string => JSON.stringify([{ Id: 'f'.repeat(64), ...image }]);

  it('reads the ID, names, size, labels and the user the image runs as', () => {
    expect(
      parseImageInspect(
        inspect({
          RepoTags: ['localhost/mino-base:latest'],
          Size: 1234,
          Created: '2026-01-02T03:04:05Z',
          Config: { User: 'developer', Labels: { 'io.mino.image': 'base' } },
          Labels: { 'io.mino.image': 'base' },
          User: 'developer',
        }),
      ),
    ).toEqual({
      id: 'f'.repeat(64),
      names: ['localhost/mino-base:latest'],
      sizeBytes: 1234,
      user: 'developer',
      labels: { 'io.mino.image': 'base' },
      created: '2026-01-02T03:04:05Z',
    });
  });

  it('takes the user from Config, then the top level, else root (empty)', () => {
    expect(parseImageInspect(inspect({ Config: { User: '1000:1000' }, User: 'other' }))?.user).toBe('1000:1000');
    expect(parseImageInspect(inspect({ User: 'other' }))?.user).toBe('other');
    expect(parseImageInspect(inspect({ Config: null, Labels: null, RepoTags: null }))).toMatchObject({
      user: '',
      labels: {},
      names: [],
    });
  });

  it('returns undefined for an empty list', () => {
    expect(parseImageInspect('[]')).toBeUndefined();
  });
});

describe('parseSecretInspect', () => {
  it('reads names, IDs and labels, never a value', () => {
    const text = JSON.stringify([
      {
        ID: 'a6d6047a57aa57a6178eccf2a',
        CreatedAt: '2026-12-02T03:10:14.39Z',
        UpdatedAt: '2026-12-02T03:10:14.39Z',
        Spec: {
          Name: 'mino-x',
          Driver: { Name: 'file', Options: { path: '/x' } },
          Labels: { 'io.mino.session': 'demo' },
        },
      },
      { ID: 'b', Spec: { Name: 'plain', Labels: null } },
    ]);
    expect(parseSecretInspect(text)).toEqual([
      {
        id: 'a6d6047a57aa57a6178eccf2a',
        name: 'mino-x',
        labels: { 'io.mino.session': 'demo' },
        createdAt: '2026-12-02T03:10:14.39Z',
      },
      { id: 'b', name: 'plain', labels: {}, createdAt: undefined },
    ]);
  });
});

describe('parseLines', () => {
  it('keeps the non-empty trimmed lines', () => {
    expect(parseLines('podman\n  mynet \n\n')).toEqual(['podman', 'mynet']);
    expect(parseLines('')).toEqual([]);
  });
});

describe('parseInfo', () => {
  it('reads the engine facts of a rootful podman 4.3', () => {
    expect(parseInfo(fixture('info.json'))).toEqual({
      version: '4.3.1',
      rootless: false,
      storageDriver: 'overlay',
      ociRuntime: 'runc',
      cgroupVersion: 'v1',
      cgroupManager: 'cgroupfs',
      networkBackend: 'netavark',
      graphRoot: '/var/lib/containers/storage',
      runRoot: '/run/containers/storage',
      graphStatus: {
        'Backing Filesystem': 'extfs',
        'Native Overlay Diff': 'true',
        'Supports d_type': 'true',
        'Using metacopy': 'false',
      },
      nativeOverlayDiff: true,
    });
  });

  it('reads the engine facts of a rootless podman 4.3', () => {
    expect(parseInfo(fixture('info-rootless.json'))).toEqual({
      version: '4.3.1',
      rootless: true,
      storageDriver: 'vfs',
      ociRuntime: 'runc',
      cgroupVersion: 'v1',
      cgroupManager: 'cgroupfs',
      networkBackend: 'netavark',
      graphRoot: '/home/mino-test/.local/share/containers/storage',
      runRoot: '/run/user/1002/containers',
      graphStatus: {},
      nativeOverlayDiff: undefined,
    });
  });

  it('shows facts an older podman does not report as unknown', () => {
    expect(parseInfo('{"host":{},"store":{},"version":{"Version":"3.4.4"}}')).toEqual({
      version: '3.4.4',
      rootless: false,
      storageDriver: 'unknown',
      ociRuntime: 'unknown',
      cgroupVersion: 'unknown',
      cgroupManager: 'unknown',
      networkBackend: 'unknown',
      graphRoot: '',
      runRoot: '',
      graphStatus: {},
      nativeOverlayDiff: undefined,
    });
  });

  it('reads graph status values of any scalar type as text', () => {
    const info = parseInfo(
      JSON.stringify({
        host: {},
        store: { graphDriverName: 'overlay', graphStatus: { 'Native Overlay Diff': false, Layers: 3 } },
        version: { Version: '5.0.0' },
      }),
    );
    expect(info.graphStatus).toEqual({ 'Native Overlay Diff': 'false', Layers: '3' });
    expect(info.nativeOverlayDiff).toBe(false);
  });

  it('explains which section is missing', () => {
    const err = errorOf(() => parseInfo('{"host":{},"version":{"Version":"4.3.1"}}'));
    expect(err.message).toBe('Unexpected podman output for podman info: field store is invalid');
    expect(err.hint).toBe(UNSUPPORTED_HINT);
    expect(errorOf(() => parseInfo('{"host":{},"store":{},"version":{}}')).message).toBe(
      'Unexpected podman output for podman info: field version.Version is invalid',
    );
  });

  it.each(['', 'null'])('fails with the unsupported-podman hint when the output is %j', (text) => {
    const err = errorOf(() => parseInfo(text));
    expect(err.message.startsWith('Unexpected podman output for podman info:')).toBe(true);
    expect(err.hint).toBe(UNSUPPORTED_HINT);
  });

  it('says podman returned invalid JSON for truncated output', () => {
    const truncated = fixture('info.json').slice(0, 200);
    const err = errorOf(() => parseInfo(truncated));
    expect(err.message).toBe('Podman returned invalid JSON for podman info');
    expect(err.hint).toBe('Run with -vv to see podman output');
  });
});

describe('parseDu', () => {
  it('maps each path to its size in bytes', () => {
    const text = [
      '8\t/var/lib/containers/storage/volumes/mino-cache-a/_data',
      '1024\t/var/lib/containers/storage/volumes/mino home b/_data',
      '',
    ].join('\n');
    expect(parseDu(text, 1024)).toEqual(
      new Map([
        ['/var/lib/containers/storage/volumes/mino-cache-a/_data', 8192],
        ['/var/lib/containers/storage/volumes/mino home b/_data', 1048576],
      ]),
    );
  });

  it('ignores error lines from du', () => {
    const text = "du: cannot access '/x': No such file or directory\n12\t/y\n";
    expect(parseDu(text, 1)).toEqual(new Map([['/y', 12]]));
  });

  it('returns nothing for empty output', () => {
    expect(parseDu('', 1).size).toBe(0);
  });
});
