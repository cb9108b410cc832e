import { describe, expect, it } from 'vitest';
import { HARDENING, READ_ONLY_TMPFS, readOnlySpec } from '../../../src/launch/hardening.js';

describe('hardening', () => {
  it('matches mino 1.6 flags', () => {
    expect(HARDENING).toEqual({ capDrop: ['ALL'], securityOpt: ['no-new-privileges'], pidsLimit: 4096 });
  });

  it('read-only mode mounts tmpfs at /tmp, /run, /root and /home/developer', () => {
    expect(READ_ONLY_TMPFS).toEqual(['/tmp', '/run', '/root', '/home/developer']);
    expect(readOnlySpec(true, ['/app'])).toEqual({
      readOnly: true,
      tmpfs: ['/tmp', '/run', '/root', '/home/developer'],
    });
  });

  it('adds nothing when not read-only', () => {
    expect(readOnlySpec(false, [])).toEqual({});
  });

  it('leaves out a tmpfs where a mount already targets the path', () => {
    expect(readOnlySpec(true, ['/app', '/tmp', '/home/developer'])).toEqual({
      readOnly: true,
      tmpfs: ['/run', '/root'],
    });
  });
});
