import { describe, expect, it } from 'vitest';
import { MinoError } from '../../../src/common/errors.js';
import { containerNameFor, sessionLabels } from '../../../src/session/session-labels.js';
import { thrown } from '../../helpers/thrown.js';

describe('containerNameFor', () => {
  it('prefixes mino-', () => {
    expect(containerNameFor('demo')).toBe('mino-demo');
    expect(containerNameFor('session-1a2b3c4d')).toBe('mino-session-1a2b3c4d');
    expect(containerNameFor('_x-')).toBe('mino-_x-');
  });

  it.each(['', 'a/b', 'a.b', '..', 'a b', 'x'.repeat(129), 'ä', '-x', '--rm'])(
    'rejects the session name %j',
    (name) => {
      const err = thrown(() => containerNameFor(name));
      expect(err).toBeInstanceOf(MinoError);
      expect(err.message).toMatch(/^Invalid session name '/);
      expect(err.hint).toContain("letters, digits, '_' and '-'");
    },
  );
});

describe('sessionLabels', () => {
  const base = {
    sessionName: 'demo',
    ownerPid: 42,
    projectDir: '/srv/app',
    minoVersion: '0.1.0',
    mode: 'shell' as const,
  };

  it('labels session, owner pid, project, version and mode', () => {
    expect(sessionLabels(base)).toEqual({
      'io.mino.session': 'demo',
      'io.mino.owner-pid': '42',
      'io.mino.project': '/srv/app',
      'io.mino.version': '0.1.0',
      'io.mino.mode': 'shell',
    });
  });

  it.each([0, -5, 1.5])('rejects the owner pid %s', (ownerPid) => {
    expect(thrown(() => sessionLabels({ ...base, ownerPid })).message).toBe(`Invalid owner PID ${ownerPid}`);
  });

  it('rejects a version with spaces or newlines', () => {
    expect(thrown(() => sessionLabels({ ...base, minoVersion: '1.0\nx' })).message).toBe(
      "Invalid mino version '1.0\\x0ax'",
    );
  });
});
