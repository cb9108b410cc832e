import { describe, expect, it } from 'vitest';
import {
  DEVICE_LINKS,
  DEVICE_NODES,
  DEVICE_SUBDIRS,
  deviceDirProblems,
  deviceNumber,
  onNodevMount,
  type StatOf,
} from '../../../src/host/device-dir.js';

describe('deviceNumber', () => {
  it('encodes major:minor as stat reports it', () => {
    expect(deviceNumber(1, 3)).toBe(259);
    expect(deviceNumber(5, 2)).toBe(1282);
    expect(deviceNumber(136, 300)).toBe((136 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12));
  });
});

describe('onNodevMount', () => {
  const info = [
    '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '23 22 0:21 / /run rw,nosuid,nodev shared:2 - tmpfs tmpfs rw',
    '24 22 0:22 / /var/lib/my\\040disk rw,nodev shared:3 - ext4 /dev/vdb rw',
    '25 22 0:23 / /var rw,relatime shared:4 - ext4 /dev/vdc rw',
  ].join('\n');

  it('judges by the longest mount point that holds the path', () => {
    expect(onNodevMount('/var/lib/mino', info)).toBe(false);
    expect(onNodevMount('/run/mino', info)).toBe(true);
    expect(onNodevMount('/run', info)).toBe(true);
    expect(onNodevMount('/running', info)).toBe(false);
    expect(onNodevMount('/var/lib/my disk/mino', info)).toBe(true);
    expect(onNodevMount('/root', info)).toBe(false);
  });
});

describe('deviceDirProblems', () => {
  type Entry = { kind: 'dir' | 'chr' | 'lnk'; uid?: number; mode?: number; rdev?: number; target?: string };
  /** A well-made directory at /d, with `changes` applied (undefined removes an entry). */
  function world(changes: Record<string, Entry | undefined> = {}): { stat: StatOf; readLink: (p: string) => string } {
    const entries = new Map<string, Entry>([['/d', { kind: 'dir', mode: 0o755 }]]);
    for (const n of DEVICE_NODES)
      entries.set(`/d/${n.name}`, { kind: 'chr', mode: 0o666, rdev: deviceNumber(n.major, n.minor) });
    for (const [name, target] of Object.entries(DEVICE_LINKS))
      entries.set(`/d/${name}`, { kind: 'lnk', mode: 0o777, target });
    for (const name of DEVICE_SUBDIRS) entries.set(`/d/${name}`, { kind: 'dir', mode: 0o755 });
    for (const [path, e] of Object.entries(changes)) {
      if (e === undefined) entries.delete(path);
      else entries.set(path, e);
    }
    const stat: StatOf = (path) => {
      const e = entries.get(path);
      if (e === undefined) return undefined;
      return {
        uid: e.uid ?? 0,
        mode: e.mode ?? 0,
        rdev: e.rdev ?? 0,
        isCharacterDevice: () => e.kind === 'chr',
        isDirectory: () => e.kind === 'dir',
        isSymbolicLink: () => e.kind === 'lnk',
      };
    };
    return { stat, readLink: (p) => entries.get(p)?.target ?? '' };
  }
  const problems = (w: ReturnType<typeof world>) => deviceDirProblems('/d', w.stat, w.readLink);

  it('accepts the directory as mino makes it', () => {
    expect(problems(world())).toEqual([]);
  });

  it('finds a missing or foreign directory', () => {
    expect(problems(world({ '/d': undefined }))).toEqual(['/d is missing']);
    expect(problems(world({ '/d': { kind: 'dir', uid: 1000, mode: 0o755 } }))).toEqual([
      '/d is not a root-owned 0755 directory',
    ]);
    expect(problems(world({ '/d': { kind: 'dir', mode: 0o777 } }))).toEqual(['/d is not a root-owned 0755 directory']);
  });

  it('finds a node that is missing, another device, a file, or writable by its mode only', () => {
    expect(problems(world({ '/d/null': undefined }))).toEqual(['null is not the 1:3 device node']);
    expect(problems(world({ '/d/zero': { kind: 'chr', mode: 0o666, rdev: deviceNumber(8, 0) } }))).toEqual([
      'zero is not the 1:5 device node',
    ]);
    expect(problems(world({ '/d/console': { kind: 'dir', mode: 0o755 } }))).toEqual([
      'console is not the 1:3 device node',
    ]);
    expect(problems(world({ '/d/tty': { kind: 'chr', mode: 0o4666, rdev: deviceNumber(5, 0) } }))).toEqual([
      'tty is not the 5:0 device node',
    ]);
    expect(problems(world({ '/d/full': { kind: 'chr', uid: 5, mode: 0o666, rdev: deviceNumber(1, 7) } }))).toEqual([
      'full is not the 1:7 device node',
    ]);
  });

  it('finds a wrong link or a writable mount point', () => {
    expect(problems(world({ '/d/stdin': { kind: 'lnk', target: '/etc/shadow' } }))).toEqual([
      'stdin is not a link to /proc/self/fd/0',
    ]);
    expect(problems(world({ '/d/shm': { kind: 'dir', mode: 0o777 } }))).toEqual(['shm is not a root-owned directory']);
  });
});
