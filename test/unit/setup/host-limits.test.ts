import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLimits, ulimitCandidates } from '../../../src/setup/host-limits.js';

/** /proc/self/limits of a Debian 12 VM (nofile 20000, nproc 96364). */
const DEBIAN = readFileSync(new URL('../../fixtures/proc/limits-debian12.txt', import.meta.url), 'utf8');

describe('parseLimits', () => {
  it('reads the hard open-files and process limits', () => {
    expect(parseLimits(DEBIAN)).toEqual({ nofile: 20000, nproc: 96364 });
  });

  it('reads the hard limit, not the soft one', () => {
    const text = DEBIAN.replace(
      /^Max open files .*$/m,
      'Max open files            1024                 524288               files     ',
    ).replace(/^Max processes .*$/m, 'Max processes             4096                 62987                processes ');
    expect(parseLimits(text)).toEqual({ nofile: 524288, nproc: 62987 });
  });

  it('reports an unlimited hard limit as undefined', () => {
    const text = DEBIAN.replace(
      /^Max processes .*$/m,
      'Max processes             unlimited            unlimited            processes ',
    );
    expect(parseLimits(text)).toEqual({ nofile: 20000, nproc: undefined });
  });

  it('reports missing lines as undefined', () => {
    expect(parseLimits('')).toEqual({ nofile: undefined, nproc: undefined });
  });
});

describe('ulimitCandidates', () => {
  it('tries the host hard limit first, then the smaller fallbacks below it', () => {
    expect(ulimitCandidates({ nofile: 20000, nproc: 96364 }, 'nofile')).toEqual([20000, 16384, 4096]);
    expect(ulimitCandidates({ nofile: 20000, nproc: 96364 }, 'nproc')).toEqual([96364, 65536, 32768, 16384, 4096]);
  });

  it("never asks for more than podman's own defaults", () => {
    expect(ulimitCandidates({ nofile: 4194304, nproc: 99999999 }, 'nofile')).toEqual([
      1048576, 65536, 32768, 16384, 4096,
    ]);
    expect(ulimitCandidates({ nofile: 4194304, nproc: 99999999 }, 'nproc')).toEqual([
      4194304, 65536, 32768, 16384, 4096,
    ]);
  });

  it("starts from podman's default when the host limit is unlimited", () => {
    expect(ulimitCandidates({ nofile: undefined, nproc: undefined }, 'nofile')).toEqual([
      1048576, 65536, 32768, 16384, 4096,
    ]);
    expect(ulimitCandidates({ nofile: undefined, nproc: undefined }, 'nproc')).toEqual([
      4194304, 65536, 32768, 16384, 4096,
    ]);
  });

  it('lists a hard limit equal to a fallback once', () => {
    expect(ulimitCandidates({ nofile: 65536, nproc: 4096 }, 'nofile')).toEqual([65536, 32768, 16384, 4096]);
    expect(ulimitCandidates({ nofile: 65536, nproc: 4096 }, 'nproc')).toEqual([4096]);
  });

  it('offers only the hard limit when it is below every fallback', () => {
    expect(ulimitCandidates({ nofile: 1024, nproc: 512 }, 'nofile')).toEqual([1024]);
  });
});
