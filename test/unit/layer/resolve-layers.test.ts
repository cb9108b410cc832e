import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MinoError } from '../../../src/common/errors.js';
import { builtinLayersDir } from '../../../src/image/layers-dir.js';
import {
  listLayers,
  resolveLayer,
  resolveLayers,
  scriptHasContent,
  type LayerDirs,
} from '../../../src/layer/resolve-layers.js';
import { BUILTIN_DIR, FIXTURES } from './fixtures.js';

let root: string;
let dirs: LayerDirs;

/** Writes a layer directory with a layer.toml naming it and an optional install.sh. */
function writeLayer(
  base: string,
  name: string,
  description: string,
  script: string | null = '#!/bin/sh\necho hi\n',
): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'layer.toml'), `[layer]\nname = "${name}"\ndescription = "${description}"\nversion = "1"\n`);
  if (script !== null) writeFileSync(join(dir, 'install.sh'), script);
  return dir;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mino-layers-'));
  const builtinDir = join(root, 'builtin');
  cpSync(BUILTIN_DIR, builtinDir, { recursive: true });
  mkdirSync(join(builtinDir, 'base'), { recursive: true }); // the base image definition is not a layer
  writeFileSync(join(builtinDir, 'base', 'Containerfile'), 'FROM scratch\n');
  dirs = { projectDir: join(root, 'project'), configDir: join(root, 'config'), builtinDir };
  mkdirSync(dirs.projectDir!, { recursive: true });
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

const projectLayers = (): string => join(dirs.projectDir!, '.mino', 'layers');
const userLayers = (): string => join(dirs.configDir, 'layers');

