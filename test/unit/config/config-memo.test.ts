import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../../src/config/config-file.js';
import { memoKeyOf, useConfigMemo } from '../../../src/config/config-memo.js';
import { resolveConfig } from '../../../src/config/effective-config.js';

describe('the config memo (what a build already checked, kept between runs)', () => {
  let dir: string;
  const memoPath = () => join(dir, 'config-memo.json');
  const file = () => join(dir, 'config.toml');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mino-config-memo-'));
    useConfigMemo({ path: memoPath(), build: 'build-1' });
  });
  afterEach(() => {
    useConfigMemo(undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('remembers a file that passed the schema, privately, and checks a changed file again', () => {
    writeFileSync(file(), '[container]\nnetwork = "none"\n');
    expect(readConfigFile(file())?.raw).toEqual({ container: { network: 'none' } });
    expect(statSync(memoPath()).mode & 0o777).toBe(0o600);
    // The same bytes are not checked again; other bytes are, and their problem is reported.
    writeFileSync(file(), '[container]\nnetwrok = "none"\n');
    expect(() => readConfigFile(file())).toThrow(/unknown key 'container.netwrok'/);
    writeFileSync(file(), '[container]\nnetwork = 5\n');
    expect(() => readConfigFile(file())).toThrow(/container.network must be/);
  });

  it('serves a merged config from the memo, and merges again when an input changed', () => {
    const first = resolveConfig({ container: { network: 'none' } }, undefined);
    expect(
      JSON.parse(readFileSync(memoPath(), 'utf8')).resolved[memoKeyOf([{ container: { network: 'none' } }, null])],
    ).toBeDefined();
    useConfigMemo({ path: memoPath(), build: 'build-1' }); // a new process: read from the file
    const again = resolveConfig({ container: { network: 'none' } }, undefined);
    expect(again.config).toEqual(JSON.parse(JSON.stringify(first.config)));
    expect(again.sources).toEqual(first.sources);
    // A copy: a caller that changes what it got does not change the memo.
    again.config.container.network = 'host';
    expect(resolveConfig({ container: { network: 'none' } }, undefined).config.container.network).toBe('none');
    const changed = resolveConfig({ container: { network: 'none' } }, { container: { network: 'bridge' } });
    expect(changed.config.container.network).toBe('bridge');
    expect(changed.sources['container.network']).toBe('local');
  });

  it('belongs to one build: another build checks everything again', () => {
    writeFileSync(file(), '[container]\nnetwork = "none"\n');
    readConfigFile(file());
    // A memo that says otherwise (as if an older build's schema had allowed the key) is ignored
    // by another build.
    const memo = JSON.parse(readFileSync(memoPath(), 'utf8'));
    writeFileSync(file(), '[container]\nnetwrok = "none"\n');
    const bad = readFileSync(file());
    memo.valid.push(createHash('sha256').update(bad).digest('hex'));
    writeFileSync(memoPath(), JSON.stringify(memo));
    useConfigMemo({ path: memoPath(), build: 'build-2' });
    expect(() => readConfigFile(file())).toThrow(/unknown key/);
    useConfigMemo({ path: memoPath(), build: 'build-1' });
    expect(readConfigFile(file())?.raw).toEqual({ container: { netwrok: 'none' } }); // its own memo, trusted
  });

  it('keeps apart values that JSON would blur (a date and its text, inf and nan)', () => {
    expect(memoKeyOf({ a: new Date('1979-05-27T00:00:00Z') })).not.toBe(memoKeyOf({ a: '1979-05-27T00:00:00.000Z' }));
    expect(memoKeyOf({ a: Number.POSITIVE_INFINITY })).not.toBe(memoKeyOf({ a: Number.NaN }));
    expect(memoKeyOf({ a: Number.NaN })).not.toBe(memoKeyOf({ a: null }));
  });

  it('never creates a state directory, and an unreadable memo only means checking again', () => {
    useConfigMemo({ path: join(dir, 'absent', 'config-memo.json'), build: 'build-1' });
    writeFileSync(file(), '[container]\nnetwork = "none"\n');
    expect(readConfigFile(file())).toBeDefined();
    expect(() => statSync(join(dir, 'absent'))).toThrow();
    writeFileSync(memoPath(), '{not json');
    useConfigMemo({ path: memoPath(), build: 'build-1' });
    writeFileSync(file(), '[container]\nnetwrok = "none"\n');
    expect(() => readConfigFile(file())).toThrow(/unknown key/);
  });
});
