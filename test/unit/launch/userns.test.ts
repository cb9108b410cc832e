import { describe, expect, it } from 'vitest';
import { identityFlags, MAPPED_IDS, rootfulIdMap, usernsFor } from '../../../src/launch/userns.js';
import { thrown } from './plan-input.js';

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
  const input = (uid: number | undefined, owner: number, gid?: number) => identityFlags({
    rootless: false, image: { uid, gid }, projectOwner: { uid: owner, gid: owner }, rootfulBase: base,
  });

  it('maps the image user onto the project owner and everything else into the unprivileged range', () => {
    expect(input(1000, 0)).toEqual({
      uidMap: [`0:${base}:1000`, '1000:0:1', `1001:${base + 1001}:${MAPPED_IDS - 1001}`],
      gidMap: [`0:${base}:1000`, '1000:0:1', `1001:${base + 1001}:${MAPPED_IDS - 1001}`],
    });
    expect(input(1000, 1500).uidMap).toContain('1000:1500:1');
  });

  it('maps a root image onto a non-root project owner, container root never onto host root', () => {
    expect(input(0, 1500).uidMap).toEqual(['0:1500:1', `1:${base + 1}:${MAPPED_IDS - 1}`]);
    const rootOnRoot = input(undefined, 0);
    expect(rootOnRoot.uidMap).toEqual([`0:${base}:${MAPPED_IDS}`]);
    expect(rootOnRoot.warning).toMatch(/cannot write the project/);
  });

  it('covers every container id once', () => {
    for (const uid of [0, 1, 1000, MAPPED_IDS - 1]) {
      const total = rootfulIdMap(uid, 4242, base).map((m) => Number(m.split(':')[2])).reduce((a, b) => a + b, 0);
      expect(total).toBe(MAPPED_IDS);
    }
  });

  it('refuses an owner inside the mapped range and an image user above it', () => {
    expect(thrown(() => rootfulIdMap(1000, base + 5, base)).message).toMatch(/lies in the range/);
    expect(thrown(() => input(70000, 0)).message).toMatch(/above the 65536 ids/);
  });
});
