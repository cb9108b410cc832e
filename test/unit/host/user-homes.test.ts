import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePasswdHomes, readUserHomes } from '../../../src/host/user-homes.js';

describe('user homes from the passwd database', () => {
  it('takes every canonical absolute home but /, first user per home', () => {
    const text = [
      'root:x:0:0:root:/root:/bin/bash',
      'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
      'bin:x:2:2:bin:/bin:/usr/sbin/nologin',
      'sys:x:3:3:sys:/dev:/usr/sbin/nologin',
      'proxy:x:13:13:proxy:/bin:/usr/sbin/nologin',
      'odd:x:5:5::/:/bin/sh',
      'rel:x:6:6::home/rel:/bin/sh',
      'dots:x:7:7::/home/../etc:/bin/sh',
      '# comment',
      'short:x:8',
      'alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash',
      '',
    ].join('\n');
    expect(parsePasswdHomes(text)).toEqual([
      { user: 'root', home: '/root' },
      { user: 'daemon', home: '/usr/sbin' },
      { user: 'bin', home: '/bin' },
      { user: 'sys', home: '/dev' },
      { user: 'alice', home: '/home/alice' },
    ]);
  });

  it('always counts /root, also without a passwd file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mino-passwd-'));
    try {
      writeFileSync(join(dir, 'passwd'), 'alice:x:1000:1000::/home/alice:/bin/sh\n');
      expect(readUserHomes(join(dir, 'passwd'))).toEqual([
        { user: 'alice', home: '/home/alice' },
        { user: 'root', home: '/root' },
      ]);
      expect(readUserHomes(join(dir, 'missing'))).toEqual([{ user: 'root', home: '/root' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads this machine', () => {
    expect(readUserHomes().some((h) => h.home === '/root')).toBe(true);
  });
});
