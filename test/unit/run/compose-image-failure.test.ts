import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MinoError } from '../../../src/common/errors.js';
import { ensureComposedImage } from '../../../src/run/compose-image.js';
import { EngineError } from '../../../src/runtime/runtime-errors.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';
import { BASE_ID, fixtureLayer } from '../layer/fixtures.js';

const BASE = 'localhost/mino-base:latest';

describe('a failed layer build is explained by the engine, not by matching its text here', () => {
  let dataDir: string;
  let engine: FakeRuntime;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'mino-compose-'));
    engine = new FakeRuntime();
    engine.addImage(BASE, { id: BASE_ID });
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  async function failBuild(diagnosis: string | undefined): Promise<MinoError> {
    engine.on('buildImage', (_context, _tag, options) => {
      options?.onOutput?.('STEP 1/2: FROM base');
      options?.onOutput?.('write /usr/lib/x: no space left on device');
      throw new EngineError('the build failed', { engineExitCode: 1, stderr: 'no space left on device', diagnosis });
    });
    const options = {
      baseImageRef: BASE,
      baseImageId: BASE_ID,
      layers: [await fixtureLayer('alpha')],
      dataDir,
      handleSignals: false,
    };
    return ensureComposedImage(engine, options).then(
      () => expect.fail('the build succeeded'),
      (err: unknown) => err as MinoError,
    );
  }

  it("the hint is the engine's diagnosis when it has one", async () => {
    const err = await failBuild('The disk is full. Free space with: mino cache gc');
    expect(err.message).toBe(
      'Building the image for layers alpha failed; last lines of output:\nSTEP 1/2: FROM base\nwrite /usr/lib/x: no space left on device',
    );
    expect(err.hint).toBe('The disk is full. Free space with: mino cache gc');
  });

  it('the hint points at the layers when the engine recognised nothing (even in words another engine knows)', async () => {
    const err = await failBuild(undefined);
    expect(err.hint).toBe(
      'Check the install.sh and [root_install] packages of: alpha; run with -vv for the full podman output',
    );
  });
});
