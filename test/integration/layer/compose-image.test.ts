import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureComposedImage, type ComposeImageOptions } from '../../../src/run/compose-image.js';
import { MinoError } from '../../../src/common/errors.js';
import type { BuildEvent } from '../../../src/image/build-output.js';
import { planComposition } from '../../../src/layer/compose-plan.js';
import { resolveLayers, type LayerDirs } from '../../../src/layer/resolve-layers.js';
import type { BuildOptions } from '../../../src/runtime/container-runtime.js';
import { PodmanRuntime } from '../../../src/runtime/podman/podman-runtime.js';
import { requirePrerequisites } from '../../helpers/engines.js';
import { exclusive } from '../../helpers/exclusive.js';
import { IS_ROOT, REPO_ROOT, TEST_IMAGE, TEST_LABEL, TEST_LABELS, TEST_RUN } from '../../helpers/test-env.js';

// Removes or retags images of the shared engines: one such file at a time (vitest.config.ts).
exclusive('image-store');

/**
 * Composing images on real podman (rootful: mino and podman run as the same user, as in real
 * use), with the busybox test image as base and project-local layers (busybox has no package
 * manager, so the layers use only install.sh and [env]).
 */

requirePrerequisites();

/** The real podman runtime, counting the image calls that matter here. */
class CountingRuntime extends PodmanRuntime {
  exists = 0;
  builds = 0;

  override async imageExists(image: string): Promise<boolean> {
    this.exists++;
    return super.imageExists(image);
  }

  override async buildImage(contextDir: string, tag: string, options?: BuildOptions): Promise<void> {
    this.builds++;
    return super.buildImage(contextDir, tag, options);
  }
}

let root: string;
let dirs: LayerDirs;
let dataDir: string;
let baseImageId: string;
const images = new Set<string>();

function podman(...args: string[]): string {
  return execFileSync('podman', args, { encoding: 'utf8' });
}

/** Writes a project layer `<name>` whose script is unique to this test run. */
function projectLayer(name: string, script: string, extraToml = ''): void {
  const dir = join(dirs.projectDir!, '.mino', 'layers', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'layer.toml'),
    `[layer]
name = "${name}"
description = "integration test layer"
version = "1"

[env]
HELLO_GREETING = "hi $HOME \\"quoted\\""
HELLO_FROM = "${name}"

[env.path_prepend]
dirs = ["/opt/hello/bin"]
${extraToml}`,
  );
  writeFileSync(join(dir, 'install.sh'), `#!/bin/sh\nset -eu\n# run ${randomUUID()}\n${script}`);
}

async function options(names: string[], extra: Partial<ComposeImageOptions> = {}): Promise<ComposeImageOptions> {
  return {
    baseImageRef: TEST_IMAGE,
    baseImageId,
    layers: await resolveLayers(names, dirs),
    dataDir,
    labels: { ...TEST_LABELS },
    ...extra,
  };
}

