import { describe, expect, it } from 'vitest';
import { destinationOf, type Destination } from '../../../src/network/destination.js';
import { judgeRequest, l7Enforcer, type RequestSink } from '../../../src/network/l7-gate.js';
import { learnedL7Rules } from '../../../src/network/l7-learn.js';
import { parseAnyRules } from '../../../src/network/l7-rule.js';
import { learnedRules, newNetworkRecord } from '../../../src/network/network-record.js';
import { decide, policyOf, policyText, withRules, type EgressPolicy } from '../../../src/network/policy.js';
import { presetL7Rules, presetRules } from '../../../src/network/presets.js';
import { parseRules } from '../../../src/network/rule.js';

const dest = (host: string, port = 443): Destination => destinationOf(host, port)!;
const policy = (allow: string[], deny: string[] = []): EgressPolicy => policyOf({ mode: 'allowlist', allow, deny });
const judge = (p: EgressPolicy, host: string, method: string, path: string) =>
  judgeRequest(p, dest(host), method, path);

describe('L7 rules in the policy', () => {
  it('an L7 allow rule allows its host and port (the connection), an L7 deny rule alone does not', () => {
    const p = policy(['GET api.github.com/repos/*'], ['POST github.com/*']);
    expect(decide(p, dest('api.github.com'))).toMatchObject({ allowed: true, rule: 'GET api.github.com/repos/*' });
    expect(decide(p, dest('api.github.com', 80)).allowed).toBe(false);
    expect(decide(p, dest('github.com')).allowed).toBe(false);
    expect(
      decide(policy(['GET host.containers.internal:8443/*']), dest('host.containers.internal', 8443)),
    ).toMatchObject({ allowed: true, hostService: true });
    // A HOST:PORT deny rule still closes the host entirely.
    expect(decide(policy(['GET api.github.com/*'], ['api.github.com:443']), dest('api.github.com')).allowed).toBe(
      false,
    );
  });

  it('round-trips through its text form (deny rules first, then allow rules)', () => {
    const text = { mode: 'allowlist' as const, allow: ['a.test:1', 'GET a.test/x'], deny: ['GIT-PUSH a.test/*'] };
    const p = policyOf(text);
    expect(p.l7?.map((r) => r.action)).toEqual(['deny', 'allow']);
    expect(policyText(p)).toEqual(text);
  });

  it('judges requests: deny rules first, first match wins, default deny on a host with allow rules', () => {
    const p = policy(
      ['GET,HEAD api.github.com/repos/OWNER/*', '* api.github.com/repos/OWNER/open/*'],
      ['DELETE api.github.com/*'],
    );
    expect(judge(p, 'api.github.com', 'GET', '/repos/OWNER/x/issues?page=2')).toEqual({
      allow: true,
      rule: 'GET,HEAD api.github.com/repos/OWNER/*',
    });
    expect(judge(p, 'api.github.com', 'POST', '/repos/OWNER/open/issues')).toMatchObject({ allow: true });
    expect(judge(p, 'api.github.com', 'DELETE', '/repos/OWNER/open/issues')).toMatchObject({
      allow: false,
      reason: 'l7-rule',
      detail: 'DELETE api.github.com:443/repos/OWNER/open/issues: denied by rule DELETE api.github.com/*',
    });
    expect(judge(p, 'api.github.com', 'POST', '/gists')).toMatchObject({ allow: false, reason: 'l7-no-rule' });
    expect(judge(p, 'api.github.com', 'GET', '/repos/OTHER/x')).toMatchObject({ allow: false, reason: 'l7-no-rule' });
    // A path that climbs out of the allowed prefix is judged where it lands.
    expect(judge(p, 'api.github.com', 'GET', '/repos/OWNER/../OTHER/x')).toMatchObject({ allow: false });
    expect(judge(p, 'api.github.com', 'GET', '/repos/OWNER/x%2F..%2F..%2FOTHER')).toMatchObject({
      allow: false,
      reason: 'invalid',
    });
    // Hosts without L7 rules are not judged; a host with only deny rules allows the rest.
    expect(judge(p, 'example.test', 'POST', '/x')).toEqual({ allow: true, rule: undefined });
    const onlyDeny = policy(['github.com:443'], ['GIT-PUSH github.com/*']);
    expect(judge(onlyDeny, 'github.com', 'GET', '/o/r.git/info/refs?service=git-upload-pack')).toMatchObject({
      allow: true,
    });
    expect(judge(onlyDeny, 'github.com', 'POST', '/o/r.git/git-receive-pack')).toMatchObject({ allow: false });
  });

  it('allows git fetch but not push with GIT-FETCH (git smart HTTP)', () => {
    const p = policy(['GIT-FETCH github.com/o/*']);
    expect(judge(p, 'github.com', 'GET', '/o/r.git/info/refs?service=git-upload-pack').allow).toBe(true);
    expect(judge(p, 'github.com', 'POST', '/o/r.git/git-upload-pack').allow).toBe(true);
    expect(judge(p, 'github.com', 'GET', '/o/r.git/info/refs?service=git-receive-pack').allow).toBe(false);
    expect(judge(p, 'github.com', 'POST', '/o/r.git/git-receive-pack').allow).toBe(false);
    expect(judge(p, 'github.com', 'GET', '/o/r').allow).toBe(false);
    expect(judge(p, 'github.com', 'POST', '/other/r.git/git-upload-pack').allow).toBe(false);
  });

  it('github-readonly reads the API and fetches, and refuses gists, issues and pushes', () => {
    const p: EgressPolicy = { mode: 'allowlist', allow: [], deny: [], l7: presetL7Rules('github-readonly') };
    expect(judge(p, 'api.github.com', 'GET', '/repos/o/r').allow).toBe(true);
    expect(judge(p, 'api.github.com', 'POST', '/gists').allow).toBe(false);
    expect(judge(p, 'api.github.com', 'POST', '/repos/o/r/issues').allow).toBe(false);
    expect(judge(p, 'github.com', 'POST', '/o/r.git/git-upload-pack').allow).toBe(true);
    expect(judge(p, 'github.com', 'POST', '/o/r.git/git-receive-pack').allow).toBe(false);
    expect(decide(p, dest('codeload.github.com')).allowed).toBe(true);
    expect(presetL7Rules('agent')).toEqual([]);
    const regs = parseRules(['registry.mirror.test:443']);
    expect(presetRules('agent', regs).map((r) => r.host)).toContain('api.anthropic.com');
    expect(presetRules('agent', regs).map((r) => r.host)).toContain('registry.mirror.test');
    expect(presetRules('agent', regs).map((r) => r.host)).not.toContain('github.com');
    expect(presetRules('github-readonly', regs)).toEqual([]);
  });

  it('gates over the live policy: a change applies to the next request, and every request is recorded', () => {
    let live = policy(['GET host.containers.internal:8443/*']);
    const seen: string[] = [];
    const sink: RequestSink = {
      request: (d, m, p, ok, rule) => seen.push(`${ok ? 'allow' : 'deny'} ${m} ${d.host}${p} ${rule ?? '-'}`),
    };
    const e = l7Enforcer(() => live, sink);
    const hs = dest('host.containers.internal', 8443);
    expect(e.terminates(hs)).toBe(true);
    expect(e.terminates(dest('example.test'))).toBe(false);
    const req = (method: string, path: string) => ({ dest: hs, method, path, headers: {} });
    expect(e.gate(req('GET', '/a?token=secret'))).toEqual({ allow: true });
    expect(e.gate(req('POST', '/a'))).toEqual({
      allow: false,
      reason: 'POST host.containers.internal:8443/a: no rule allows it',
    });
    live = withRules(live, 'allow', parseAnyRules(['POST host.containers.internal:8443/a']));
    expect(e.gate(req('POST', '/a'))).toEqual({ allow: true });
    live = withRules(live, 'deny', parseAnyRules(['POST host.containers.internal:8443/a'], 'deny'));
    expect(e.gate(req('POST', '/a')).allow).toBe(false);
    expect(seen).toEqual([
      'allow GET host.containers.internal/a GET host.containers.internal:8443/*',
      'deny POST host.containers.internal/a -',
      'allow POST host.containers.internal/a POST host.containers.internal:8443/a',
      'deny POST host.containers.internal/a -',
    ]);
    // The query (a token) never reaches the records.
    expect(seen.join('\n')).not.toContain('secret');
    // Hosts without L7 rules are recorded in learn mode only (what it proposes rules from).
    seen.length = 0;
    const other = { dest: dest('plain.test', 80), method: 'GET', path: '/x', headers: {} };
    expect(e.gate(other)).toEqual({ allow: true });
    expect(seen).toEqual([]);
    live = { ...live, mode: 'learn' };
    e.gate(other);
    expect(seen).toEqual(['allow GET plain.test/x -']);
  });
});

