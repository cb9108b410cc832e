import { describe, expect, it } from 'vitest';
import { identityFlags, MAPPED_IDS, rootfulIdMap, usernsFor } from '../../../src/launch/userns.js';
import { thrown } from '../../helpers/thrown.js';

describe('usernsFor', () => {
  it('maps the host user onto a non-root image uid when rootless', () => {
    expect(usernsFor(true, { uid: 1000 })).toBe('keep-id:uid=1000,gid=1000');
    expect(usernsFor(true, { uid: 1000, gid: 100 })).toBe('keep-id:uid=1000,gid=100');
  });

  it('uses plain keep-id when the image user is unknown', () => {
    expect(usernsFor(true, {})).toBe('keep-id');
  });

  it('passes nothing for a root image (container root already is the host user)', () => {
    expect(usernsFor(true, { uid: 0 })).toBeUndefined();
  });

  it('passes nothing when rootful', () => {
    expect(usernsFor(false, { uid: 1000 })).toBeUndefined();
    expect(usernsFor(false, {})).toBeUndefined();
  });

  it.each([-1, 1.5, Number.NaN])('rejects the uid %s', (uid) => {
    expect(thrown(() => usernsFor(true, { uid })).message).toContain('Invalid image uid');
  });
});

describe('rootful identity', () => {
  const base = 0x70000000;
  const input = (uid: number | undefined, owner: number, gid?: number) =>
    identityFlags({
      rootless: false,
      image: { uid, gid },
      projectOwner: { uid: owner, gid: owner },
      rootfulBase: base,
    });

  it('maps the image user onto the project owner and everything else into the unprivileged range', () => {
    expect(input(1000, 0)).toEqual({
      uidMap: [`0:${base}:1000`, '1000:0:1', `1001:${base + 1001}:${MAPPED_IDS - 1001}`],
      gidMap: [`0:${base}:1000`, '1000:0:1', `1001:${base + 1001}:${MAPPED_IDS - 1001}`],
      // uid 1000 is host root here: it must not own the host's device nodes.
      privateDevices: true,
      // USER 1000 names no group: podman would take /etc/passwd's, or 0 without an entry.
      user: '1000:1000',
    });
    expect(input(1000, 1500).uidMap).toContain('1000:1500:1');
  });

  it('maps a root image onto a non-root project owner; the other ids stay unprivileged; no private /dev', () => {
    const flags = input(0, 1500);
    expect(flags.uidMap).toEqual(['0:1500:1', `1:${base + 1}:${MAPPED_IDS - 1}`]);
    expect(flags.gidMap).toEqual(['0:1500:1', `1:${base + 1}:${MAPPED_IDS - 1}`]);
    expect(flags.privateDevices).toBeUndefined();
    expect(input(1000, 1500).privateDevices).toBeUndefined();
  });

  it('a root image (known or not) in a root-owned project is root there, uid and gid, with a private /dev', () => {
    for (const uid of [0, undefined]) {
      expect(input(uid, 0)).toEqual({
        uidMap: ['0:0:1', `1:${base + 1}:${MAPPED_IDS - 1}`],
        gidMap: ['0:0:1', `1:${base + 1}:${MAPPED_IDS - 1}`],
        privateDevices: true,
      });
    }
  });

  it.each([
    [1000, 1000],
    [1234, 1234],
    [1234, 100],
  ])('an image user %i:%i in a root-owned project is root there, container root is not', (uid, gid) => {
    const flags = input(uid, 0, gid);
    expect(flags.uidMap).toEqual([
      `0:${base}:${uid}`,
      `${uid}:0:1`,
      `${uid + 1}:${base + uid + 1}:${MAPPED_IDS - uid - 1}`,
    ]);
    expect(flags.gidMap).toContain(`${gid}:0:1`);
    expect(flags.gidMap![0]).toBe(`0:${base}:${gid}`);
    expect(flags.privateDevices).toBe(true);
  });

  it('runs an image whose USER names a uid only as uid:uid, as rootless keep-id does; an explicit group is left alone', () => {
    expect(input(1234, 1500).user).toBe('1234:1234');
    expect(input(1234, 1500, 100).user).toBeUndefined();
    expect(input(0, 1500).user).toBeUndefined();
    expect(input(undefined, 1500).user).toBeUndefined();
  });

  it('a project of uid 1500 and group 0 maps group 0 onto host group 0 without a private /dev', () => {
    const flags = identityFlags({
      rootless: false,
      image: { uid: 0 },
      projectOwner: { uid: 1500, gid: 0 },
      rootfulBase: base,
    });
    expect(flags).toEqual({
      uidMap: ['0:1500:1', `1:${base + 1}:${MAPPED_IDS - 1}`],
      gidMap: ['0:0:1', `1:${base + 1}:${MAPPED_IDS - 1}`],
    });
  });

  it('rootless runs never get a private /dev', () => {
    expect(
      identityFlags({ rootless: true, image: { uid: 0 }, projectOwner: { uid: 0, gid: 0 }, rootfulBase: base }),
    ).toEqual({});
  });

  it('covers every container id once', () => {
    for (const uid of [0, 1, 1000, MAPPED_IDS - 1]) {
      const total = rootfulIdMap(uid, 4242, base)
        .map((m) => Number(m.split(':')[2]))
        .reduce((a, b) => a + b, 0);
      expect(total).toBe(MAPPED_IDS);
    }
  });

  it('refuses an owner inside the mapped range and an image user above it', () => {
    expect(thrown(() => rootfulIdMap(1000, base + 5, base)).message).toMatch(/lies in the range/);
    expect(thrown(() => input(70000, 0)).message).toMatch(/above the 65536 ids/);
  });
});
