import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkImageBeforeVolumes } from '../../../src/run/image-before-volumes.js';
import { prepareVolumes } from '../../../src/run/prepare-volumes.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { prepareLoginsVolume } from '../../../src/run/session-credentials.js';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { MinoError } from '../../../src/common/errors.js';
import type { RunPlan } from '../../../src/launch/run-plan.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';

describe('a run checks a mino image before it creates volumes', () => {
  let engine: FakeRuntime;
  let ctx: SessionContext;
  let plan: RunPlan;
  beforeEach(() => {
    engine = new FakeRuntime();
    const state = mkdtempSync(join(tmpdir(), 'mino-imgvol-'));
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, false),
      stateDir: state,
      stateKey: stateKeyFor(state),
    };
    plan = {
      image: 'localhost/mino-base:latest',
      projectDir: '/p',
      namedVolumes: [],
      homeVolume: 'mino-home-abc',
      loginsVolume: `mino-logins-${ctx.stateKey}`,
    } as unknown as RunPlan;
  });

  it('refuses a missing mino-base with one error and a setup hint, before any volume exists', async () => {
    const err = await checkImageBeforeVolumes(ctx, plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MinoError);
    expect((err as MinoError).message).toBe('Image localhost/mino-base:latest is not available locally');
    expect((err as MinoError).hint).toMatch(/mino setup/);
    expect(engine.callsTo('volumeCreate')).toEqual([]);
  });

  it('asks podman once on a first run, and nothing once the volumes are known', async () => {
    engine.addImage('localhost/mino-base:latest');
    await checkImageBeforeVolumes(ctx, plan);
    expect(engine.callsTo('imageExists')).toHaveLength(1);
    await prepareVolumes(ctx, plan, () => undefined);
    await prepareLoginsVolume(ctx, plan);
    await checkImageBeforeVolumes(ctx, plan);
    expect(engine.callsTo('imageExists')).toHaveLength(1);
  });

  it('leaves other images to the inspection while planning', async () => {
    await checkImageBeforeVolumes(ctx, { ...plan, image: 'localhost/other:1', homeVolume: undefined } as RunPlan);
    expect(engine.calls).toEqual([]);
  });
});
