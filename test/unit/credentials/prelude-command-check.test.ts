import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withPrelude } from '../../../src/credentials/session-prelude.js';

const dir = mkdtempSync(join(tmpdir(), 'mino-prelude-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `command` through the prelude with /bin/sh, like the container does. */
function run(command: string[]): { status: number | null; stdout: string; stderr: string } {
  const [file, ...args] = withPrelude(command, { env: false, logins: false, settings: false });
  return spawnSync(file!, args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
}

describe('the prelude reports a command that cannot run like a shell, in mino words', () => {
  it('runs a command that exists with its own exit code and output', () => {
    expect(run(['sh', '-c', 'echo hi; exit 7'])).toMatchObject({ status: 7, stdout: 'hi\n', stderr: '' });
  });

  it('127 for a missing command, by name or by path', () => {
    const byName = run(['no-such-command-here']);
    expect(byName.status).toBe(127);
    expect(byName.stderr).toMatch(
      /^Error: command not found in the image: no-such-command-here\nHint: check its name and the image's PATH \(\/usr\/bin:\/bin\)/,
    );
    const byPath = run(['/no/such/tool']);
    expect(byPath.status).toBe(127);
    expect(byPath.stderr).toBe(
      'Error: command not found in the image: /no/such/tool\nHint: check the path; mino run -- ls -l /no/such/ shows what is there\n',
    );
  });

  it('126 for a directory or a file without the execute permission', () => {
    const file = join(dir, 'not-exec');
    writeFileSync(file, '#!/bin/sh\necho never\n');
    chmodSync(file, 0o644);
    for (const target of [dir, file]) {
      const r = run([target]);
      expect(r.status).toBe(126);
      expect(r.stderr).toBe(
        `Error: command is not executable in the image: ${target}\nHint: it is a directory or lacks the execute permission\n`,
      );
    }
  });
});
