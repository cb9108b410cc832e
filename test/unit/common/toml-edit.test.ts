import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editConfigFile } from '../../../src/config/config-edit.js';
import { parseKeyValue, resolveKeyTarget } from '../../../src/config/config-value.js';
import { setKeyInText, tomlValue, unsetKeyInText } from '../../../src/common/toml-edit.js';
import { REPO_ROOT } from '../../helpers/test-env.js';

const commented = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'config', 'commented.toml'), 'utf8');

describe('line-level TOML edits', () => {
  it('replaces one key and keeps every comment and the trailing comment of that line', () => {
    const out = setKeyInText(commented, 'general', 'audit_log', 'false');
    expect(out).toBe(
      commented.replace('audit_log = true   # trailing comment stays', 'audit_log = false   # trailing comment stays'),
    );
  });

  it('replaces a multi-line array as one statement', () => {
    const out = setKeyInText(commented, 'container', 'volumes', tomlValue(['/x:/x']));
    expect(out).toContain('volumes = ["/x:/x"]\n\n# the end');
    expect(out).not.toContain('/var/tmp:/b');
    expect(out).toContain('# network for every session');
  });

  it('appends a new key to its table, and a new table at the end', () => {
    const out = setKeyInText(commented, 'container', 'workdir', '"/src"');
    expect(out).toContain(']\nworkdir = "/src"\n\n# the end');
    const out2 = setKeyInText(commented, 'credentials.aws', 'enabled', 'true');
    expect(out2.endsWith('# the end\n\n[credentials.aws]\nenabled = true\n')).toBe(true);
    expect(setKeyInText('', 'session', 'shell', '"/bin/zsh"')).toBe('[session]\nshell = "/bin/zsh"\n');
  });

  it('removes one key only', () => {
    const { text, removed } = unsetKeyInText(commented, 'container', 'env');
    expect(removed).toBe(true);
    expect(text).toBe(commented.replace('env = { EDITOR = "vim" }\n', ''));
    expect(unsetKeyInText(commented, 'container', 'image').removed).toBe(false);
  });

  it('writes strings that TOML reads back exactly', () => {
    expect(tomlValue('a"b\\c\n\u007f')).toBe('"a\\"b\\\\c\\n\\u007F"');
    expect(tomlValue({ A: 'x', 'B-C': 'y', 'd.e': 'z' })).toBe('{ A = "x", B-C = "y", "d.e" = "z" }');
  });
});

describe('config set/unset on a file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mino-edit-'));
    file = join(dir, 'config.toml');
    cpSync(join(REPO_ROOT, 'test', 'fixtures', 'config', 'commented.toml'), file);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const set = (key: string, value: string | undefined) => {
    const target = resolveKeyTarget(key);
    return editConfigFile(file, target, value === undefined ? undefined : parseKeyValue(target, value));
  };

  it('changes only the key, keeping comments', () => {
    set('container.network', 'none');
    expect(readFileSync(file, 'utf8')).toBe(commented.replace('network = "bridge"', 'network = "none"'));
  });

  it('sets and removes one entry of a map', () => {
    set('container.env.PAGER', 'less');
    expect(readFileSync(file, 'utf8')).toContain('env = { EDITOR = "vim", PAGER = "less" }');
    set('container.env.EDITOR', undefined);
    expect(readFileSync(file, 'utf8')).toContain('env = { PAGER = "less" }');
  });

  it('parses values by the key type', () => {
    expect(parseKeyValue(resolveKeyTarget('container.layers'), 'typescript, python')).toEqual(['typescript', 'python']);
    expect(parseKeyValue(resolveKeyTarget('container.layers'), '["rust"]')).toEqual(['rust']);
    expect(parseKeyValue(resolveKeyTarget('cache.enabled'), 'no')).toBe(false);
    expect(parseKeyValue(resolveKeyTarget('cache.gc_days'), '7')).toBe(7);
    expect(() => parseKeyValue(resolveKeyTarget('cache.gc_days'), 'x')).toThrow('takes a whole number');
    expect(() => parseKeyValue(resolveKeyTarget('container.network'), 'hots')).toThrow(
      'must be one of bridge, host, none',
    );
    expect(() => resolveKeyTarget('container.netwrk')).toThrow("Unknown config key 'container.netwrk'");
  });

  it('rejects invalid values and leaves the file byte for byte unchanged', () => {
    expect(() => set('container.image', 'NOT AN IMAGE')).toThrow('container.image must be an image reference');
    expect(() => set('container.layers', '../etc')).toThrow('must be a layer name');
    expect(readFileSync(file, 'utf8')).toBe(commented);
  });

  it('refuses to edit a key written as a dotted key instead of guessing', () => {
    writeFileSync(file, 'container.network = "host"\n');
    expect(() => set('container.network', 'none')).toThrow(/Cannot edit container\.network .* safely/);
    expect(readFileSync(file, 'utf8')).toBe('container.network = "host"\n');
  });
});
