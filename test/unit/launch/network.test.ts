import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/common/errors.js';
import { networkSpec, resolveNetwork } from '../../../src/launch/network.js';
import { thrown } from './plan-input.js';

describe('resolveNetwork', () => {
  it('defaults to bridge', () => {
    expect(resolveNetwork(undefined)).toEqual({ mode: 'bridge' });
  });

  it.each(['bridge', 'host', 'none'] as const)('accepts %s', (mode) => {
    expect(resolveNetwork(mode)).toEqual({ mode });
    expect(networkSpec({ mode })).toEqual({ network: mode });
  });

  it.each(['Bridge', 'slirp4netns', 'container:x', '', 'allowlist'])('rejects %j with a hint listing the modes', (value) => {
    const err = thrown(() => resolveNetwork(value));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(`Invalid network mode '${value}'`);
    expect(err.hint).toContain('Use --network bridge, host, none');
  });
});
