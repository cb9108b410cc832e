import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeSessionCaBundle } from '../../../src/credentials/host-ca-bundle.js';

const pem = (n: string): string => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----\n`;

describe('the session CA bundle', () => {
  let root: string;
  let extra: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-ca-'));
    extra = join(root, 'extra.pem');
    writeFileSync(extra, pem('first'));
    env = { NODE_EXTRA_CA_CERTS: extra };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is written once, then reused while none of its sources changed; a changed source or bundle rewrites it', () => {
    const state = join(root, 'state');
    const path = writeSessionCaBundle(state, env);
    expect(path).toBe(join(state, 'ca', 'session-ca.crt'));
    expect(readFileSync(path!, 'utf8')).toContain(pem('first'));
    const written = statSync(path!).ino;
    // What it was made of, by file identity: the next run need not read a certificate.
    expect(readFileSync(join(state, 'ca', 'session-ca.stamp'), 'utf8')).toMatch(/^[0-9a-f]{64}\n\d+:/);
    expect(writeSessionCaBundle(state, env)).toBe(path);
    expect(statSync(path!).ino).toBe(written);

    // A new version of a source (another size and time): the bundle follows it.
    writeFileSync(extra, pem('second, longer'));
    utimesSync(extra, new Date(), new Date(Date.now() + 5000));
    expect(writeSessionCaBundle(state, env)).toBe(path);
    expect(readFileSync(path!, 'utf8')).toContain(pem('second, longer'));
    expect(readFileSync(path!, 'utf8')).not.toContain(pem('first'));

    // The bundle itself changed or gone: written again.
    writeFileSync(path!, 'tampered');
    expect(writeSessionCaBundle(state, env)).toBe(path);
    expect(readFileSync(path!, 'utf8')).toContain(pem('second, longer'));
    unlinkSync(path!);
    expect(writeSessionCaBundle(state, env)).toBe(path);
    expect(readFileSync(path!, 'utf8')).toContain(pem('second, longer'));
  });
});
