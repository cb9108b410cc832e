import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { sessionEnvOf, stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import type { ProxyCredentialRule } from '../../../src/credentials/proxy-credential.js';
import { engineCaSecretName, planOnEngine } from '../../../src/launch/remote-plan.js';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import type { GatheredCredentials } from '../../../src/run/gather-credentials.js';
import { openSessionCredentials } from '../../../src/run/session-credentials.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';
import { typicalInput } from '../launch/plan-input.js';

/** The session CA of a run whose credentials stay at the proxy: made at once, or only for a cold start (deferCa). */
describe('openSessionCredentials: the session CA', () => {
  let root: string;
  let ctx: SessionContext;
  const rule: ProxyCredentialRule = {
    variable: 'ANTHROPIC_API_KEY',
    hosts: ['api.anthropic.com'],
    header: 'x-api-key',
    prefix: '',
    placeholder: 'mino-proxy-managed-anthropic_api_key-0123456789abcdef',
  };
  const gathered: GatheredCredentials = {
    secretValues: new Map(),
    hostEnv: {},
    providerEnv: {},
    providers: [],
    passthrough: [],
    sshAgentSocket: undefined,
    loginsVolume: undefined,
    hostSettings: [],
    caBundle: undefined,
    proxyRules: [rule],
    proxyValues: new Map([[rule.placeholder, 'sk-ant-REAL']]),
    upstreamCa: [],
    warnings: [],
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-session-ca-'));
    ctx = {
      runtime: new FakeRuntime(),
      store: new SessionStore(join(root, 'state')),
      audit: new AuditLog(join(root, 'state'), false),
      stateDir: join(root, 'state'),
      stateKey: stateKeyFor(join(root, 'state')),
      sessionEnvDir: join(root, 'run', 'session-env'),
    };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const plan = () =>
    buildRunPlan(
      typicalInput({
        sessionName: 's1',
        credentials: { caBundle: sessionEnvOf(ctx).caPathOf('s1'), sessionCa: true, proxy: [rule] },
      }),
    );

  it('makes the CA before the start by default; its bundle goes with close()', async () => {
    const opened = await openSessionCredentials(ctx, plan(), gathered, {});
    const bundle = sessionEnvOf(ctx).caPathOf('s1');
    expect(opened.egressSecrets?.credentials).toMatchObject([{ variable: 'ANTHROPIC_API_KEY', value: 'sk-ant-REAL' }]);
    expect(readFileSync(bundle, 'utf8')).toContain(opened.egressSecrets!.ca!.certPem.trim());
    expect(opened.makeCa).toBeUndefined();
    await opened.close();
    expect(existsSync(bundle)).toBe(false);
  });

  it('with deferCa (a warm container likely serves the run) makes none until a cold start asks', async () => {
    const opened = await openSessionCredentials(ctx, plan(), gathered, {}, { deferCa: true });
    const bundle = sessionEnvOf(ctx).caPathOf('s1');
    expect(opened.egressSecrets).toBeUndefined();
    expect(existsSync(bundle)).toBe(false);
    const secrets = await opened.makeCa!();
    expect(secrets.credentials).toMatchObject([{ value: 'sk-ant-REAL' }]);
    expect(readFileSync(bundle, 'utf8')).toContain(secrets.ca!.certPem.trim());
    await opened.close();
    expect(existsSync(bundle)).toBe(false);
    await expect(opened.makeCa!()).rejects.toThrow(/ended before its CA/);
    expect(existsSync(bundle)).toBe(false);
  });

  it('on a remote engine: the bundle (public) becomes the podman secret its plan mounts, the values stay for the proxy', async () => {
    const local = buildRunPlan(
      typicalInput({
        sessionName: 's1',
        stateKey: ctx.stateKey,
        credentials: { caBundle: sessionEnvOf(ctx).caPathOf('s1'), sessionCa: true, proxy: [rule] },
      }),
    );
    const remote = planOnEngine(local, 'gpu', 'mino-project-x').plan;
    const runtime = ctx.runtime as FakeRuntime;
    const opened = await openSessionCredentials(ctx, remote, gathered, {});
    const secret = engineCaSecretName(ctx.stateKey, 's1');
    const created = runtime.callsTo('secretCreate');
    expect(created.map((c) => c[0])).toEqual([secret]);
    expect(created[0]![1]).toContain(opened.egressSecrets!.ca!.certPem.trim());
    // Public certificates only: no key, no credential value.
    expect(created[0]![1]).not.toContain('PRIVATE KEY');
    expect(created[0]![1]).not.toContain('sk-ant-REAL');
    expect(opened.egressSecrets?.credentials).toMatchObject([{ value: 'sk-ant-REAL' }]);
    await opened.close();
    expect(runtime.callsTo('secretRemove').map((c) => c[0])).toContain(secret);
  });
});