describe('layer resolution', () => {
  it('finds built-in layers', async () => {
    const l = await resolveLayer('python', dirs);
    expect(l.source).toBe('built-in');
    expect(l.manifest.rootPackages).toEqual(['python3']);
    expect(l.script).toContain('mino-install-packages python3-pip');
  });

  it('prefers a user layer to a built-in one, and a project layer to both', async () => {
    writeLayer(userLayers(), 'typescript', 'user ts');
    expect((await resolveLayer('typescript', dirs)).source).toBe('user');
    writeLayer(projectLayers(), 'typescript', 'project ts');
    const l = await resolveLayer('typescript', dirs);
    expect(l.source).toBe('project');
    expect(l.manifest.description).toBe('project ts');
    expect(l.dir).toBe(join(projectLayers(), 'typescript'));
  });

  it.each([
    ['ts', 'typescript'],
    ['node', 'typescript'],
    ['py', 'python'],
    ['cargo', 'rust'],
  ])('resolves the alias %s to %s', async (alias, name) => {
    expect((await resolveLayer(alias, dirs)).manifest.name).toBe(name);
  });

  it('lets a project layer override a built-in through its alias too', async () => {
    writeLayer(projectLayers(), 'typescript', 'project ts');
    expect((await resolveLayer('ts', dirs)).source).toBe('project');
  });

  it('uses a layer literally named like an alias before the alias', async () => {
    writeLayer(projectLayers(), 'ts', 'my ts');
    expect((await resolveLayer('ts', dirs)).manifest.description).toBe('my ts');
  });

  it('keeps --layers order and drops a layer requested twice', async () => {
    const layers = await resolveLayers(['rust', 'ts', 'typescript', 'rust'], dirs);
    expect(layers.map((l) => l.manifest.name)).toEqual(['rust', 'typescript']);
  });

  it.each(['../etc', 'a/b', '', '-rf', '.hidden', 'x'.repeat(65)])(
    'rejects the name %j before touching the filesystem',
    async (name) => {
      await expect(resolveLayer(name, dirs)).rejects.toMatchObject({
        exitCode: 2,
        message: expect.stringMatching(/Invalid layer name/),
      });
    },
  );

  it('names the available layers and where to create one when not found', async () => {
    writeLayer(userLayers(), 'mytools', 'mine');
    const err = await resolveLayer('nope', dirs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MinoError);
    expect((err as MinoError).message).toBe("Layer 'nope' not found");
    expect((err as MinoError).hint).toContain('mytools, python, rust, typescript');
    expect((err as MinoError).hint).toContain(join(projectLayers(), 'nope'));
    expect((err as MinoError).hint).not.toContain('base');
  });

  it('does not treat the built-in base image directory as a layer', async () => {
    await expect(resolveLayer('base', dirs)).rejects.toThrow("Layer 'base' not found");
  });

  it('requires layer.name to match the directory', async () => {
    const dir = writeLayer(projectLayers(), 'mine', 'x');
    writeFileSync(join(dir, 'layer.toml'), '[layer]\nname = "typescript"\ndescription = "d"\nversion = "1"\n');
    await expect(resolveLayer('mine', dirs)).rejects.toThrow(
      /layer\.name: is 'typescript' but the layer directory is 'mine'/,
    );
  });

  it('requires install.sh unless the layer has root or user installs', async () => {
    writeLayer(projectLayers(), 'noscript', 'x', null);
    await expect(resolveLayer('noscript', dirs)).rejects.toThrow(/has no install\.sh/);
    const dir = join(FIXTURES, 'layers');
    const withUser = await resolveLayer('gamma', { configDir: join(root, 'none'), builtinDir: dir });
    expect(withUser.script).toBeUndefined();
  });

  it('complains about a project layer directory without layer.toml', async () => {
    mkdirSync(join(projectLayers(), 'empty'), { recursive: true });
    await expect(resolveLayer('empty', dirs)).rejects.toThrow(/has no layer\.toml/);
  });

  it('treats a script of comments and blank lines as no script', async () => {
    writeLayer(projectLayers(), 'comments', 'x', '#!/bin/sh\n# nothing yet\n\n   \n');
    const dir = join(projectLayers(), 'comments');
    writeFileSync(
      join(dir, 'layer.toml'),
      '[layer]\nname = "comments"\ndescription = "d"\nversion = "1"\n[user_install]\nruntime = "uv"\n',
    );
    expect((await resolveLayer('comments', dirs)).script).toBeUndefined();
    expect(scriptHasContent('#!/bin/sh\n  echo x\n')).toBe(true);
  });

  it('finds the repository layers from the sources', () => {
    expect(builtinLayersDir({})).toBe(BUILTIN_DIR);
  });
});

describe('listing layers', () => {
  it('lists every root, marks shadowed layers and broken ones', async () => {
    writeLayer(projectLayers(), 'typescript', 'project ts');
    writeLayer(userLayers(), 'typescript', 'user ts');
    writeLayer(userLayers(), 'mytools', 'my tools');
    const broken = writeLayer(projectLayers(), 'broken', 'x');
    writeFileSync(join(broken, 'layer.toml'), '[layer]\nname = "broken"\n');
    const list = await listLayers(dirs);
    const summary = list.map((l) => [l.name, l.source, l.shadowedBy ?? '', l.error ? 'error' : '']);
    expect(summary).toEqual([
      ['broken', 'project', '', 'error'],
      ['typescript', 'project', '', ''],
      ['mytools', 'user', '', ''],
      ['typescript', 'user', 'project', ''],
      ['python', 'built-in', '', ''],
      ['rust', 'built-in', '', ''],
      ['typescript', 'built-in', 'project', ''],
    ]);
    expect(list.find((l) => l.name === 'broken')?.error).toMatch(/layer\.description: is required/);
    expect(list.find((l) => l.name === 'rust')).toMatchObject({ version: '1', dir: join(dirs.builtinDir, 'rust') });
  });

  it('lists only built-ins outside a project with no user layers', async () => {
    const list = await listLayers({ configDir: join(root, 'nowhere'), builtinDir: dirs.builtinDir });
    expect(list.map((l) => l.name)).toEqual(['python', 'rust', 'typescript']);
  });
});