describe('learn: the narrowest rules that replay the requests seen', () => {
  const entry = (destination: string, method: string, path: string, allowed = 1) => ({
    destination,
    method,
    path,
    allowed,
    denied: 0,
    rule: null,
  });

  it('proposes one rule per path with its methods, folds many paths into directories', () => {
    const rules = learnedL7Rules([
      entry('api.test:443', 'GET', '/v1/a'),
      entry('api.test:443', 'HEAD', '/v1/a'),
      entry('api.test:443', 'POST', '/v1/b'),
      entry('plain.test:80', 'GET', '/x,y'),
      entry('api.test:443', 'PUT', '/v1/never', 0),
    ]);
    expect(rules).toEqual(['GET,HEAD api.test/v1/a', 'POST api.test/v1/b', 'GET plain.test:80/x*']);
    const many = learnedL7Rules(Array.from({ length: 30 }, (_, i) => entry('api.test:443', 'GET', `/items/${i}/info`)));
    expect(many).toEqual(['GET api.test/items/*']);
    // The proposals replay every request seen, with no denial.
    const p = policy(rules);
    expect(judge(p, 'api.test', 'HEAD', '/v1/a').allow).toBe(true);
    expect(judge(p, 'api.test', 'POST', '/v1/b').allow).toBe(true);
    expect(judge(p, 'api.test', 'POST', '/v1/a').allow).toBe(false);
    expect(judgeRequest(p, dest('plain.test', 80), 'GET', '/x,y').allow).toBe(true);
  });

  it('puts them in the learned allowlist instead of the HOST:PORT rule of their destination', () => {
    const record = newNetworkRecord('s', 'learn', { mode: 'learn', allow: [], deny: [] }, []);
    const d = (destination: string) => ({
      destination,
      allowed: 1,
      denied: 0,
      failed: 0,
      rule: 'learn',
      reason: null,
      detail: null,
      first_seen: '',
      last_seen: '',
    });
    record.destinations.push(d('tunnel.test:443'), d('plain.test:80'));
    record.requests = [entry('plain.test:80', 'GET', '/index.html')];
    expect(learnedRules(record)).toEqual(['tunnel.test:443', 'GET plain.test:80/index.html']);
  });

  it('proposes nothing for a request whose destination the address guard then refused', () => {
    const record = newNetworkRecord('s', 'learn', { mode: 'learn', allow: [], deny: [] }, []);
    record.destinations.push({
      destination: '10.88.0.1:8080',
      allowed: 0,
      denied: 1,
      failed: 0,
      rule: null,
      reason: 'host-address',
      detail: 'refused',
      first_seen: '',
      last_seen: '',
    });
    record.requests = [entry('10.88.0.1:8080', 'GET', '/learn')];
    expect(learnedRules(record)).toEqual([]);
  });
});
