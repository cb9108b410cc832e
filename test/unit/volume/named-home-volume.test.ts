import { describe, expect, it } from 'vitest';
import { HOME_TARGET, homeVolumeLabels, homeVolumeName, wantsHomeVolume } from '../../../src/volume/home-volume.js';
import { namedVolumeLabels, namedVolumeName, slugOfVolumeName } from '../../../src/volume/named-volume.js';

const T0 = new Date('2026-01-02T03:04:05.000Z');

describe('named volume names and labels', () => {
  it('is mino-vol-<slug> and back', () => {
    expect(namedVolumeName('data')).toBe('mino-vol-data');
    expect(slugOfVolumeName('mino-vol-data')).toBe('data');
    expect(slugOfVolumeName('mino-home-abc')).toBeUndefined();
  });

  it('validates the slug', () => {
    expect(() => namedVolumeName('-x')).toThrow('Invalid volume name');
  });

  it('labels say mino, slug and creation time', () => {
    expect(namedVolumeLabels('data', T0, { 'io.mino.test': '1' })).toEqual({
      'io.mino.volume': 'true',
      'io.mino.volume.slug': 'data',
      'io.mino.volume.created_at': T0.toISOString(),
      'io.mino.test': '1',
    });
  });
});

describe('home volumes', () => {
  it('is named after the first 12 hex of sha256(project path), as mino 1.6', () => {
    expect(homeVolumeName('/home/alice/src/webapp')).toBe('mino-home-1b346e1cbf27');
    expect(homeVolumeName('/home/alice/src/other')).not.toBe(homeVolumeName('/home/alice/src/webapp'));
  });

  it('labels hold the project and the creation time', () => {
    expect(homeVolumeLabels('/p', T0)).toEqual({
      'io.mino.home': 'true',
      'io.mino.home.project': '/p',
      'io.mino.home.created_at': T0.toISOString(),
    });
  });

  it('is skipped with --no-home, for other images, and when something is mounted at /home/developer', () => {
    const base = { image: 'localhost/mino-base:latest', noHome: false, mountTargets: ['/app'] };
    expect(wantsHomeVolume(base)).toBe(true);
    expect(wantsHomeVolume({ ...base, noHome: true })).toBe(false);
    expect(wantsHomeVolume({ ...base, image: 'debian:12' })).toBe(false);
    expect(wantsHomeVolume({ ...base, mountTargets: ['/app', HOME_TARGET] })).toBe(false);
    expect(wantsHomeVolume({ ...base, mountTargets: ['/app', '/home/developer/.cache'] })).toBe(true);
  });
});
