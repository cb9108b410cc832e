import { describe, expect, it } from 'vitest';
import { presetRules } from '../../../src/network/presets.js';
import {
  discoverRegistryHosts,
  iniValues,
  ruleForUrl,
  type RegistrySources,
} from '../../../src/network/registry-hosts.js';
import { formatRule, parseRules } from '../../../src/network/rule.js';

/** A host with the given files, directories and program answers (all names are test names). */
function host(
  files: Record<string, string>,
  programs: Record<string, string | undefined>,
  env: NodeJS.ProcessEnv = {},
  dirs: Record<string, string[]> = {},
): RegistrySources {
  return {
    env,
    homeDir: '/home/u',
    run: async (argv) => {
      const out = programs[argv[0]!];
      return out === undefined ? { exitCode: 127, stdout: '' } : { exitCode: 0, stdout: out };
    },
    readFile: (p) => files[p],
    listDir: (p) => dirs[p] ?? [],
  };
}

describe('registry hosts from the user configuration', () => {
  it('turns registry URLs into rules', () => {
    expect(ruleForUrl('https://npm.mirror.test/')).toEqual({ kind: 'name', host: 'npm.mirror.test', port: 443 });
    expect(ruleForUrl('http://pypi.mirror.test:8081/simple/')).toEqual({
      kind: 'name',
      host: 'pypi.mirror.test',
      port: 8081,
    });
    expect(ruleForUrl('sparse+https://crates.mirror.test/index/')).toEqual({
      kind: 'name',
      host: 'crates.mirror.test',
      port: 443,
    });
    expect(ruleForUrl('https://[2001:db8::7]/')).toEqual({ kind: 'ipv6', host: '2001:db8::7', port: 443 });
    expect(ruleForUrl('file:///opt/wheels')).toBeUndefined();
    expect(ruleForUrl('http://localhost:4873/')).toBeUndefined();
    expect(ruleForUrl('not a url')).toBeUndefined();
  });

  it('reads pip.conf values with continuation lines', () => {
    const text =
      '[global]\nindex-url = https://a.test/simple\nextra-index-url =\n  https://b.test/simple\n  https://c.test/simple\n[other]\nindex-url = https://x.test/\n';
    expect(iniValues(text, ['global'], ['index-url'])).toEqual(['https://a.test/simple']);
    expect(iniValues(text, ['global'], ['extra-index-url'])).toEqual([
      'https://b.test/simple',
      'https://c.test/simple',
    ]);
  });

  it('uses npm, pip and cargo as the user configured them', async () => {
    const src = host(
      {
        '/home/u/.config/pip/pip.conf':
          '[global]\nindex-url = https://pypi.mirror.test/simple\nextra-index-url = https://extra.mirror.test/simple\n',
        '/home/u/.cargo/config.toml':
          '[source.crates-io]\nreplace-with = "corp"\n[source.corp]\nregistry = "sparse+https://crates.mirror.test/api/v1/crates/"\n[registries.inner]\nindex = "https://inner.crates.test/git/index"\n',
      },
      { npm: 'https://npm.mirror.test/\n' },
    );
    const found = await discoverRegistryHosts(src);
    expect(found.byTool).toEqual({
      npm: ['npm.mirror.test:443'],
      pip: ['pypi.mirror.test:443', 'extra.mirror.test:443'],
      cargo: ['crates.mirror.test:443', 'inner.crates.test:443'],
    });
    expect(found.notes).toEqual([]);
  });

  it("asks the host's own pip for its default index, and reads cargo's index cache when crates-io is not replaced", async () => {
    const src = host(
      {
        '/home/u/.cargo/registry/index/index.cargo.test-0123456789abcdef/config.json':
          '{"dl":"https://dl.cargo.test/crates/{crate}","api":"https://api.cargo.test"}',
      },
      { npm: 'https://npm.default.test/', python3: 'https://pip.default.test/simple\nhttps://files.default.test/\n' },
      { PIP_EXTRA_INDEX_URL: 'https://env.extra.test/simple' },
      {
        '/home/u/.cargo/registry/index': ['index.cargo.test-0123456789abcdef', 'junk'],
      },
    );
    const found = await discoverRegistryHosts(src);
    expect(found.byTool.pip).toEqual(['env.extra.test:443', 'pip.default.test:443', 'files.default.test:443']);
    expect(found.byTool.cargo).toEqual(['index.cargo.test:443', 'dl.cargo.test:443', 'api.cargo.test:443']);
  });

  it('says what it could not find instead of guessing', async () => {
    const found = await discoverRegistryHosts(host({}, {}));
    expect(found.rules).toEqual([]);
    expect(found.notes).toEqual([
      'npm: not installed on this host, so no npm registry is known',
      'pip: no index-url configured and no pip on this host to ask for its default index',
      'cargo: no source replacement in /home/u/.cargo/config.toml and no registry used on this host yet, so no cargo registry is known',
    ]);
  });

  it('builds the presets: registries only, or dev with GitHub and the AI APIs', () => {
    const regs = parseRules(['npm.mirror.test:443']);
    expect(presetRules('registries', regs).map(formatRule)).toEqual(['npm.mirror.test:443']);
    expect(presetRules('dev', regs).map(formatRule)).toEqual([
      'github.com:443',
      'github.com:22',
      'api.github.com:443',
      'api.anthropic.com:443',
      'api.openai.com:443',
      'npm.mirror.test:443',
    ]);
  });
});
