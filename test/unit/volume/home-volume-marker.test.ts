import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { homeVolumeKnown, homeVolumeMarkerPath, rememberHomeVolume } from '../../../src/volume/home-volume-marker.js';

describe('home volume markers', () => {
  const root = mkdtempSync(join(tmpdir(), 'mino-marker-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('are unknown until remembered; the marker names the project and is private', () => {
    const state = join(root, 'state', 'mino');
    expect(homeVolumeKnown(state, 'mino-home-0123456789ab')).toBe(false);
    rememberHomeVolume(state, 'mino-home-0123456789ab', '/src/app');
    expect(homeVolumeKnown(state, 'mino-home-0123456789ab')).toBe(true);
    expect(homeVolumeKnown(state, 'mino-home-ba9876543210')).toBe(false);
    const marker = homeVolumeMarkerPath(state, 'mino-home-0123456789ab');
    expect(readFileSync(marker, 'utf8')).toBe('/src/app\n');
    expect(statSync(marker).mode & 0o777).toBe(0o600);
  });
});
