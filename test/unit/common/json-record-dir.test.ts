import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonRecordDir } from '../../../src/common/json-record-dir.js';

describe('JsonRecordDir', () => {
  const root = mkdtempSync(join(tmpdir(), 'mino-records-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes private records atomically, reads, removes, and lists them sorted with warnings for bad ones', () => {
    const dir = new JsonRecordDir(join(root, 'recs'), 'thing');
    expect(dir.read('a')).toBeUndefined();
    expect(dir.list((text) => JSON.parse(text) as unknown, 'thing').records).toEqual([]);
    dir.write('b', '{"n":2}');
    dir.locked('a', () => dir.write('a', '{"n":1}'));
    writeFileSync(join(root, 'recs', 'c.json'), '{broken');
    writeFileSync(join(root, 'recs', '.hidden.json'), '{}');
    expect(statSync(join(root, 'recs')).mode & 0o777).toBe(0o700);
    expect(statSync(dir.pathOf('a')).mode & 0o777).toBe(0o600);
    const { records, warnings } = dir.list((text) => JSON.parse(text) as { n: number }, 'thing record');
    expect(records).toEqual([{ n: 1 }, { n: 2 }]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^Skipping thing record .*c\.json: /);
    dir.remove('a');
    dir.remove('a');
    expect(dir.read('a')).toBeUndefined();
  });
});
