import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLddPaths } from '../../../../src/app/doctor/probe.js';

function fixture(name: string): string {
  return readFileSync(new URL(`../../../fixtures/ldd/${name}`, import.meta.url), 'utf8');
}

describe('parseLddPaths', () => {
  it('lists the libraries of a glibc binary, without the vdso', () => {
    expect(parseLddPaths(fixture('glibc-true.txt'))).toEqual([
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
    expect(parseLddPaths(fixture('glibc-ls.txt'))).toEqual([
      '/lib/x86_64-linux-gnu/libselinux.so.1',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib/x86_64-linux-gnu/libpcre2-8.so.0',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('lists the musl loader once even though ldd names it twice', () => {
    expect(parseLddPaths(fixture('musl-busybox.txt'))).toEqual(['/lib/ld-musl-x86_64.so.1']);
  });

  it('skips libraries ldd could not find', () => {
    expect(parseLddPaths('\tlibfoo.so.1 => not found\n\tlibc.so.6 => /lib/libc.so.6 (0x1)\n')).toEqual(['/lib/libc.so.6']);
  });

  it('finds nothing in the output for a static binary', () => {
    expect(parseLddPaths('\tnot a dynamic executable\n')).toEqual([]);
    expect(parseLddPaths('')).toEqual([]);
  });
});
