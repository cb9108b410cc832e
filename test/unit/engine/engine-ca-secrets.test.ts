import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { sessionCaBundlePath, terminatingBundleText } from '../../../src/credentials/host-ca-bundle.js';
import {
  caBundleDigest,
  caBundleDigestOf,
  caBundleSecretName,
  ensureCaBundleSecret,
  isPublicBundle,
  knownOnEngine,
  repairCaBundleSecret,
} from '../../../src/engine/engine-ca-secrets.js';
import { planOnEngine } from '../../../src/launch/remote-plan.js';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { createSessionCa } from '../../../src/network/proxy/tls-ca.js';
import { poolabilityOf } from '../../../src/pool/pool-key.js';
import type { GatheredCredentials } from '../../../src/run/gather-credentials.js';
import { hostCaBundleDigest, withCaBundleRepair } from '../../../src/run/remote-ca-bundle.js';
import { openSessionCredentials } from '../../../src/run/session-credentials.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';
import { typicalInput } from '../launch/plan-input.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

/** The host's CA bundle on a remote engine: one content-addressed secret, made once (engine-ca-secrets.ts). */
describe('CA bundle secrets on a remote engine', () => {
  let root: string;
  let ctx: SessionContext & { engine: string };
  let runtime: FakeRuntime;
  let bundle: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-ca-secrets-'));
    const stateDir = join(root, 'state');
    runtime = new FakeRuntime();
    ctx = {
      runtime,
      engine: 'gpu',
      store: new SessionStore(stateDir),
      audit: new AuditLog(stateDir, false),
      stateDir,
      stateKey: stateKeyFor(stateDir),
      sessionEnvDir: join(root, 'run', 'session-env'),
    };
    // The bundle the run's planning writes (credentials/host-ca-bundle.ts).
    bundle = sessionCaBundlePath(stateDir);
    mkdirSync(join(stateDir, 'ca'), { recursive: true });
    writeFileSync(bundle, CERT);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const gathered = (): GatheredCredentials => ({
    secretValues: new Map(),
    hostEnv: {},
    providerEnv: {},
    providers: [],
    passthrough: [],
    sshAgentSocket: undefined,
    loginsVolume: undefined,
    hostSettings: [],
    caBundle: bundle,
    proxyRules: [],
    proxyValues: new Map(),
    upstreamCa: [],
    warnings: [],
  });

  /** A remote plan of session `name` mounting the host bundle. */
  const remotePlan = (name: string) => {
    const local = buildRunPlan(
      typicalInput({ sessionName: name, stateKey: ctx.stateKey, credentials: { caBundle: bundle } }),
    );
    return planOnEngine(local, 'gpu', 'mino-project-x', { caBundleDigest: hostCaBundleDigest(local) }).plan;
  };

  it('names the secret after the content (never a session name: those have no dot)', () => {
    const name = caBundleSecretName(ctx.stateKey, caBundleDigest(CERT));
    expect(name).toMatch(new RegExp(`^mino-ca-${ctx.stateKey}\\.[0-9a-f]{16}$`));
    expect(caBundleDigestOf(ctx.stateKey, name)).toBe(caBundleDigest(CERT));
    expect(caBundleDigestOf(ctx.stateKey, `mino-ca-${ctx.stateKey}-s1`)).toBeUndefined();
    expect(caBundleDigestOf('000000000000', name)).toBeUndefined();
  });

  it('plans and pools runs of the same plan with the same secret; another bundle keys another pool', () => {
    const a = remotePlan('s1');
    const b = remotePlan('s2');
    const name = caBundleSecretName(ctx.stateKey, caBundleDigest(CERT));
    expect(a.spec.secretFiles?.map((f) => f.secret)).toEqual([name]);
    const keyA = poolabilityOf(a);
    expect(keyA).toMatchObject({ poolable: true });
    expect(poolabilityOf(b)).toEqual(keyA);
    writeFileSync(bundle, `${CERT}${CERT}`);
    const c = remotePlan('s3');
    expect(c.spec.secretFiles?.[0]?.secret).not.toBe(name);
    expect(poolabilityOf(c)).not.toEqual(keyA);
  });

  it('makes the secret once: a second run makes no podman secret call, and no run removes it', async () => {
    const first = await openSessionCredentials(ctx, remotePlan('s1'), gathered(), {});
    await first.close();
    const name = caBundleSecretName(ctx.stateKey, caBundleDigest(CERT));
    expect(runtime.callsTo('secretCreate')).toEqual([
      [name, CERT, { 'io.mino.state': ctx.stateKey, 'io.mino.ca-bundle': caBundleDigest(CERT) }, { keep: true }],
    ]);
    expect(runtime.callsTo('secretRemove')).toEqual([]);
    expect(knownOnEngine(ctx.stateDir, 'gpu', name)).toBe(true);
    runtime.clearCalls();
    const second = await openSessionCredentials(ctx, remotePlan('s2'), gathered(), {});
    await second.close();
    expect(runtime.callNames().filter((c) => c.startsWith('secret'))).toEqual([]);
    expect((await runtime.secretList({})).map((s) => s.name)).toEqual([name]);
  });

  it("a start that failed for a secret removed behind mino's back: made again, started once more", async () => {
    const plan = remotePlan('s1');
    await ensureCaBundleSecret({ ...ctx }, plan.spec.secretFiles![0]!.secret, () => CERT);
    const name = plan.spec.secretFiles![0]!.secret;
    await runtime.secretRemove(name);
    runtime.clearCalls();
    let starts = 0;
    const outcome = await withCaBundleRepair(ctx, plan, async () => {
      starts++;
      // podman fails a run whose secret is missing before it creates anything: exit 125.
      const present = (await runtime.secretList({})).some((s) => s.name === name);
      return { kind: 'exited', exitCode: present ? 0 : 125 };
    });
    expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(starts).toBe(2);
    expect(runtime.callsTo('secretCreate').map((c) => c[0])).toEqual([name]);
    // A command that itself exits 125 (the secret is there) is not run again.
    starts = 0;
    const again = await withCaBundleRepair(ctx, plan, async () => {
      starts++;
      return { kind: 'exited', exitCode: 125 };
    });
    expect(again).toEqual({ kind: 'exited', exitCode: 125 });
    expect(starts).toBe(1);
  });

  it('repairs nothing when the secret is there, and refuses a bundle that does not match its name', async () => {
    const target = { ...ctx };
    const name = caBundleSecretName(ctx.stateKey, caBundleDigest(CERT));
    await ensureCaBundleSecret(target, name, () => CERT);
    expect(await repairCaBundleSecret(target, name, () => CERT)).toBe(false);
    const other = caBundleSecretName(ctx.stateKey, caBundleDigest('x'));
    await expect(ensureCaBundleSecret(target, other, () => CERT)).rejects.toThrow(/changed since this run was planned/);
  });

  it('bundles hold certificates only: no private key, ever', async () => {
    const ca = createSessionCa('pool');
    const poolBundle = terminatingBundleText(CERT, ca.certPem);
    expect(isPublicBundle(poolBundle)).toBe(true);
    expect(isPublicBundle(`${poolBundle}${ca.keyPem}`)).toBe(false);
    const leaky = `${CERT}${ca.keyPem}`;
    const name = caBundleSecretName(ctx.stateKey, caBundleDigest(leaky));
    await expect(ensureCaBundleSecret({ ...ctx }, name, () => leaky)).rejects.toThrow(/private key/);
    expect(runtime.callsTo('secretCreate')).toEqual([]);
  });
});
