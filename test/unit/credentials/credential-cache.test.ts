import { chmodSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CredentialCache, EXPIRY_MARGIN_MS } from '../../../src/credentials/credential-cache.js';

const now = new Date('2026-01-01T00:00:00Z');
const inAnHour = new Date(now.getTime() + 3600_000);

function cache(): CredentialCache {
  return new CredentialCache(join(mkdtempSync(join(tmpdir(), 'mino-ccache-')), 'credentials'));
}

describe('the credential cache', () => {
  it('keys entries by provider and scope: two AWS profiles never share a token', () => {
    const c = cache();
    c.put('aws', { profile: 'a' }, { secretEnv: { T: 'token-a' }, plainEnv: {}, expiresAt: inAnHour }, now);
    c.put('aws', { profile: 'b' }, { secretEnv: { T: 'token-b' }, plainEnv: { R: 'x' }, expiresAt: inAnHour }, now);
    expect(c.get('aws', { profile: 'a' }, now)?.secretEnv).toEqual({ T: 'token-a' });
    expect(c.get('aws', { profile: 'b' }, now)).toEqual({
      secretEnv: { T: 'token-b' },
      plainEnv: { R: 'x' },
      expiresAt: inAnHour,
    });
    expect(c.get('aws', { profile: 'c' }, now)).toBeUndefined();
    expect(c.get('gcp', { profile: 'a' }, now)).toBeUndefined();
    expect(CredentialCache.keyOf('aws', { a: '1', b: '2' })).toBe(CredentialCache.keyOf('aws', { b: '2', a: '1' }));
  });

  it('writes 0600 files in a 0700 directory, and narrows a widened directory on use', () => {
    const c = cache();
    c.put('azure', {}, { secretEnv: { T: 'x' }, plainEnv: {}, expiresAt: inAnHour }, now);
    expect(statSync(c.dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(c.dir)) expect(statSync(join(c.dir, f)).mode & 0o777).toBe(0o600);
    chmodSync(c.dir, 0o755);
    c.get('azure', {}, now);
    expect(statSync(c.dir).mode & 0o777).toBe(0o700);
  });

  it('treats an entry as expired a minute early and deletes it', () => {
    const c = cache();
    const soon = new Date(now.getTime() + EXPIRY_MARGIN_MS + 1000);
    c.put('gcp', {}, { secretEnv: { T: 'x' }, plainEnv: {}, expiresAt: soon }, now);
    expect(c.get('gcp', {}, new Date(now.getTime() + 1001))).toBeUndefined();
    expect(readdirSync(c.dir)).toEqual([]);
    c.put(
      'gcp',
      {},
      { secretEnv: { T: 'x' }, plainEnv: {}, expiresAt: new Date(now.getTime() + EXPIRY_MARGIN_MS + 1000) },
      now,
    );
    expect(c.get('gcp', {}, now)).toBeDefined();
  });

  it('does not cache a credential without an expiry, or one that expires within the margin', () => {
    const c = cache();
    c.put('aws', {}, { secretEnv: { T: 'x' }, plainEnv: {} }, now);
    c.put('aws', { p: '2' }, { secretEnv: { T: 'x' }, plainEnv: {}, expiresAt: new Date(now.getTime() + 30_000) }, now);
    expect(c.clear()).toBe(0);
  });

  it('drops corrupt entries, ignores symlinks, and clears everything', () => {
    const c = cache();
    c.put('aws', { p: '1' }, { secretEnv: { T: 'x' }, plainEnv: {}, expiresAt: inAnHour }, now);
    const corrupt = join(c.dir, CredentialCache.keyOf('aws', { p: '2' }));
    writeFileSync(corrupt, '{not json');
    expect(c.get('aws', { p: '2' }, now)).toBeUndefined();
    const elsewhere = join(mkdtempSync(join(tmpdir(), 'mino-ccache-')), 'x.json');
    writeFileSync(
      elsewhere,
      JSON.stringify({
        provider: 'aws',
        secret_env: { T: 'planted' },
        plain_env: {},
        expires_at: inAnHour.toISOString(),
      }),
    );
    symlinkSync(elsewhere, join(c.dir, CredentialCache.keyOf('aws', { p: '3' })));
    expect(c.get('aws', { p: '3' }, now)).toBeUndefined();
    expect(c.clear()).toBe(2);
    expect(new CredentialCache('/nonexistent/dir').clear()).toBe(0);
  });
});
