import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/common/errors.js';
import { isEnvName, isPlainVariable } from '../../../src/credentials/env-names.js';
import { assignedNames, splitCliEnv, takeFromHost } from '../../../src/credentials/env-passthrough.js';
import { thrown } from '../../helpers/thrown.js';

describe('-e values', () => {
  it("splits KEY=VALUE assignments from bare names (taken from mino's environment)", () => {
    expect(splitCliEnv(['A=1', 'TOKEN', 'B=x=y', 'TOKEN', 'C='])).toEqual({
      assignments: ['A=1', 'B=x=y', 'C='],
      fromHost: ['TOKEN'],
    });
    expect([...assignedNames(['A=1', 'B=x=y'])]).toEqual(['A', 'B']);
  });

  it('refuses a bare value that is not a variable name, as a usage error', () => {
    for (const bad of ['1ABC', 'A-B', '', 'A B']) {
      const err = thrown(() => splitCliEnv([bad]));
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toContain('expected KEY=VALUE, or KEY');
    }
  });
});

describe('host values', () => {
  it('passes locale and terminal variables as plain values, everything else as secrets', () => {
    const r = takeFromHost(['LANG', 'TERM', 'ANTHROPIC_API_KEY', 'DATABASE_URL', 'UNSET'], {
      LANG: 'C.UTF-8',
      TERM: 'xterm',
      ANTHROPIC_API_KEY: 'sk-ant',
      DATABASE_URL: 'postgres://u:pw@h/db',
    });
    expect([...r.plain]).toEqual([
      ['LANG', 'C.UTF-8'],
      ['TERM', 'xterm'],
    ]);
    expect([...r.secret]).toEqual([
      ['ANTHROPIC_API_KEY', 'sk-ant'],
      ['DATABASE_URL', 'postgres://u:pw@h/db'],
    ]);
    expect(r.missing).toEqual(['UNSET']);
  });

  it('treats every `-e KEY` value as a secret, and refuses NUL bytes', () => {
    const r = takeFromHost(['LANG', 'BAD'], { LANG: 'C', BAD: 'a\0b' }, { allSecret: true });
    expect([...r.secret]).toEqual([['LANG', 'C']]);
    expect(r.invalid).toEqual(['BAD']);
  });

  it('does not read inherited properties as variables', () => {
    expect(takeFromHost(['constructor', 'toString'], {}).missing).toEqual(['constructor', 'toString']);
  });

  it('knows valid names and harmless ones', () => {
    expect(isEnvName('_A1')).toBe(true);
    expect(isEnvName('1A')).toBe(false);
    expect(isPlainVariable('LC_ALL')).toBe(true);
    expect(isPlainVariable('TERM_TOKEN')).toBe(false);
  });
});
