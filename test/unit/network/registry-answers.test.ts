import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { answerFingerprint, keptAnswers } from '../../../src/network/registry-answers.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mino-answers-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('kept registry answers', () => {
  it('asks a program once while nothing changed, again after a day; never keeps a failure', async () => {
    const asked: string[] = [];
    let code = 0;
    const run = async (argv: readonly string[]) => {
      asked.push(argv.join(' '));
      return { exitCode: code, stdout: `answer ${asked.length}\n` };
    };
    let now = 1_000_000;
    let print = 'a';
    const kept = keptAnswers(
      run,
      join(dir, 'answers.json'),
      (argv) => `${print}:${argv.join(' ')}`,
      () => now,
    );
    expect(await kept(['npm', 'config', 'get', 'registry'])).toEqual({ exitCode: 0, stdout: 'answer 1\n' });
    expect(await kept(['npm', 'config', 'get', 'registry'])).toEqual({ exitCode: 0, stdout: 'answer 1\n' });
    expect(asked).toHaveLength(1);
    print = 'b';
    expect((await kept(['npm', 'config', 'get', 'registry'])).stdout).toBe('answer 2\n');
    now += 24 * 60 * 60_000;
    expect((await kept(['npm', 'config', 'get', 'registry'])).stdout).toBe('answer 3\n');
    code = 1;
    print = 'c';
    await kept(['npm', 'config', 'get', 'registry']);
    expect((await kept(['npm', 'config', 'get', 'registry'])).exitCode).toBe(1);
    expect(asked).toHaveLength(5);
  });

  it("changes with the user's npmrc, npm's variables and the working directory", () => {
    const home = join(dir, 'home');
    const env = { PATH: '/usr/bin:/bin', HOME: home };
    const argv = ['npm', 'config', 'get', 'registry'];
    const base = answerFingerprint(argv, env, home, '/');
    expect(answerFingerprint(argv, env, home, '/')).toBe(base);
    expect(answerFingerprint(argv, { ...env, npm_config_registry: 'http://mirror.test/' }, home, '/')).not.toBe(base);
    expect(answerFingerprint(argv, env, home, dir)).not.toBe(base);
    mkdirSync(home);
    writeFileSync(join(home, '.npmrc'), 'registry=http://mirror.test/\n');
    const withRc = answerFingerprint(argv, env, home, '/');
    expect(withRc).not.toBe(base);
    utimesSync(join(home, '.npmrc'), new Date(0), new Date(0));
    expect(answerFingerprint(argv, env, home, '/')).not.toBe(withRc);
  });
});
