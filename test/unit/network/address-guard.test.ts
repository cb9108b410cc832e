import { describe, expect, it } from 'vitest';
import { classifyAddress, hostOwnAddresses, permittedAddresses } from '../../../src/network/address-guard.js';

const host = new Set(['192.0.2.2', '10.88.0.1', '2001:db8::2']);

describe('address guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['127.9.9.9', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'], ['::', 'unspecified'],
    ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'],
    ['224.0.0.1', 'multicast'], ['ff02::1', 'multicast'], ['255.255.255.255', 'reserved'],
    ['192.0.2.2', 'host'], ['10.88.0.1', 'host'], ['::ffff:10.88.0.1', 'host'], ['2001:db8:0::2', 'host'],
    ['10.0.0.5', 'remote'], ['140.82.112.3', 'remote'], ['2606:4700::1', 'remote'], ['not-an-ip', 'reserved'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address, host)).toBe(cls);
  });

  it('keeps remote addresses and drops the host, loopback and link-local ones', () => {
    expect(permittedAddresses(['127.0.0.1', '10.0.0.5', '192.0.2.2'], host, false)).toEqual({ addresses: ['10.0.0.5'] });
    expect(permittedAddresses(['127.0.0.1', '::1'], host, false)).toEqual({ addresses: [], refused: 'loopback' });
    expect(permittedAddresses(['169.254.169.254'], host, false).refused).toBe('link-local');
    expect(permittedAddresses(['169.254.169.254'], host, true)).toEqual({ addresses: ['169.254.169.254'] });
    expect(permittedAddresses(['10.88.0.1'], host, true).refused).toBe('host');
  });

  it('knows the loopback address of this machine', () => {
    expect(hostOwnAddresses().has('127.0.0.1')).toBe(true);
  });
});
