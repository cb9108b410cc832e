import { describe, expect, it } from 'vitest';
import { usernsFor } from '../../../src/launch/userns.js';
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
