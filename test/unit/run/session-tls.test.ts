import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/common/errors.js';
import { resolveConfig } from '../../../src/config/effective-config.js';
import { runConfigOf } from '../../../src/config/run-config.js';
import { sensitiveSettings } from '../../../src/config/sensitive-keys.js';
import { proxyMarks, splitProxyOnly } from '../../../src/credentials/proxy-credential.js';
import { createSessionCa } from '../../../src/network/proxy/tls-ca.js';
import { readUpstreamCa, sessionTls } from '../../../src/run/session-tls.js';
import { thrown } from '../../helpers/thrown.js';

function runConfig(global: Record<string, unknown>) {
  const { config, sources, ignored } = resolveConfig(global, undefined);
  return runConfigOf({
    config,
    sources,
    ignored,
    globalPath: '/g',
    trust: { localStatus: 'trusted', layersStatus: 'absent', sensitive: [] },
  } as never);
}

const SECRET = 'sk-this-is-the-real-value';

describe('[credentials.NAME] in the configuration', () => {
  it('reads a credential of the user with its defaults (Authorization: Bearer)', () => {
    const rc = runConfig({ credentials: { mine: { variable: 'MY_TOKEN', hosts: ['api.example.com'] } } });
    expect(rc.customCredentials).toEqual([
      { name: 'mine', variable: 'MY_TOKEN', hosts: ['api.example.com'], header: 'authorization', prefix: 'Bearer ' },
    ]);
    // The built-in tables are not credentials of the user's.
    expect(runConfig({}).customCredentials).toBeUndefined();
  });

  it.each([
    [{ variable: 'MY_TOKEN', hosts: [] }, 'at least one host'],
    [{ variable: 'MY_TOKEN' }, 'hosts'],
    [{ variable: 'MY_TOKEN', hosts: ['*'] }, 'not a host pattern'],
    [{ variable: 'MY_TOKEN', hosts: ['*.com'] }, 'matches too much'],
    [{ variable: 'MY_TOKEN', hosts: ['203.0.113.1'] }, 'named hosts only'],
    [{ variable: '1BAD', hosts: ['a.example.com'] }, 'variable name'],
    [{ variable: 'MY_TOKEN', hosts: ['a.example.com'], value: SECRET }, 'value'],
  ])('refuses %j (usage error, exit 2)', (table, problem) => {
    const err = thrown(() => runConfig({ credentials: { mine: table } }));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toContain('[credentials.mine]');
    expect((err as UsageError).message).toContain(problem);
    expect(JSON.stringify(err)).not.toContain(SECRET);
    expect((err as UsageError).message).not.toContain(SECRET);
  });

  it('refuses two tables for one variable (one placeholder each)', () => {
    const err = thrown(() =>
      runConfig({
        credentials: {
          a: { variable: 'MY_TOKEN', hosts: ['a.example.com'] },
          b: { variable: 'MY_TOKEN', hosts: ['b.example.com'] },
        },
      }),
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/\[credentials\.a\] and \[credentials\.b\] both set MY_TOKEN/);
  });

  it('is a sensitive setting in a project file (it needs the user trust)', () => {
    const found = sensitiveSettings(
      { credentials: { x: { variable: 'ANTHROPIC_API_KEY', hosts: ['evil.example'] } } },
      {},
    );
    expect(found.map((s) => s.path)).toContain('credentials.x');
  });
});

describe('proxy marks', () => {
  it('keeps the known credentials outside, bound to their hosts; a table of the user replaces a built-in one', () => {
    const marks = proxyMarks([]);
    const byVar = (v: string) => marks.filter((m) => m.variable === v).flatMap((m) => m.hosts);
    expect(byVar('ANTHROPIC_API_KEY')).toEqual(['api.anthropic.com']);
    expect(byVar('CLAUDE_CODE_OAUTH_TOKEN')).toEqual(['api.anthropic.com']);
    expect(byVar('OPENAI_API_KEY')).toEqual(['api.openai.com']);
    expect(byVar('GH_TOKEN')).toEqual(['api.github.com', 'github.com']);
    expect(byVar('GITHUB_TOKEN')).toEqual(['api.github.com', 'github.com']);
    const own = proxyMarks([
      { variable: 'ANTHROPIC_API_KEY', hosts: ['gateway.example.com'], header: 'X-Key', prefix: '' },
    ]);
    expect(own.filter((m) => m.variable === 'ANTHROPIC_API_KEY')).toEqual([
      { variable: 'ANTHROPIC_API_KEY', hosts: ['gateway.example.com'], header: 'x-key', prefix: '', add: true },
    ]);
  });

  it('gives one placeholder per variable, whatever the number of its marks', () => {
    const split = splitProxyOnly(new Map([['GH_TOKEN', SECRET]]), proxyMarks([]));
    expect(split.sandbox.size).toBe(0);
    expect(new Set(split.rules.map((r) => r.placeholder)).size).toBe(1);
    expect(split.rules).toHaveLength(2);
    expect([...split.values.values()]).toEqual([SECRET]);
  });
});

describe('session TLS', () => {
  it('makes a CA whose certificate joins the host trust in the sandbox bundle, and the proxy secrets', async () => {
    const split = splitProxyOnly(new Map([['ANTHROPIC_API_KEY', SECRET]]), proxyMarks([]));
    const tls = await sessionTls('s1', split.rules, split.values, [], {});
    expect(tls.secrets.credentials).toEqual([
      expect.objectContaining({ variable: 'ANTHROPIC_API_KEY', value: SECRET, hosts: ['api.anthropic.com'] }),
    ]);
    const ca = new X509Certificate(tls.secrets.ca!.certPem);
    expect(ca.ca).toBe(true);
    expect(tls.bundleText.endsWith(tls.secrets.ca!.certPem)).toBe(true);
    expect(tls.bundleText).not.toContain('PRIVATE KEY');
    expect(tls.bundleText).not.toContain(SECRET);
    expect(tls.secrets.upstreamCa[0]).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('reads network.upstream_ca, and refuses a file that is not a certificate (exit 2)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mino-upstream-'));
    const good = join(dir, 'ca.pem');
    writeFileSync(good, createSessionCa('corp').certPem);
    const bad = join(dir, 'key.pem');
    writeFileSync(bad, createSessionCa('x').keyPem);
    expect(readUpstreamCa([good])[0]).toContain('BEGIN CERTIFICATE');
    const err = thrown(() => readUpstreamCa([bad]));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toContain('is not a PEM certificate');
    expect((err as UsageError).message).not.toContain('PRIVATE');
    expect(thrown(() => readUpstreamCa([join(dir, 'missing.pem')]))).toBeInstanceOf(UsageError);
  });
});
