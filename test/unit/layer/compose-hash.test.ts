import { describe, expect, it } from 'vitest';
import { composeHash, composedImageTag, normalizeImageId } from '../../../src/layer/compose-hash.js';
import { needsComposeBuild, planComposition } from '../../../src/layer/compose-plan.js';
import type { ResolvedLayer } from '../../../src/layer/resolve-layers.js';
import { BASE_ID, OTHER_BASE_ID, changed, fixtureLayer } from './fixtures.js';

async function layers(): Promise<ResolvedLayer[]> {
  return [await fixtureLayer('alpha'), await fixtureLayer('beta'), await fixtureLayer('gamma')];
}

describe('composed image tag', () => {
  it('is stable: the same inputs give the same tag (pinned value)', async () => {
    const a = composeHash(BASE_ID, await layers());
    expect(composeHash(BASE_ID, await layers())).toBe(a);
    expect(a).toMatch(/^[a-f0-9]{12}$/);
    // Pinned so that an accidental change of the hash input (which would rebuild every user's
    // images) shows up here. Bump COMPOSE_FORMAT when changing it on purpose.
    expect(a).toMatchInlineSnapshot(`"2ed5900e2b5b"`);
  });

  it('does not depend on the order of --layers', async () => {
    const [alpha, beta0, gamma] = await layers();
    // Without a variable set by two layers (see the next-but-one test).
    const beta = changed(beta0!, (l) => {
      delete l.manifest.env.SHARED;
    });
    const tag = composeHash(BASE_ID, [alpha!, beta!, gamma!]);
    expect(composeHash(BASE_ID, [gamma!, alpha!, beta!])).toBe(tag);
    expect(composeHash(BASE_ID, [beta!, gamma!, alpha!])).toBe(tag);
  });

  it('is keyed by the base image ID, with or without sha256:', async () => {
    const l = await layers();
    expect(composeHash(`sha256:${BASE_ID}`, l)).toBe(composeHash(BASE_ID, l));
    expect(composeHash(OTHER_BASE_ID, l)).not.toBe(composeHash(BASE_ID, l));
  });

  const edits: Array<[string, (l: ResolvedLayer) => void]> = [
    [
      'the layer name',
      (l) => {
        l.manifest.name = 'alpha2';
      },
    ],
    [
      'the install script',
      (l) => {
        l.script = `${l.script ?? ''}echo more\n`;
      },
    ],
    [
      'a script appearing',
      (l) => {
        l.script = l.script === undefined ? 'echo x\n' : undefined;
      },
    ],
    [
      'the version',
      (l) => {
        l.manifest.version = '99';
      },
    ],
    [
      'a root package added',
      (l) => {
        l.manifest.rootPackages.push('jq');
      },
    ],
    [
      'the root packages replaced',
      (l) => {
        l.manifest.rootPackages = ['zlib1g'];
      },
    ],
    [
      'user_install runtime',
      (l) => {
        l.manifest.userInstall.runtime = 'rustup';
      },
    ],
    [
      'user_install runtime_version',
      (l) => {
        l.manifest.userInstall.runtime_version = '1.80';
      },
    ],
    [
      'user_install npm_globals',
      (l) => {
        l.manifest.userInstall.npm_globals.push('tsx');
      },
    ],
    [
      'user_install cargo_tools',
      (l) => {
        l.manifest.userInstall.cargo_tools.push('bacon');
      },
    ],
    [
      'user_install uv_tools',
      (l) => {
        l.manifest.userInstall.uv_tools.push('black');
      },
    ],
    [
      'an [env] value',
      (l) => {
        l.manifest.env = { ...l.manifest.env, NEW_VAR: 'x' };
      },
    ],
    [
      'an [env] value edited',
      (l) => {
        l.manifest.env = Object.fromEntries(Object.entries(l.manifest.env).map(([k, v]) => [k, `${v}!`]));
      },
    ],
    [
      'a PATH directory',
      (l) => {
        l.manifest.pathPrepend.push('/opt/new/bin');
      },
    ],
  ];

  it.each(['alpha', 'beta', 'gamma'])('changes with every hashed input of layer %s', async (name) => {
    const all = await layers();
    const before = composeHash(BASE_ID, all);
    const seen = new Set([before]);
    for (const [what, edit] of edits) {
      const after = composeHash(
        BASE_ID,
        all.map((l) => (l.manifest.name === name ? changed(l, edit) : l)),
      );
      expect(after, what).not.toBe(before);
      seen.add(after);
    }
    expect(seen.size).toBe(edits.length + 1);
  });

  it('changes when --layers order changes the merged env (two layers set one variable)', async () => {
    const [alpha, beta] = await layers();
    // alpha and beta both set SHARED: the later one wins, so the images differ.
    expect(composeHash(BASE_ID, [alpha!, beta!])).not.toBe(composeHash(BASE_ID, [beta!, alpha!]));
  });

  it('does not run fields together: moving text between name and script changes the tag', async () => {
    const [alpha] = await layers();
    const a = changed(alpha!, (l) => {
      l.manifest.name = 'ab';
      l.script = 'c';
    });
    const b = changed(alpha!, (l) => {
      l.manifest.name = 'a';
      l.script = 'bc';
    });
    expect(composeHash(BASE_ID, [a])).not.toBe(composeHash(BASE_ID, [b]));
  });

  it('is named localhost/mino-composed-<12 hex>:latest', () => {
    expect(composedImageTag('0123456789ab')).toBe('localhost/mino-composed-0123456789ab:latest');
    expect(() => composedImageTag('xyz')).toThrow();
  });

  it('rejects anything but a full image ID as base', () => {
    expect(normalizeImageId(`sha256:${BASE_ID}`)).toBe(BASE_ID);
    expect(() => normalizeImageId('localhost/mino-base:latest')).toThrow(/Invalid base image ID/);
    expect(() => normalizeImageId('aaaaaaaaaaaa')).toThrow(/Invalid base image ID/);
  });
});

