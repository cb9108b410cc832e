import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseAptSourcesFile,
  parseDeb822Sources,
  parseSourcesList,
  pickDebianMirror,
} from '../../../src/image/apt-sources.js';
import { REPO_ROOT } from '../../helpers/test-env.js';

function fixture(name: string): { name: string; text: string } {
  return { name, text: readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'apt-sources', name), 'utf8') };
}

describe('apt sources', () => {
  it('parses deb822 stanzas with several suites and picks the release mirror, not security', () => {
    const { name, text } = fixture('debian12.sources');
    const sources = parseDeb822Sources(text, name);
    expect(sources).toEqual([
      {
        uri: 'http://mirror.example.org/debian',
        suites: ['bookworm', 'bookworm-updates'],
        components: ['main'],
        file: name,
      },
      {
        uri: 'http://mirror.example.org/debian-security',
        suites: ['bookworm-security'],
        components: ['main'],
        file: name,
      },
    ]);
    expect(pickDebianMirror(sources)).toBe('http://mirror.example.org/debian');
  });

  it('deb822: skips deb-src-only and disabled stanzas, reads multi-line URIs, trims the trailing slash', () => {
    const { name, text } = fixture('security-first.sources');
    const sources = parseDeb822Sources(text, name);
    expect(sources.map((s) => s.uri)).toEqual([
      'http://security.example.org/debian-security',
      'http://corp-mirror.example.com/debian/',
      'http://second.example.com/debian',
    ]);
    expect(pickDebianMirror(sources)).toBe('http://corp-mirror.example.com/debian');
  });

  it('parses one-line sources with options and comments, ignoring deb-src', () => {
    const { name, text } = fixture('one-line.list');
    const sources = parseSourcesList(text, name);
    expect(sources).toEqual([
      { uri: 'http://one-line.example.net/debian/', suites: ['bookworm'], components: ['main', 'contrib'], file: name },
      {
        uri: 'http://one-line.example.net/debian-security',
        suites: ['bookworm-security'],
        components: ['main'],
        file: name,
      },
    ]);
    expect(pickDebianMirror(sources)).toBe('http://one-line.example.net/debian');
  });

  it('finds no Debian mirror on an Ubuntu host or with no sources', () => {
    const { name, text } = fixture('ubuntu.list');
    expect(pickDebianMirror(parseSourcesList(text, name))).toBeUndefined();
    expect(pickDebianMirror([])).toBeUndefined();
  });

  it('dispatches on the file name: .list, .sources, anything else ignored', () => {
    const list = fixture('one-line.list').text;
    expect(parseAptSourcesFile('/etc/apt/sources.list', list)).toHaveLength(2);
    expect(parseAptSourcesFile('/etc/apt/sources.list.d/x.sources', fixture('debian12.sources').text)).toHaveLength(2);
    expect(parseAptSourcesFile('/etc/apt/sources.list.d/x.list.disabled', list)).toEqual([]);
  });

  it('ignores non-http mirrors', () => {
    expect(
      pickDebianMirror([{ uri: 'file:/srv/mirror', suites: ['bookworm'], components: ['main'], file: 'f' }]),
    ).toBeUndefined();
    expect(
      pickDebianMirror([{ uri: 'cdrom:[Debian]/', suites: ['bookworm'], components: ['main'], file: 'f' }]),
    ).toBeUndefined();
  });
});
