import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  configFromBytes,
  parseConfigText,
  readConfigFile,
  sha256Hex,
  validateConfig,
} from '../../../src/config/config-file.js';
import { closestKey } from '../../../src/config/config-keys.js';
import { REPO_ROOT } from '../../helpers/test-env.js';
import { thrown as errorOf } from '../../helpers/thrown.js';

const fixture = (name: string): string => join(REPO_ROOT, 'test', 'fixtures', 'config', name);

describe('config files', () => {
  it('names file, line and column for a TOML syntax error', () => {
    const err = errorOf(() => readConfigFile(fixture('bad-toml.toml')));
    expect(err.message).toMatch(/^Invalid TOML in .*bad-toml\.toml at line 3, column \d+: /);
    expect(err.hint).toContain('mino changed nothing');
  });

  it('names the file, the unknown key and the closest valid key', () => {
    const err = errorOf(() => readConfigFile(fixture('unknown-key.toml')));
    expect(err.message).toBe(`Invalid config ${fixture('unknown-key.toml')}: unknown key 'container.netwrk'`);
    expect(err.hint).toBe("Did you mean 'container.network'?");
  });

  it('suggests the key in the right table for a key in the wrong one', () => {
    expect(closestKey('general.network')).toBe('container.network');
    expect(closestKey('containr')).toBe('container');
    expect(closestKey('zzzzzzzzzzzzzzzzzz')).toBeUndefined();
    const err = errorOf(() => validateConfig('f.toml', { network_allow: ['a.example:443'] }));
    expect(err.message).toBe("Invalid config f.toml: unknown key 'network_allow'");
    expect(err.hint).toBe("Did you mean 'container.network_allow'?");
  });

  it('explains a wrong type with what was expected and what was found', () => {
    const err = errorOf(() => readConfigFile(fixture('wrong-type.toml')));
    expect(err.message).toMatch(
      /container\.volumes must be an array of strings, not string "\/home\/me\/data:\/data"$/,
    );
    expect(errorOf(() => validateConfig('f', { container: { network: 'hots' } })).message).toBe(
      'Invalid config f: container.network must be one of bridge, host, none, learn, not string "hots"',
    );
    expect(errorOf(() => validateConfig('f', { session: { auto_cleanup_hours: 1.5 } })).message).toContain(
      'session.auto_cleanup_hours',
    );
    expect(errorOf(() => validateConfig('f', { session: { idle_timeout_secs: -5 } })).message).toBe(
      'Invalid config f: session.idle_timeout_secs must be at least 0 (got number -5)',
    );
    expect(errorOf(() => validateConfig('f', { session: { detach_timeout_secs: 'soon' } })).message).toBe(
      'Invalid config f: session.detach_timeout_secs must be an integer, not string "soon"',
    );
    expect(errorOf(() => validateConfig('f', { session: { suspend_timeout_secs: 1e12 } })).message).toContain(
      'session.suspend_timeout_secs must be at most 31536000',
    );
    expect(errorOf(() => validateConfig('f', { container: { image: 'BAD IMAGE' } })).message).toContain(
      'container.image must be an image reference',
    );
    expect(errorOf(() => validateConfig('f', { container: { env: { '1X': 'y' } } })).message).toContain(
      "'1X' is not a valid variable name",
    );
    expect(errorOf(() => validateConfig('f', { container: { layers: ['../x'] } })).message).toContain(
      'container.layers[0] must be a layer name',
    );
    expect(errorOf(() => validateConfig('f', { container: 'x' })).message).toBe(
      'Invalid config f: container must be a table, not string "x"',
    );
  });

  it('accepts mino 1.6 files and hashes exactly the bytes it parsed', () => {
    const bytes = readFileSync(fixture('commented.toml'));
    const file = configFromBytes('c.toml', bytes);
    expect(file.sha256).toBe(sha256Hex(bytes));
    expect(file.raw).toMatchObject({ container: { network: 'bridge', env: { EDITOR: 'vim' } } });
    expect(readConfigFile(fixture('does-not-exist.toml'))).toBeUndefined();
    expect(parseConfigText('x', '')).toEqual({});
  });
});
