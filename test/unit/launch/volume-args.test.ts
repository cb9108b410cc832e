import { describe, expect, it } from 'vitest';
import { MinoError, UsageError } from '../../../src/common/errors.js';
import { assembleMounts, parseVolumeArg, toMountSpecs } from '../../../src/launch/volume-args.js';
import { thrown } from '../../helpers/thrown.js';

const GUARD = { homeDir: '/home/me', allow: { home: false, system: false } };

describe('parseVolumeArg', () => {
  it('parses HOST:CONTAINER (rw) and the ro/rw modes', () => {
    expect(parseVolumeArg('/a:/b', 'cli')).toEqual({ source: '/a', target: '/b', readOnly: false, origin: 'cli' });
    expect(parseVolumeArg('/a:/b:ro', 'config')).toEqual({
      source: '/a',
      target: '/b',
      readOnly: true,
      origin: 'config',
    });
    expect(parseVolumeArg('/a:/b:rw', 'cli')).toEqual({ source: '/a', target: '/b', readOnly: false, origin: 'cli' });
  });

  it('normalises both paths', () => {
    expect(parseVolumeArg('/a/./x/../b/:/data//sub/', 'cli')).toMatchObject({ source: '/a/b', target: '/data/sub' });
  });

  it.each([
    ['./data:/data', "host path './data' is not absolute"],
    ['~/data:/data', "host path '~/data' is not absolute"],
    ['my.volume:/data', "host path 'my.volume' is not absolute"],
    ['-opt:/data', "host path '-opt' is not absolute"],
    [':/data', "host path '' is not absolute"],
    ['/a:data', "container path 'data' is not absolute"],
    ['/a:', "container path '' is not absolute"],
    ['/a:/', 'cannot mount over the container root /'],
    ['/a:/b/..', 'cannot mount over the container root /'],
    ['/a', 'expected HOST:CONTAINER[:ro|:rw]'],
    ['/a:/b:z', "unknown mode 'z' (only ro or rw)"],
    ['/a:/b:RO', "unknown mode 'RO' (only ro or rw)"],
    ['/a:/b:', "unknown mode '' (only ro or rw)"],
    ['/a:/b:ro,z', "contains ',' (mount options are not supported)"],
    ['/a,b:/b', "contains ',' (mount options are not supported)"],
    ['/a:b:/c', "a path contains ':'"],
    ['/a:/b:/c', "a path contains ':'"],
    ['/a:/b:ro:x', "a path contains ':'"],
    ['/a\n:/b', 'contains a control character'],
  ])('rejects %j from the CLI: %s', (value, why) => {
    const err = thrown(() => parseVolumeArg(value, 'cli'));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(`Invalid --volume '${value.replace('\n', '\\x0a')}': ${why}`);
    expect(err.hint).toBeTruthy();
  });

  it('mentions ~ and named volumes in the hint for relative hosts', () => {
    const hint = thrown(() => parseVolumeArg('~/x:/x', 'cli')).hint;
    expect(hint).toContain("'~' and relative paths are not supported");
    expect(hint).toContain("a volume name from 'mino volume list'");
  });

  it('names config container.volumes for config values (exit 1)', () => {
    const err = thrown(() => parseVolumeArg('rel/x:/x', 'config'));
    expect(err).toBeInstanceOf(MinoError);
    expect(err).not.toBeInstanceOf(UsageError);
    expect(err.message).toBe(
      "Invalid volume 'rel/x:/x' in config container.volumes: host path 'rel/x' is not absolute",
    );
  });
});

describe('assembleMounts', () => {
  it('orders project, CLI volumes, config volumes', () => {
    const mounts = assembleMounts('/p/app', '/app', ['/c1:/c1', '/c2:/c2:ro'], ['/f1:/f1'], GUARD);
    expect(mounts.map((m) => `${m.origin}:${m.source}:${m.target}:${m.readOnly ? 'ro' : 'rw'}`)).toEqual([
      'project:/p/app:/app:rw',
      'cli:/c1:/c1:rw',
      'cli:/c2:/c2:ro',
      'config:/f1:/f1:rw',
    ]);
    expect(toMountSpecs(mounts)[0]).toEqual({ source: '/p/app', target: '/app', readOnly: false });
  });

  it('refuses two CLI/config mounts at one target, naming both sources', () => {
    const err = thrown(() => assembleMounts('/p/app', '/app', ['/a:/data'], ['/b:/data/'], GUARD));
    expect(err).toBeInstanceOf(MinoError);
    expect(err.message).toBe(
      'Two mounts use the container path /data: /a (--volume) and /b (config container.volumes)',
    );
    expect(err.hint).toContain('mounted once');
    expect(err.exitCode).toBe(2);
  });

  it('refuses a volume over the project workdir', () => {
    expect(thrown(() => assembleMounts('/p/app', '/app', ['/other:/app'], [], GUARD)).message).toBe(
      'Two mounts use the container path /app: /p/app (the project directory) and /other (--volume)',
    );
  });

  it('refuses the same source at one target with different modes', () => {
    expect(thrown(() => assembleMounts('/p/app', '/app', ['/a:/d:ro'], ['/a:/d'], GUARD)).message).toContain(
      '/a (--volume) and /a (config container.volumes)',
    );
  });

  it('keeps an exact repeat once', () => {
    const mounts = assembleMounts('/p/app', '/app', ['/a:/d:ro'], ['/a/:/d:ro'], GUARD);
    expect(mounts).toHaveLength(2);
    expect(mounts[1]?.origin).toBe('cli');
  });
});