describe('needs-build rule and plan', () => {
  it('needs a build only for an install script or root packages', async () => {
    const [alpha, beta, gamma] = await layers();
    expect(needsComposeBuild([gamma!])).toBe(false);
    expect(needsComposeBuild([alpha!])).toBe(true);
    expect(needsComposeBuild([beta!])).toBe(true);
    expect(needsComposeBuild([])).toBe(false);
  });

  it('without a build: the base image, with the layer env passed at run time', async () => {
    const [, , gamma] = await layers();
    const plan = planComposition({ baseImageRef: 'localhost/mino-base:1', baseImageId: BASE_ID, layers: [gamma!] });
    expect(plan).toEqual({
      needsBuild: false,
      image: 'localhost/mino-base:1',
      runtimeEnv: {
        GAMMA: '1',
        MINO_PATH_PREPEND: '/home/developer/.gamma/bin',
        MINO_LAYER_MANIFEST:
          '[{"name":"gamma","runtime":"nvm","runtime_version":"22","npm_globals":["pnpm","@biomejs/biome@1.9.4"]}]',
      },
    });
  });

  it('with a build: tag, context files, labels, and only bootstrap variables at run time', async () => {
    const l = await layers();
    const plan = planComposition({ baseImageRef: 'localhost/mino-base:1', baseImageId: BASE_ID, layers: l });
    if (!plan.needsBuild) throw new Error('expected a build');
    expect(plan.image).toBe(`localhost/mino-composed-${composeHash(BASE_ID, l)}:latest`);
    expect(plan.contextFiles.map((f) => f.name)).toEqual(['Containerfile', 'install-alpha.sh']);
    expect(plan.labels).toEqual({
      'io.mino.composed': '1',
      'io.mino.composed.hash': plan.hash,
      'io.mino.composed.base': `sha256:${BASE_ID}`,
      'io.mino.composed.base-ref': 'localhost/mino-base:1',
      'io.mino.composed.layers': 'alpha@3,beta@1,gamma@2',
    });
    expect(Object.keys(plan.runtimeEnv).sort()).toEqual(['MINO_LAYER_MANIFEST', 'MINO_PATH_PREPEND']);
    expect(JSON.parse(plan.runtimeEnv.MINO_LAYER_MANIFEST!)).toEqual([
      { name: 'beta', runtime: 'uv', runtime_version: '3.12', uv_tools: ['ruff', 'pytest==8.3.0'] },
      { name: 'gamma', runtime: 'nvm', runtime_version: '22', npm_globals: ['pnpm', '@biomejs/biome@1.9.4'] },
    ]);
  });

  it('rejects a base reference that is not an image reference', async () => {
    expect(() => planComposition({ baseImageRef: '--privileged', baseImageId: BASE_ID, layers: [] })).toThrow(
      /Invalid image reference/,
    );
  });
});
