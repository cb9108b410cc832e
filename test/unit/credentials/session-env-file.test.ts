import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderEnvFile, shellSingleQuote } from '../../../src/credentials/session-env-file.js';
import { thrown } from '../../helpers/thrown.js';

describe('the session env file', () => {
  it('renders one export per variable, single-quoted', () => {
    expect(
      renderEnvFile(
        new Map([
          ['A', 'x'],
          ['B', "it's"],
        ]),
      ),
    ).toBe("export A='x'\nexport B='it'\\''s'\n");
    expect(shellSingleQuote('')).toBe("''");
  });

  it('sets exactly the values when sourced by sh (quotes, newlines, $, backslashes, unicode)', () => {
    const values = new Map([
      ['T1', 'a\'b"c$HOME`id`\\n'],
      ['T2', 'line1\nline2\n'],
      ['T3', ''],
      ['T4', 'ünï €  spaced  '],
      ['T5', "'"],
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'mino-envfile-'));
    const file = join(dir, 'env');
    writeFileSync(file, renderEnvFile(values));
    const script = `. "$1"; for v in T1 T2 T3 T4 T5; do eval "printf '%s\\\\0' \\"\\$$v\\""; done`;
    const r = spawnSync('/bin/sh', ['-c', script, 'sh', file], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\0').slice(0, 5)).toEqual([...values.values()]);
  });

  it('refuses a NUL byte and invalid names', () => {
    expect(thrown(() => renderEnvFile(new Map([['A', 'x\0y']]))).message).toContain('NUL');
    expect(thrown(() => renderEnvFile(new Map([['A;rm', 'x']]))).message).toContain('invalid variable name');
  });
});
