import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  classifyAddress,
  hostOwnAddresses,
  parseFibTrie,
  parseIfInet6,
  permittedAddresses,
  readHostAddresses,
  refuseHostAddressRules,
} from '../../../src/network/address-guard.js';
import { RuleError, parseRules } from '../../../src/network/rule.js';

const host = new Set(['192.0.2.2', '10.88.0.1', '2001:db8::2']);

describe('address guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.9.9.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    // Cloud metadata outside the link-local ranges, and the NAT64 forms of the host and metadata.
    ['fd00:ec2::254', 'link-local'],
    ['100.100.100.200', 'link-local'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::169.254.169.254', 'link-local'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::c000:202', 'host'],
    ['64:ff9b::8c52:7003', 'remote'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.2', 'host'],
    ['10.88.0.1', 'host'],
    ['::ffff:10.88.0.1', 'host'],
    ['2001:db8:0::2', 'host'],
    ['10.0.0.5', 'remote'],
    ['140.82.112.3', 'remote'],
    ['2606:4700::1', 'remote'],
    ['not-an-ip', 'reserved'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address, host)).toBe(cls);
  });

  it('keeps remote addresses and drops the host, loopback and link-local ones', () => {
    expect(permittedAddresses(['127.0.0.1', '10.0.0.5', '192.0.2.2'], host, false)).toEqual({
      addresses: ['10.0.0.5'],
    });
    expect(permittedAddresses(['127.0.0.1', '::1'], host, false)).toEqual({ addresses: [], refused: 'loopback' });
    expect(permittedAddresses(['169.254.169.254'], host, false).refused).toBe('link-local');
    expect(permittedAddresses(['169.254.169.254'], host, true)).toEqual({ addresses: ['169.254.169.254'] });
    expect(permittedAddresses(['10.88.0.1'], host, true).refused).toBe('host');
  });

  it('knows the loopback address of this machine', () => {
    expect(hostOwnAddresses().has('127.0.0.1')).toBe(true);
  });

  // /proc/net/fib_trie of this machine with cni-podman0 (10.88.0.1) down: Node's
  // networkInterfaces() omits that interface, the kernel's local routes keep it.
  const FIB_TRIE = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 10.88.0.0/16 2 0 2
        +-- 10.88.0.0/32 2 0 2
           |-- 10.88.0.0
              /16 link UNICAST
        |-- 10.88.0.1
           /32 host LOCAL
        |-- 10.88.255.255
           /32 link BROADCAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
     |-- 192.0.2.2
        /32 host LOCAL
Local:
  +-- 0.0.0.0/0 3 0 5
        |-- 10.88.0.1
           /32 host LOCAL
`;
  const IF_INET6 = `fe800000000000002c6492fffe7b3b60 05 40 20 80 cni-podman0
00000000000000000000000000000001 01 80 10 80       lo
fd000000000000000000000000000002 04 40 00 82     eth0
`;

  it('reads every local address from the kernel, interfaces that are down included', () => {
    expect(parseFibTrie(FIB_TRIE)).toEqual(['10.88.0.1', '127.0.0.1', '192.0.2.2']);
    expect(parseIfInet6(IF_INET6)).toEqual(['fe80::2c64:92ff:fe7b:3b60', '::1', 'fd00::2']);
    const set = readHostAddresses({
      fibTrie: () => FIB_TRIE,
      ifInet6: () => IF_INET6,
      interfaces: () => ['192.0.2.2', 'fe80::fc:ff:fe00:1'],
    });
    expect([...set].sort()).toEqual(
      [
        '10.88.0.1',
        '127.0.0.1',
        '192.0.2.2',
        '::1',
        'fd00::2',
        'fe80::2c64:92ff:fe7b:3b60',
        'fe80::fc:ff:fe00:1',
      ].sort(),
    );
    // The bridge gateway is the host even when a rule names it literally.
    expect(permittedAddresses(['10.88.0.1'], set, true).refused).toBe('host');
    expect(permittedAddresses(['fd00::2'], set, true).refused).toBe('host');
  });

  it('counts the addresses of interfaces that are down on this machine', () => {
    const fib = readFileSync('/proc/net/fib_trie', 'utf8');
    for (const a of parseFibTrie(fib)) expect(hostOwnAddresses().has(a)).toBe(true);
  });

  it('refuses allow rules naming an address of this machine up front (exit 2), reading the addresses only for IP rules', () => {
    const own = new Set(['10.88.0.1', 'fd00::2']);
    let reads = 0;
    const addresses = (): ReadonlySet<string> => {
      reads++;
      return own;
    };
    refuseHostAddressRules(
      parseRules(['github.com:443', '*.example.com:443', 'host.containers.internal:8080']),
      addresses,
    );
    expect(reads).toBe(0);
    refuseHostAddressRules(parseRules(['10.88.0.2:80', '[fd00::3]:22']), addresses);
    expect(() => refuseHostAddressRules(parseRules(['github.com:443', '10.88.0.1:8080']), addresses)).toThrow(
      RuleError,
    );
    expect(() => refuseHostAddressRules(parseRules(['[fd00::2]:22']), addresses)).toThrow(
      "Invalid network rule '[fd00::2]:22': it names an address of this machine; reach a service on the host with host.containers.internal:PORT",
    );
  });
});
