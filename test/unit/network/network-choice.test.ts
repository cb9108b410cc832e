import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/common/errors.js';
import { resolveNetworkChoice, type NetworkRequest } from '../../../src/network/network-choice.js';
import { formatRule } from '../../../src/network/rule.js';

const choose = (req: NetworkRequest) => {
  const c = resolveNetworkChoice(req);
  return c.mode === 'allowlist' ? { ...c, rules: c.rules.map(formatRule) } : c;
};
const fails = (req: NetworkRequest): UsageError => {
  try {
    resolveNetworkChoice(req);
  } catch (err) {
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
};

describe('network choice (mino 1.6 precedence)', () => {
  it('defaults to bridge', () => {
    expect(choose({ cli: {} })).toEqual({ mode: 'bridge', source: 'default' });
  });

  it('takes a CLI allowlist first, presets with it, over everything configured', () => {
    expect(
      choose({
        cli: { allow: ['a.test:1,b.test:2'], preset: 'dev' },
        config: { network: 'none', allow: ['c.test:3'] },
      }),
    ).toEqual({ mode: 'allowlist', rules: ['a.test:1', 'b.test:2'], presets: ['dev'], source: 'cli' });
    expect(choose({ cli: { preset: 'registries' } })).toEqual({
      mode: 'allowlist',
      rules: [],
      presets: ['registries'],
      source: 'cli',
    });
    expect(choose({ cli: { network: 'bridge', allow: ['a.test:1'] } }).mode).toBe('allowlist');
  });

  it('takes CLI --network over a configured allowlist', () => {
    expect(choose({ cli: { network: 'none' }, config: { allow: ['c.test:3'] } })).toEqual({
      mode: 'none',
      source: 'cli',
    });
    expect(choose({ cli: { network: 'learn' }, config: { allow: ['c.test:3'] } })).toEqual({
      mode: 'learn',
      source: 'cli',
    });
  });

  it('takes a configured allowlist over the configured mode, and learn+allowlist in config means the allowlist', () => {
    expect(choose({ cli: {}, config: { network: 'bridge', allow: ['c.test:3'], preset: 'registries' } })).toEqual({
      mode: 'allowlist',
      rules: ['c.test:3'],
      presets: ['registries'],
      source: 'config',
    });
    expect(choose({ cli: {}, config: { network: 'learn', allow: ['c.test:3'] } }).mode).toBe('allowlist');
    expect(choose({ cli: {}, config: { network: 'host' } })).toEqual({ mode: 'host', source: 'config' });
  });

  it.each([
    [{ cli: { network: 'none', allow: ['a.test:1'] } }, '--network none cannot be combined with --network-allow'],
    [{ cli: { network: 'host', preset: 'dev' } }, '--network host cannot be combined with --network-preset'],
    [{ cli: { network: 'learn', allow: ['a.test:1'] } }, '--network learn cannot be combined with --network-allow'],
    [
      { cli: {}, config: { network: 'none', allow: ['a.test:1'] } },
      'The configuration sets container.network = "none" together with network_allow',
    ],
    [{ cli: {}, config: { network: 'host', preset: 'dev' } }, 'together with network_preset'],
    [{ cli: { network: 'pasta' } }, "Invalid network mode 'pasta'"],
    [{ cli: {}, config: { network: 'slirp' } }, "Invalid network mode 'slirp' in the configuration"],
    [{ cli: { preset: 'all' } }, "Unknown network preset 'all'"],
    [{ cli: { allow: ['nope'] } }, "Invalid network rule 'nope'"],
  ] as Array<[NetworkRequest, string]>)('refuses %j (exit 2)', (req, message) => {
    const err = fails(req);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(message);
  });
});
