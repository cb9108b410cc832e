import { describe, expect, it } from 'vitest';
import { proxyPlaceholder, splitProxyOnly } from '../../../src/credentials/proxy-credential.js';

describe('proxy-only credentials (the seam for the egress proxy)', () => {
  it('keeps a marked value out of the sandbox and gives the proxy the rule and the value', () => {
    const split = splitProxyOnly(
      new Map([
        ['GH_TOKEN', 'ghp_real'],
        ['AWS_SESSION_TOKEN', 'aws'],
      ]),
      [
        { variable: 'GH_TOKEN', hosts: ['api.github.com'], header: 'Authorization', prefix: 'Bearer ' },
        { variable: 'ABSENT', hosts: ['x'], header: 'X', prefix: '' },
      ],
      (v) => `ph-${v}`,
    );
    expect([...split.sandbox]).toEqual([['AWS_SESSION_TOKEN', 'aws']]);
    expect(split.rules).toEqual([
      {
        variable: 'GH_TOKEN',
        hosts: ['api.github.com'],
        header: 'Authorization',
        prefix: 'Bearer ',
        placeholder: 'ph-GH_TOKEN',
      },
    ]);
    expect([...split.values]).toEqual([['ph-GH_TOKEN', 'ghp_real']]);
  });

  it('makes random, recognisable placeholders', () => {
    const a = proxyPlaceholder('GH_TOKEN');
    expect(a).toMatch(/^mino-proxy-managed-gh_token-[0-9a-f]{16}$/);
    expect(proxyPlaceholder('GH_TOKEN')).not.toBe(a);
  });
});
