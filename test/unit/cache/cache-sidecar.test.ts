import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { finalized, markedUsed, newSidecar, parseSidecar, serializeSidecar } from '../../../src/cache/cache-sidecar.js';

const T0 = new Date('2026-03-01T10:00:00Z');
const T1 = new Date('2026-03-02T10:00:00Z');
const VOL = 'mino-cache-npm-a1b2c3d4e5f6';

describe('cache state machine', () => {
  it('starts building when the volume is created', () => {
    expect(newSidecar(VOL, T0)).toEqual({
      volume_name: VOL,
      ecosystem: 'npm',
      hash: 'a1b2c3d4e5f6',
      state: 'building',
      created_at: T0.toISOString(),
      updated_at: T0.toISOString(),
      last_used: T0.toISOString(),
    });
  });

  it('becomes complete only when a command exits 0 on the volume it names', () => {
    const building = newSidecar(VOL, T0);
    expect(finalized(building, VOL, 0, T1)).toMatchObject({ state: 'complete', updated_at: T1.toISOString() });
    expect(finalized(building, VOL, 1, T1)).toBe(building);
    expect(finalized(building, VOL, null, T1)).toBe(building);
    expect(finalized(building, `${VOL}-abcdef`, 0, T1)).toBe(building);
    const complete = finalized(building, VOL, 0, T1);
    expect(finalized(complete, VOL, 0, new Date('2027-01-01T00:00:00Z'))).toBe(complete);
  });

  it('records the last use without changing the state', () => {
    expect(markedUsed(newSidecar(VOL, T0), T1)).toMatchObject({
      state: 'building',
      last_used: T1.toISOString(),
      updated_at: T0.toISOString(),
    });
  });

  it('round-trips and reads a mino 1.6 sidecar (no last_used: updated_at stands in)', () => {
    const s = newSidecar(VOL, T0);
    expect(parseSidecar(serializeSidecar(s))).toEqual(s);
    const old = parseSidecar(
      readFileSync(new URL('../../fixtures/cache/mino-1.6-sidecar.json', import.meta.url), 'utf8'),
    );
    expect(old).toMatchObject({ state: 'complete', last_used: '2026-01-03T00:00:00Z' });
  });

  it('rejects sidecars that do not agree with their volume name', () => {
    const s = newSidecar(VOL, T0);
    expect(() => parseSidecar(JSON.stringify({ ...s, hash: 'ffffffffffff' }))).toThrow(/hash/);
    expect(() => parseSidecar(JSON.stringify({ ...s, ecosystem: 'yarn' }))).toThrow(/ecosystem/);
    expect(() => parseSidecar(JSON.stringify({ ...s, state: 'miss' }))).toThrow(/state/);
    expect(() => parseSidecar(JSON.stringify({ ...s, volume_name: '../etc' }))).toThrow(/volume_name/);
    expect(() => parseSidecar('[]')).toThrow(/object/);
  });
});
