import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CommandNotFoundError, type ExecOptions, type ExecResult } from '../../../src/common/exec.js';
import { CredentialCache } from '../../../src/credentials/credential-cache.js';
import { runProviders, type Runner } from '../../../src/credentials/provider-runner.js';
import { awsProvider } from '../../../src/credentials/providers/aws.js';
import { githubProvider } from '../../../src/credentials/providers/github.js';

const ok = (stdout: string): ExecResult => ({ stdout, stderr: '', exitCode: 0, signal: null });
const stsJson = (token: string, expires: string): string =>
  JSON.stringify({
    Credentials: { AccessKeyId: 'AKIA', SecretAccessKey: `${token}-s`, SessionToken: token, Expiration: expires },
  });

function cache(): CredentialCache {
  return new CredentialCache(join(mkdtempSync(join(tmpdir(), 'mino-runner-')), 'credentials'));
}

describe('running credential providers', () => {
  it('runs all providers at once, not one after another', async () => {
    let running = 0;
    let peak = 0;
    const run: Runner = async (argv) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
      return ok(argv[0] === 'gh' ? 'gho_x' : stsJson('t', '2999-01-01T00:00:00Z'));
    };
    const outcomes = await runProviders(
      [
        githubProvider({ host: 'github.com', explicit: false }),
        awsProvider({ sessionDurationSecs: 3600, explicit: true }),
      ],
      { cache: cache(), env: {}, run },
    );
    expect(peak).toBe(2);
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok']);
  });

  it('uses a valid cached token instead of running the CLI, and refreshes an expiring one', async () => {
    const calls: string[] = [];
    let n = 0;
    const now = new Date('2026-01-01T00:00:00Z');
    const run: Runner = async (argv) => {
      calls.push(argv.join(' '));
      n++;
      // The first token expires in 30 s: within the 60 s margin, so it is fetched again.
      return ok(stsJson(`tok${n}`, n === 1 ? '2026-01-01T00:00:30Z' : '2026-01-01T01:00:00Z'));
    };
    const c = cache();
    const p = awsProvider({ sessionDurationSecs: 3600, profile: 'a', explicit: true });
    const get = async () => (await runProviders([p], { cache: c, env: {}, run, now: () => now }))[0]!;
    const first = await get();
    const second = await get();
    const third = await get();
    expect(first.status === 'ok' && first.credential.secretEnv.AWS_SESSION_TOKEN).toBe('tok1');
    expect(second.status === 'ok' && second.credential.secretEnv.AWS_SESSION_TOKEN).toBe('tok2');
    expect(third.status).toBe('cached');
    expect(third.status === 'cached' && third.credential.secretEnv.AWS_SESSION_TOKEN).toBe('tok2');
    expect(calls).toHaveLength(2);
  });

  it('reports a missing CLI quietly for a provider nobody asked for, loudly otherwise', async () => {
    const run: Runner = async (argv) => {
      throw new CommandNotFoundError(argv[0]!, new Error('ENOENT'));
    };
    const [gh, aws] = await runProviders(
      [
        githubProvider({ host: 'github.com', explicit: false }),
        awsProvider({ sessionDurationSecs: 3600, explicit: true }),
      ],
      { cache: cache(), env: {}, run },
    );
    expect(gh).toEqual({
      provider: 'github',
      label: 'GitHub',
      status: 'failed',
      message: 'gh is not installed (or not on PATH)',
      quiet: true,
    });
    expect(aws).toMatchObject({ status: 'failed', message: 'aws is not installed (or not on PATH)', quiet: false });
  });

  it('gives up on a CLI that does not answer in time, and on output it cannot read', async () => {
    // The clock is the test's: the runner's timeout and mino's own deadline fire when the test
    // advances time, never by a race between two real timers.
    vi.useFakeTimers();
    try {
      const hang: Runner = (_argv, options: ExecOptions) =>
        new Promise((resolve) => {
          setTimeout(
            () => resolve({ stdout: '', stderr: '', exitCode: 143, signal: 'SIGTERM', timedOut: true }),
            options.timeoutMs,
          );
        });
      const slowRun = runProviders([githubProvider({ host: 'github.com', explicit: false })], {
        cache: cache(),
        env: {},
        run: hang,
        timeoutMs: 50,
      });
      await vi.advanceTimersByTimeAsync(50);
      const [slow] = await slowRun;
      expect(slow).toMatchObject({ status: 'failed', message: 'gh did not answer within 0 s; skipped', quiet: false });
      // Killed by a signal of someone else's, long before any timeout: the CLI failed, it did not hang.
      const killed: Runner = async () => ({ stdout: '', stderr: '', exitCode: 143, signal: 'SIGTERM' });
      const [gone] = await runProviders([githubProvider({ host: 'github.com', explicit: false })], {
        cache: cache(),
        env: {},
        run: killed,
        timeoutMs: 60_000,
      });
      expect(gone).toMatchObject({ status: 'failed' });
      expect((gone as { message: string }).message).not.toContain('did not answer');
      // A runner that never settles (a stuck pipe): mino's own deadline, 3 s after the timeout, ends the wait.
      const stuck: Runner = () => new Promise(() => undefined);
      const neverRun = runProviders([githubProvider({ host: 'github.com', explicit: false })], {
        cache: cache(),
        env: {},
        run: stuck,
        timeoutMs: 10,
      });
      await vi.advanceTimersByTimeAsync(10 + 3000);
      const [never] = await neverRun;
      expect(never).toMatchObject({ status: 'failed' });
    } finally {
      vi.useRealTimers();
    }
    const [bad] = await runProviders([awsProvider({ sessionDurationSecs: 3600, explicit: true })], {
      cache: cache(),
      env: {},
      run: async () => ok('<html>'),
    });
    expect(bad).toMatchObject({ status: 'failed', message: 'aws sts printed no JSON' });
  });

  it("never puts the CLI's stdout into a failure message", async () => {
    const run: Runner = async () => ({ stdout: 'ghp_LEAKED', stderr: 'boom', exitCode: 1, signal: null });
    const [gh] = await runProviders([githubProvider({ host: 'github.com', explicit: false })], {
      cache: cache(),
      env: {},
      run,
    });
    expect(JSON.stringify(gh)).not.toContain('ghp_LEAKED');
  });
});
