import { describe, expect, it } from 'vitest';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import {
  keyedSpecOf,
  perRunEnvOf,
  placeSessionCa,
  poolabilityOf,
  poolKeyOf,
  SESSION_CA_PLACEHOLDER,
  warmGroupsFor,
} from '../../../src/pool/pool-key.js';
import { buildEgressPlan } from '../../../src/network/egress-plan.js';
import { egressPaths } from '../../../src/network/egress-paths.js';
import { parseRules } from '../../../src/network/rule.js';
import type { EgressMode } from '../../../src/network/policy.js';
import { warmSpecOf } from '../../../src/pool/warm-spec.js';
import { LABEL_POOL, isWarmContainer } from '../../../src/session/session-labels.js';
import { proxiedKeyCredentials, typicalInput } from '../launch/plan-input.js';
import type { RunPlanInput } from '../../../src/launch/run-plan.js';

const keyOf = (o: Partial<RunPlanInput> = {}): string => {
  const p = poolabilityOf(
    buildRunPlan(typicalInput({ projectDir: '/srv/app', homeDir: '/home/alice', stateKey: 'abc123abc123', ...o })),
  );
  if (!p.poolable) throw new Error(p.reason);
  return p.key;
};

describe('pool key', () => {
  it('is the same for runs that differ only per run: session name, owner, command, terminal', () => {
    const base = keyOf();
    expect(base).toMatch(/^[0-9a-f]{24}$/);
    expect(keyOf({ sessionName: 'other', ownerPid: 99, command: ['true'], stdinIsTty: false })).toBe(base);
  });

  it('differs for anything that makes the containers differ', () => {
    const base = keyOf();
    const variants: Partial<RunPlanInput>[] = [
      { image: 'localhost/other:1' },
      { projectDir: '/srv/other' },
      { network: 'none' },
      { cliEnv: ['A=1'] },
      { cliEnv: ['A=2'] },
      { readOnly: true },
      { rootless: false },
      { projectOwner: { uid: 1500, gid: 1500 }, rootless: false },
      { resourceLimits: false },
      { home: true },
      { stateKey: 'def456def456' },
      { workdir: '/work' },
    ];
    const keys = variants.map((v) => keyOf(v));
    for (const k of keys) expect(k).not.toBe(base);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('is the same before and after a run completes the caches (the finalize label is per run), not when the mount changes', () => {
    const plan = buildRunPlan(typicalInput());
    const cache = { type: 'volume' as const, source: 'mino-cache-npm-f25e7d293543', target: '/cache/npm' };
    const filling = {
      ...plan.spec,
      mounts: [...(plan.spec.mounts ?? []), cache],
      labels: { ...plan.spec.labels, 'io.mino.caches': cache.source, 'io.mino.caches.finalize': cache.source },
    };
    const complete = { ...filling, labels: { ...plan.spec.labels, 'io.mino.caches': cache.source } };
    expect(poolKeyOf(complete)).toBe(poolKeyOf(filling));
    expect(poolKeyOf({ ...complete, mounts: [...(plan.spec.mounts ?? []), { ...cache, readOnly: true }] })).not.toBe(
      poolKeyOf(filling),
    );
    const warm = warmSpecOf(filling, poolKeyOf(filling), 600, new Date());
    expect(warm.labels).toHaveProperty('io.mino.caches', cache.source);
    expect(warm.labels).not.toHaveProperty('io.mino.caches.finalize');
  });

  it('does not serve detached or shell sessions, nor per-session credentials or unknown settings', () => {
    const detached = poolabilityOf(buildRunPlan(typicalInput({ detach: true })));
    expect(detached).toMatchObject({ poolable: false, reason: expect.stringMatching(/detached/) });
    expect(poolabilityOf(buildRunPlan(typicalInput({ command: [] })))).toMatchObject({
      poolable: false,
      reason: expect.stringMatching(/shell/),
    });
    const plan = buildRunPlan(typicalInput());
    expect(poolabilityOf({ ...plan, spec: { ...plan.spec, secretEnv: [{ secret: 's', target: 'T' }] } })).toMatchObject(
      { poolable: false, reason: expect.stringMatching(/credentials/) },
    );
    expect(poolabilityOf({ ...plan, spec: { ...plan.spec, envFiles: ['/tmp/x.env'] } })).toMatchObject({
      poolable: false,
    });
    expect(poolabilityOf({ ...plan, spec: { ...plan.spec, hooksDir: '/run/x' } as typeof plan.spec })).toMatchObject({
      poolable: false,
      reason: expect.stringMatching(/hooksDir/),
    });
  });

  it('gives a warm spec with the same key: the run container, detached, --rm, labelled, expiring', () => {
    const plan = buildRunPlan(typicalInput({ stateKey: 'abc123abc123' }));
    const key = poolKeyOf(plan.spec);
    const warm = warmSpecOf(plan.spec, key, 600, new Date('2026-01-01T00:00:00Z'));
    expect(poolKeyOf(warm)).toBe(key);
    expect(warm).toMatchObject({
      autoRemove: true,
      image: plan.image,
      mounts: plan.spec.mounts,
      env: plan.spec.env,
      userns: plan.spec.userns,
      init: true,
    });
    expect(warm.tty).toBeUndefined();
    expect(warm.interactive).toBeUndefined();
    expect(warm.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(warm.command.slice(-2)).toEqual(['mino-warm', '600']);
    expect(warm.labels).toMatchObject({
      [LABEL_POOL]: key,
      'io.mino.state': 'abc123abc123',
      'io.mino.pool.expires': String(Date.parse('2026-01-01T00:00:00Z') / 1000 + 600),
    });
    expect(warm.labels).not.toHaveProperty('io.mino.session');
    expect(warm.labels).not.toHaveProperty('io.mino.owner-pid');
    expect(isWarmContainer({ name: warm.name!, labels: warm.labels! })).toBe(true);
    expect(isWarmContainer({ name: 'mino-pool-x', labels: warm.labels! })).toBe(false);
  });
});

describe('pool key of a contained run (allowlist, learn)', () => {
  const contained = (session: string, mode: EgressMode = 'allowlist', rules = ['api.anthropic.com:443']) =>
    buildRunPlan(
      typicalInput({
        sessionName: session,
        stateKey: 'abc123abc123',
        egress: buildEgressPlan({
          mode,
          rules: mode === 'learn' ? [] : parseRules(rules),
          presets: [],
          paths: egressPaths('/run/user/1001/mino/egress', 'abc123abc123', session),
          systemHooksDirs: ['/usr/share/containers/oci/hooks.d'],
        }),
      }),
    );
  const keyOfPlan = (plan: ReturnType<typeof contained>): string => {
    const p = poolabilityOf(plan);
    if (!p.poolable) throw new Error(p.reason);
    return p.key;
  };

  it("is poolable; its key keeps the mode, not the rules nor the session's own egress directory", () => {
    const a = contained('one');
    const b = contained('two', 'allowlist', ['example.com:443', 'github.com:22']);
    expect(a.spec.hooksDirs).not.toEqual(b.spec.hooksDirs);
    expect(keyOfPlan(a)).toBe(keyOfPlan(b));
    expect(keyOfPlan(contained('three', 'learn'))).not.toBe(keyOfPlan(a));
    expect(keyOfPlan(a)).not.toBe(keyOf({ stateKey: 'abc123abc123', network: 'none' }));
    // The pool keeps the spec without the session's hook directory; the host's stay.
    expect(keyedSpecOf(a).hooksDirs).toEqual(['/usr/share/containers/oci/hooks.d']);
    expect(poolKeyOf(keyedSpecOf(b), b.network.egress)).toBe(keyOfPlan(a));
    expect(poolKeyOf(keyedSpecOf(b))).not.toBe(keyOfPlan(a));
  });

  /** A contained plan whose proxy keeps an API key (a placeholder and a CA bundle of the session's own). */
  const terminating = (session: string, extra: { upstreamCa?: boolean; egress?: boolean } = {}) => {
    const base = contained(session);
    return buildRunPlan(
      typicalInput({
        sessionName: session,
        stateKey: 'abc123abc123',
        ...(extra.egress === false ? {} : { egress: base.network.egress }),
        credentials: {
          ...proxiedKeyCredentials(session, `/run/user/1001/mino/k/session-env/${session}.ca.pem`),
          ...(extra.upstreamCa
            ? { upstreamCa: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'] }
            : {}),
        },
      }),
    );
  };

  it("is poolable with credentials kept at the proxy: the key leaves out the session's placeholders and CA bundle, and keeps that the proxy terminates", () => {
    const a = terminating('one');
    const b = terminating('two');
    expect(a.spec.env?.ANTHROPIC_API_KEY).not.toBe(b.spec.env?.ANTHROPIC_API_KEY);
    expect(keyOfPlan(a)).toBe(keyOfPlan(b));
    expect(keyOfPlan(a)).not.toBe(keyOfPlan(contained('one')));
    const keyed = keyedSpecOf(a);
    expect(keyed.env).not.toHaveProperty('ANTHROPIC_API_KEY');
    const caMounts = (keyed.mounts ?? []).filter((m) => m.source === SESSION_CA_PLACEHOLDER);
    expect(caMounts.map((m) => m.target).sort()).toEqual([
      '/etc/ssl/certs/ca-certificates.crt',
      '/run/mino/ca-certificates.crt',
    ]);
    expect(JSON.stringify(keyed)).not.toContain('one.ca.pem');
    // A warm container mounts a bundle of its own there; the run adds its placeholder.
    const placed = placeSessionCa(keyed, '/state/pool/agents/x/ca-bundle.crt');
    expect((placed.mounts ?? []).filter((m) => m.source === '/state/pool/agents/x/ca-bundle.crt')).toHaveLength(2);
    expect(perRunEnvOf(a)).toEqual({ ANTHROPIC_API_KEY: a.spec.env?.ANTHROPIC_API_KEY });
    expect(perRunEnvOf(contained('one'))).toEqual({});
  });

  it('keys network.upstream_ca; is not poolable with proxied credentials and no egress proxy; hook directories need an egress plan', () => {
    const withCa = terminating('one', { upstreamCa: true });
    expect(keyOfPlan(withCa)).not.toBe(keyOfPlan(terminating('one')));
    expect(keyOfPlan(withCa)).toBe(keyOfPlan(terminating('two', { upstreamCa: true })));
    // The pool record's egress (warm-egress.ts poolEgressOf) gives the same key.
    const egress = withCa.network.egress!;
    expect(poolKeyOf(keyedSpecOf(withCa), { ...egress, tls: true, upstreamCa: withCa.credentials.upstreamCa })).toBe(
      keyOfPlan(withCa),
    );
    expect(poolabilityOf(terminating('one', { egress: false }))).toMatchObject({
      poolable: false,
      reason: expect.stringMatching(/egress proxy made for this session/),
    });
    const plain = buildRunPlan(typicalInput());
    expect(poolabilityOf({ ...plain, spec: { ...plain.spec, hooksDirs: ['/x'] } })).toMatchObject({
      poolable: false,
      reason: expect.stringMatching(/hooksDirs/),
    });
  });
});

describe('warm groups', () => {
  it("adds the image user's group for mino images, nothing for root, refuses unknown users", () => {
    expect(warmGroupsFor(1000, 1000, 'developer')).toEqual({ groups: ['1000'] });
    expect(warmGroupsFor(1000, 1001, '1000:1001')).toEqual({ groups: ['1001'] });
    expect(warmGroupsFor(0, undefined, '')).toEqual({ groups: [] });
    expect(warmGroupsFor(undefined, undefined, '')).toEqual({ groups: [] });
    expect(warmGroupsFor(undefined, undefined, '0:0')).toEqual({ groups: [] });
    // USER 1000 without a group: the primary group comes from the image's /etc/passwd, unknown here.
    expect(warmGroupsFor(1000, undefined, '1000')).toEqual({
      problem: expect.stringMatching(/user 1000, whose group mino does not know/),
    });
    expect(warmGroupsFor(undefined, undefined, '1000')).toEqual({
      problem: expect.stringMatching(/user 1000, whose group mino does not know/),
    });
    expect(warmGroupsFor(undefined, undefined, 'app')).toMatchObject({ problem: expect.any(String) });
  });

  it('puts them on the warm container only (--group-add), not in the key', () => {
    const plan = buildRunPlan(typicalInput());
    const warm = warmSpecOf(plan.spec, poolKeyOf(plan.spec), 600, new Date(), ['1000']);
    expect(warm.groupAdd).toEqual(['1000']);
    expect(plan.spec.groupAdd).toBeUndefined();
  });
});
