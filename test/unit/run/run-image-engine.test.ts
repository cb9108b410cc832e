import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveRunImage } from '../../../src/run/run-image.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';
import { minoErrorOf } from '../../helpers/thrown.js';
import { BASE_ID } from '../layer/fixtures.js';

const BASE = 'localhost/mino-base:latest';

/** Layers on a remote engine: those that only set environment need nothing, others compose there. */
describe('resolveRunImage on another engine', () => {
  let root: string;
  let project: string;
  let engine: FakeRuntime;

  const layer = (name: string, manifest: string, install?: string): void => {
    const dir = join(project, '.mino', 'layers', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'layer.toml'), manifest);
    if (install !== undefined) writeFileSync(join(dir, 'install.sh'), install);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-run-image-engine-'));
    project = join(root, 'proj');
    engine = new FakeRuntime();
    engine.addImage(BASE, { id: BASE_ID });
    layer(
      'envonly',
      '[layer]\nname = "envonly"\ndescription = "env"\nversion = "1"\n\n[env]\nA = "1"\n[user_install]\nnpm_globals = ["pnpm"]\n',
    );
    layer('tools', '[layer]\nname = "tools"\ndescription = "tools"\nversion = "1"\n', '#!/bin/sh\ntrue\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("composes layers that need a build on that engine, on its own base, never from this machine's index", async () => {
    const dataDir = join(root, 'data');
    // This machine's index says the composed tag exists: a run elsewhere must not believe it.
    mkdirSync(dataDir, { recursive: true });
    const here = new FakeRuntime();
    here.addImage(BASE, { id: BASE_ID });
    const local = await resolveRunImage(here, {
      cliLayers: ['tools'],
      layerProjectDir: project,
      dataDir,
    });
    expect(local.built).toBe(true);
    const image = await resolveRunImage(engine, {
      cliLayers: ['tools'],
      layerProjectDir: project,
      dataDir,
      engine: 'gpu',
    });
    expect(image).toMatchObject({ image: local.image, layers: ['tools'], built: true, fromIndex: false });
    expect(engine.callNames()).toEqual(['imageInspect', 'imageExists', 'imageExists', 'buildImage', 'imageExists']);
  });

  it('says where the base image is missing and how to put it there', async () => {
    const bare = new FakeRuntime();
    const err = await resolveRunImage(bare, {
      cliLayers: ['tools'],
      layerProjectDir: project,
      dataDir: join(root, 'data'),
      engine: 'gpu',
    }).then(
      () => expect.fail('resolved'),
      (e: unknown) =>
        minoErrorOf(() => {
          throw e;
        }),
    );
    expect(err.message).toContain('is not on engine gpu');
    expect(err.hint).toContain('mino setup --engine gpu');
    expect(bare.callNames()).toEqual(['imageInspect']);
  });

  it('takes layers that only set environment', async () => {
    const image = await resolveRunImage(engine, {
      cliLayers: ['envonly'],
      layerProjectDir: project,
      dataDir: join(root, 'data'),
      engine: 'gpu',
    });
    expect(image).toMatchObject({ image: BASE, layers: ['envonly'], built: false });
  });
});