function buildsDirEntries(): string[] {
  const dir = join(dataDir, 'builds');
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe.skipIf(!IS_ROOT)('ensureComposedImage on podman', () => {
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-compose-it-'));
    dirs = {
      projectDir: join(root, 'project'),
      configDir: join(root, 'config'),
      builtinDir: join(REPO_ROOT, 'layers'),
    };
    dataDir = join(root, 'data');
    baseImageId = podman('image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE).trim();
  });

  afterAll(() => {
    for (const image of images) execFileSync('podman', ['rmi', '-f', '-i', image], { stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
  });

  it('builds on the first call, reuses with one podman call on the second', async () => {
    projectLayer(
      'hello',
      "mkdir -p /opt/hello/bin\nprintf '#!/bin/sh\\necho hello from mino\\n' > /opt/hello/bin/hello-mino\nchmod 755 /opt/hello/bin/hello-mino\n",
    );
    const rt = new CountingRuntime();
    const events: BuildEvent[] = [];
    const first = await ensureComposedImage(rt, await options(['hello'], { onProgress: (e) => events.push(e) }));
    images.add(first.image);
    expect(first).toMatchObject({ composed: true, built: true });
    expect(first.image).toMatch(/^localhost\/mino-composed-[a-f0-9]{12}:latest$/);
    expect(rt.builds).toBe(1);
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.length).toBeGreaterThan(3);
    expect(steps[0]).toMatchObject({ step: 1, text: expect.stringMatching(/^FROM [a-f0-9]{64}$/) });
    expect(steps.every((s) => s.type === 'step' && s.total === (steps[0] as { total: number }).total)).toBe(true);
    expect(first.env).toEqual({ MINO_PATH_PREPEND: '/opt/hello/bin' });
    // The context directory and the lock are gone.
    expect(buildsDirEntries()).toEqual([]);

    const again = new CountingRuntime();
    const second = await ensureComposedImage(again, await options(['hello']));
    expect(second).toEqual({ ...first, built: false });
    expect(again.exists).toBe(1);
    expect(again.builds).toBe(0);
  });

  it('bakes the script result, the literal [env] values, PATH and labels into the image', async () => {
    const result = await ensureComposedImage(new PodmanRuntime(), await options(['hello']));
    const out = podman(
      'run',
      '--rm',
      '--label',
      `${TEST_LABEL}=${TEST_RUN}`,
      result.image,
      'sh',
      '-c',
      'hello-mino; echo "greeting=$HELLO_GREETING"; echo "from=$HELLO_FROM"; echo "path=$PATH"; id -un; pwd',
    );
    expect(out).toBe(
      [
        'hello from mino',
        'greeting=hi $HOME "quoted"',
        'from=hello',
        'path=/opt/hello/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'developer',
        '/workspace',
        '',
      ].join('\n'),
    );
    const labels = JSON.parse(podman('image', 'inspect', '--format', '{{json .Labels}}', result.image)) as Record<
      string,
      string
    >;
    expect(labels).toMatchObject({
      'io.mino.composed': '1',
      'io.mino.composed.hash': result.hash,
      'io.mino.composed.base': `sha256:${baseImageId}`,
      'io.mino.composed.base-ref': TEST_IMAGE,
      'io.mino.composed.layers': 'hello@1',
      [TEST_LABEL]: TEST_RUN,
    });
  });

  it('builds once when two runs compose the same image at the same time', async () => {
    projectLayer('twice', 'sleep 1\necho built > /twice\n');
    const runtimes = [new CountingRuntime(), new CountingRuntime(), new CountingRuntime()];
    const waited: boolean[] = [false, false, false];
    const results = await Promise.all(
      runtimes.map(async (rt, i) =>
        ensureComposedImage(
          rt,
          await options(['twice'], {
            onProgress: (e) => {
              if (e.type === 'waiting') waited[i] = true;
            },
          }),
        ),
      ),
    );
    for (const r of results) images.add(r.image);
    expect(new Set(results.map((r) => r.image)).size).toBe(1);
    expect(results.filter((r) => r.built)).toHaveLength(1);
    expect(runtimes.reduce((n, rt) => n + rt.builds, 0)).toBe(1);
    expect(waited.filter(Boolean)).toHaveLength(2);
    expect(buildsDirEntries()).toEqual([]);
  });

  it('uses the base image without a build when layers only have [env] and [user_install]', async () => {
    const dir = join(dirs.projectDir!, '.mino', 'layers', 'envonly');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'layer.toml'),
      '[layer]\nname = "envonly"\ndescription = "d"\nversion = "1"\n[env]\nA = "1"\n[user_install]\nnpm_globals = ["pnpm"]\n',
    );
    const rt = new CountingRuntime();
    const result = await ensureComposedImage(rt, await options(['envonly']));
    expect(result).toEqual({
      image: TEST_IMAGE,
      composed: false,
      built: false,
      env: { A: '1', MINO_LAYER_MANIFEST: '[{"name":"envonly","npm_globals":["pnpm"]}]' },
    });
    expect(rt.exists + rt.builds).toBe(0);
  });

  it('fails with the last 50 lines of output and a hint, leaving nothing behind', async () => {
    projectLayer(
      'broken',
      'i=1\nwhile [ $i -le 80 ]; do echo "output-line-$i"; i=$((i+1)); done\necho "about to fail" >&2\nexit 3\n',
    );
    const opts = await options(['broken']);
    const err = await ensureComposedImage(new PodmanRuntime(), opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MinoError);
    const message = (err as MinoError).message;
    expect(message).toMatch(/^Building the image for layers broken failed; last lines of output:\n/);
    expect(message).toContain('output-line-80');
    expect(message).toContain('about to fail');
    expect(message).not.toContain('output-line-10\n');
    expect(message.split('\n').length).toBeLessThanOrEqual(51);
    expect((err as MinoError).hint).toMatch(/install\.sh.*broken/);
    expect(buildsDirEntries()).toEqual([]);
    // No image is left under the composed tag (podman keeps its cached intermediate layers,
    // labelled like the image, for the next attempt).
    const plan = planComposition(opts);
    expect(await new PodmanRuntime().imageExists(plan.image)).toBe(false);
  });

  it('stops the build and removes its context on Ctrl-C (SIGINT)', async () => {
    projectLayer('slow', 'sleep 60\n');
    const before = process.listeners('SIGINT');
    let interrupted = false;
    const started = Date.now();
    const promise = ensureComposedImage(
      new PodmanRuntime(),
      await options(['slow'], {
        onProgress: (e) => {
          if (interrupted || e.type !== 'step' || !e.text.startsWith('RUN chmod')) return;
          interrupted = true;
          expect(buildsDirEntries().length).toBe(2); // the context directory and the lock
          // Deliver SIGINT to mino's handler only (vitest's own handlers would end the run).
          for (const listener of process.listeners('SIGINT')) if (!before.includes(listener)) listener('SIGINT');
        },
      }),
    );
    const err = await promise.catch((e: unknown) => e);
    if (!(err instanceof MinoError)) console.error(err);
    expect(interrupted).toBe(true);
    expect(err).toBeInstanceOf(MinoError);
    expect(err).toMatchObject({ message: 'Image build interrupted', exitCode: 130 });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(buildsDirEntries()).toEqual([]);
    expect(process.listeners('SIGINT')).toEqual(before);
  });
});
