import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/common/errors.js';
import { choiceTerminates, resolveNetworkChoice, type NetworkRequest } from '../../../src/network/network-choice.js';
import { formatL7Rule } from '../../../src/network/l7-rule.js';
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
  it('is contained by default: an allowlist of the agent preset (or the fallback asked for)', () => {
    expect(choose({ cli: {} })).toEqual({
      mode: 'allowlist',
      rules: [],
      l7: [],
      presets: ['agent'],
      source: 'default',
    });
    expect(choose({ cli: {}, fallback: 'bridge' })).toEqual({ mode: 'bridge', source: 'default' });
    expect(choose({ cli: { network: 'bridge' } })).toEqual({ mode: 'bridge', source: 'cli' });
    expect(choose({ cli: {}, config: { network: 'bridge' } })).toEqual({ mode: 'bridge', source: 'config' });
  });

  it('takes HTTPS rules on method and path and several presets', () => {
    const c = resolveNetworkChoice({
      cli: { allow: ['GET,HEAD api.github.com/repos/o/*,github.com:22'], preset: 'agent,github-readonly,agent' },
    });
    expect(c).toMatchObject({ mode: 'allowlist', presets: ['agent', 'github-readonly'] });
    if (c.mode !== 'allowlist') throw new Error('expected an allowlist');
    expect(c.rules.map(formatRule)).toEqual(['github.com:22']);
    expect(c.l7.map(formatL7Rule)).toEqual(['GET,HEAD api.github.com/repos/o/*']);
    expect(fails({ cli: { allow: ['GETT api.github.com/*'] } }).message).toMatch(/'GETT' is not a method/);
    expect(fails({ cli: { allow: ['GET *:443/*'] } }).message).toMatch(/every host/);
    expect(fails({ cli: { preset: 'agent,nope' } }).message).toMatch(/Unknown network preset 'nope'/);
  });

  it('takes a CLI allowlist first, presets with it, over everything configured', () => {
    expect(
      choose({
        cli: { allow: ['a.test:1,b.test:2'], preset: 'dev' },
        config: { network: 'none', allow: ['c.test:3'] },
      }),
    ).toEqual({ mode: 'allowlist', rules: ['a.test:1', 'b.test:2'], l7: [], presets: ['dev'], source: 'cli' });
    expect(choose({ cli: { preset: 'registries' } })).toEqual({
      mode: 'allowlist',
      rules: [],
      l7: [],
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
      l7: [],
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

describe('choiceTerminates', () => {
  it('is true when the allowlist has L7 rules, given or from a preset', () => {
    expect(choiceTerminates(resolveNetworkChoice({ cli: {} }))).toBe(false);
    expect(choiceTerminates(resolveNetworkChoice({ cli: { allow: ['GET a.test/x'] } }))).toBe(true);
    expect(choiceTerminates(resolveNetworkChoice({ cli: { preset: 'github-readonly' } }))).toBe(true);
    expect(choiceTerminates(resolveNetworkChoice({ cli: { network: 'bridge' } }))).toBe(false);
  });
});
