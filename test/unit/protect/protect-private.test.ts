import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { privateSettingsPath, seedPrivateCopy } from '../../../src/protect/protect-private.js';

describe("the private copy of Claude Code's settings.local.json", () => {
  let dir: string;
  const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mino-private-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("is seeded once from the host's file, then kept", () => {
    const host = join(dir, 'settings.local.json');
    writeFileSync(host, '{"permissions":{}}\n');
    const copy = privateSettingsPath(join(dir, 'state'), '/p');
    seedPrivateCopy(copy, host, owner);
    expect(readFileSync(copy, 'utf8')).toBe('{"permissions":{}}\n');
    expect(statSync(copy).mode & 0o777).toBe(0o600);
    writeFileSync(copy, '{"agent":1}\n');
    writeFileSync(host, '{"changed":1}\n');
    seedPrivateCopy(copy, host, owner);
    expect(readFileSync(copy, 'utf8')).toBe('{"agent":1}\n');
  });

  it('starts as {} when the host has none, or only a link', () => {
    const copy = privateSettingsPath(join(dir, 'state'), '/q');
    symlinkSync('/etc/hostname', join(dir, 'link.json'));
    seedPrivateCopy(copy, join(dir, 'link.json'), owner);
    expect(readFileSync(copy, 'utf8')).toBe('{}\n');
    expect(privateSettingsPath('/s', '/a')).not.toBe(privateSettingsPath('/s', '/b'));
  });
});
