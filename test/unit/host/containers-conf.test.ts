import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { MinoError } from '../../../src/common/errors.js';
import {
  CONF_EDIT,
  mergeUlimits,
  parseContainersConf,
  userContainersConfPath,
} from '../../../src/host/containers-conf.js';
import { setKeyInText, tomlValue } from '../../../src/common/toml-edit.js';

function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/containers-conf/${name}`, import.meta.url), 'utf8');
}

/** The podman 4.3 default file shipped by Debian 12 (every setting commented out but two arrays). */
const DEBIAN = fixture('debian-podman-4.3-default.conf');
/** A hand-edited user file with a multi-line default_ulimits array holding comments. */
const USER = fixture('user-with-ulimits.conf');
/** Only an [engine] table, no newline at the end of the file. */
const ENGINE_ONLY = fixture('engine-only-no-trailing-newline.conf');
/** What `mino setup` writes. */
const MINO = fixture('mino-setup-written.conf');

const ULIMITS = '["nofile=20000:20000", "nproc=32768:32768"]';

function lines(text: string): string[] {
  return text.split('\n');
}

describe('userContainersConfPath', () => {
  it('edits the system-wide file for root, whatever the environment says', () => {
    expect(userContainersConfPath(0, '/root', '/root/.config')).toBe('/etc/containers/containers.conf');
    expect(userContainersConfPath(0, undefined, undefined)).toBe('/etc/containers/containers.conf');
  });

  it('uses ~/.config for a user without XDG_CONFIG_HOME', () => {
    expect(userContainersConfPath(1000, '/home/alice', undefined)).toBe(
      '/home/alice/.config/containers/containers.conf',
    );
    expect(userContainersConfPath(1000, '/home/alice', '')).toBe('/home/alice/.config/containers/containers.conf');
  });

  it('uses an absolute XDG_CONFIG_HOME', () => {
    expect(userContainersConfPath(1000, '/home/alice', '/data/alice/config')).toBe(
      '/data/alice/config/containers/containers.conf',
    );
  });

  it('ignores a relative XDG_CONFIG_HOME', () => {
    expect(userContainersConfPath(1000, '/home/alice', 'config')).toBe(
      '/home/alice/.config/containers/containers.conf',
    );
  });
});

/** The edit mino makes to containers.conf. */
const editConf = (text: string, table: string, key: string, value: string): string =>
  setKeyInText(text, table, key, value, CONF_EDIT);

describe('setKeyInText on containers.conf files (CONF_EDIT)', () => {
  it('adds a missing key right below its existing table header, keeping the commented example', () => {
    const out = editConf(DEBIAN, 'containers', 'default_ulimits', ULIMITS);
    const before = lines(DEBIAN);
    const header = before.indexOf('[containers]');
    expect(header).toBe(16);
    expect(lines(out)).toEqual([
      ...before.slice(0, header + 1),
      `default_ulimits = ${ULIMITS}`,
      ...before.slice(header + 1),
    ]);
    const parsed = parse(out) as Record<string, unknown>;
    const { containers, ...rest } = parse(DEBIAN) as Record<string, unknown>;
    expect(parsed).toEqual({
      ...rest,
      containers: { ...(containers as object), default_ulimits: ['nofile=20000:20000', 'nproc=32768:32768'] },
    });
  });

  it('adds the runtime under [engine], not under [engine.runtimes] further down', () => {
    const out = editConf(DEBIAN, 'engine', 'runtime', '"runc"');
    const before = lines(DEBIAN);
    const header = before.indexOf('[engine]');
    expect(lines(out)).toEqual([...before.slice(0, header + 1), 'runtime = "runc"', ...before.slice(header + 1)]);
    const parsed = parse(out) as { engine: Record<string, unknown> };
    expect(parsed.engine).toEqual({ runtime: 'runc', runtimes: {}, volume_plugins: {} });
  });

  it('replaces a multi-line array where it stands', () => {
    const out = editConf(DEBIAN, 'containers', 'default_capabilities', '["CHOWN"]');
    const before = lines(DEBIAN);
    const start = before.indexOf('default_capabilities = [');
    expect(start).toBe(54);
    expect(before[start + 12]).toBe(']');
    expect(lines(out)).toEqual([
      ...before.slice(0, start),
      'default_capabilities = ["CHOWN"]',
      ...before.slice(start + 13),
    ]);
    expect((parse(out) as { containers: Record<string, unknown> }).containers).toEqual({
      default_capabilities: ['CHOWN'],
      default_sysctls: ['net.ipv4.ping_group_range=0 0'],
    });
  });

  it('replaces a multi-line array whose comments contain brackets, keeping the keys after it', () => {
    const out = editConf(USER, 'containers', 'default_ulimits', ULIMITS);
    expect(out).toBe(
      [
        '# ~/.config/containers/containers.conf',
        '# Hand-edited: keep these comments.',
        '',
        '[containers]',
        '# Limits for my builds; the nproc line came from a wiki page.',
        `default_ulimits = ${ULIMITS}`,
        'log_driver = "k8s-file"',
        'tz = "local"',
        ...lines(USER).slice(12),
      ].join('\n'),
    );
    expect(parse(out)).toEqual({
      containers: { default_ulimits: ['nofile=20000:20000', 'nproc=32768:32768'], log_driver: 'k8s-file', tz: 'local' },
      engine: { runtime: 'crun', events_logger: 'file', runtimes: { crun: ['/usr/bin/crun', '/usr/local/bin/crun'] } },
      network: { network_backend: 'netavark' },
    });
  });

  it('finds the end of an array whose strings contain brackets and #', () => {
    const text = '[containers]\ndevices = [\n  "/dev/a]b",\n  \'c]#d\',\n  "e\\"]",\n]\ntz = "local"\n';
    expect(parse(text)).toEqual({ containers: { devices: ['/dev/a]b', 'c]#d', 'e"]'], tz: 'local' } });
    expect(editConf(text, 'containers', 'devices', '[]')).toBe('[containers]\ndevices = []\ntz = "local"\n');
  });

  it('replaces a single-line value in place, leaving the other tables alone', () => {
    const out = editConf(MINO, 'engine', 'runtime', '"crun"');
    expect(out).toBe(MINO.replace('runtime = "runc"', 'runtime = "crun"'));
    const out2 = editConf(MINO, 'containers', 'default_ulimits', '["nofile=1024:1024"]');
    expect(out2).toBe('[engine]\nruntime = "runc"\n\n[containers]\ndefault_ulimits = ["nofile=1024:1024"]\n');
  });

  it('replaces a value followed by a comment and keeps a missing final newline missing', () => {
    expect(editConf(ENGINE_ONLY, 'engine', 'runtime', '"runc"')).toBe(
      '# engine settings only\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"',
    );
  });

  it('appends a missing table after a blank line, adding the missing newline first', () => {
    const out = editConf(ENGINE_ONLY, 'containers', 'default_ulimits', ULIMITS);
    expect(out).toBe(`${ENGINE_ONLY}\n\n[containers]\ndefault_ulimits = ${ULIMITS}\n`);
    expect(parse(out)).toEqual({
      engine: { runtime: 'crun', cgroup_manager: 'cgroupfs' },
      containers: { default_ulimits: ['nofile=20000:20000', 'nproc=32768:32768'] },
    });
    expect(editConf('[engine]\nruntime = "runc"\n', 'containers', 'tz', '"local"')).toBe(
      '[engine]\nruntime = "runc"\n\n[containers]\ntz = "local"\n',
    );
  });

  it('writes just the table for an empty file', () => {
    expect(editConf('', 'engine', 'runtime', '"runc"')).toBe('[engine]\nruntime = "runc"\n');
  });

  it('does not touch the same key in another table or in the top level', () => {
    const text =
      'runtime = "top"\n[engine.runtimes]\nruntime = "nested"\n[engine]\nevents_logger = "file"\n[network]\nruntime = "other"\n';
    expect(editConf(text, 'engine', 'runtime', '"runc"')).toBe(
      'runtime = "top"\n[engine.runtimes]\nruntime = "nested"\n[engine]\nruntime = "runc"\nevents_logger = "file"\n[network]\nruntime = "other"\n',
    );
  });

  it('does not mistake a longer key for the one to set', () => {
    const text = '[containers]\ndefault_ulimits_note = "x"\n';
    expect(editConf(text, 'containers', 'default_ulimits', '[]')).toBe(
      '[containers]\ndefault_ulimits = []\ndefault_ulimits_note = "x"\n',
    );
  });

  it('stops at an array-of-tables header', () => {
    const text = '[engine]\nevents_logger = "file"\n[[engine.service_destinations]]\nruntime = "x"\n';
    expect(editConf(text, 'engine', 'runtime', '"runc"')).toBe(
      '[engine]\nruntime = "runc"\nevents_logger = "file"\n[[engine.service_destinations]]\nruntime = "x"\n',
    );
  });

  it('accepts a table header with a trailing comment', () => {
    expect(editConf('[engine] # mine\nruntime = "crun"\n', 'engine', 'runtime', '"runc"')).toBe(
      '[engine] # mine\nruntime = "runc"\n',
    );
  });
});

describe('tomlValue for containers.conf values', () => {
  it('quotes strings as TOML basic strings', () => {
    expect(tomlValue('runc')).toBe('"runc"');
    expect(tomlValue('a "b" \\ c\n')).toBe('"a \\"b\\" \\\\ c\\n"');
    expect(parse(`k = ${tomlValue('a "b" \\ c\n')}`)).toEqual({ k: 'a "b" \\ c\n' });
  });

  it('formats a list of strings as a one-line array', () => {
    expect(tomlValue(['nofile=1024:1024', 'nproc=2048:2048'])).toBe('["nofile=1024:1024", "nproc=2048:2048"]');
    expect(tomlValue([])).toBe('[]');
  });
});

describe('parseContainersConf', () => {
  it('parses a valid file', async () => {
    expect(await parseContainersConf('/etc/containers/containers.conf', MINO)).toEqual({
      engine: { runtime: 'runc' },
      containers: { default_ulimits: ['nofile=20000:20000', 'nproc=32768:32768'] },
    });
  });

  it('names the file and says mino will not edit it when it is not TOML', async () => {
    const err = await parseContainersConf('/home/a/.config/containers/containers.conf', '[containers\nx = 1\n').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MinoError);
    const e = err as MinoError;
    expect(e.message.startsWith('/home/a/.config/containers/containers.conf is not valid TOML: ')).toBe(true);
    expect(e.message).not.toContain('\n');
    expect(e.hint).toBe(
      'Fix or move /home/a/.config/containers/containers.conf; mino only edits a containers.conf it can parse',
    );
    expect(e.cause).toBeInstanceOf(Error);
  });
});

describe('mergeUlimits', () => {
  it('replaces limits of the same name and keeps the others first', () => {
    expect(
      mergeUlimits(['nofile=1024:2048', 'nproc=2048:4096', 'core=0:0'], ['nofile=20000:20000', 'nproc=32768:32768']),
    ).toEqual(['core=0:0', 'nofile=20000:20000', 'nproc=32768:32768']);
  });

  it('returns the wanted limits when there were none', () => {
    expect(mergeUlimits([], ['nofile=4096:4096'])).toEqual(['nofile=4096:4096']);
  });

  it('keeps existing limits when nothing is wanted', () => {
    expect(mergeUlimits(['memlock=-1:-1'], [])).toEqual(['memlock=-1:-1']);
  });

  it('does not treat a limit whose name starts the same as the same limit', () => {
    expect(mergeUlimits(['nofilex=1:1', 'nofile=1:1'], ['nofile=2:2'])).toEqual(['nofilex=1:1', 'nofile=2:2']);
  });
});

describe('setTomlKey with a spaced table header', () => {
  it('edits the existing table instead of adding a second one', () => {
    const out = editConf('[ containers ]\nfoo = 1\n', 'containers', 'default_ulimits', '[]');
    expect(out).toBe('[ containers ]\ndefault_ulimits = []\nfoo = 1\n');
    expect(parse(out)).toEqual({ containers: { foo: 1, default_ulimits: [] } });
  });
});
