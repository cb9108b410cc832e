import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MinoError } from '../../../src/common/errors.js';
import { hasUserInstall, parseLayerManifest } from '../../../src/layer/layer-manifest.js';
import { BUILTIN_DIR, FIXTURES } from './fixtures.js';

describe('layer.toml parsing', () => {
  it('reads every section of a full manifest', async () => {
    const file = join(FIXTURES, 'layers', 'beta', 'layer.toml');
    const m = await parseLayerManifest(file, readFileSync(file, 'utf8'), 'beta');
    expect(m).toEqual({
      name: 'beta',
      description: 'Fixture layer with root packages and user installs',
      version: '1',
      env: { SHARED: 'from-beta', EMPTY: '' },
      pathPrepend: ['/cache/shared/bin', '/home/developer/.beta/bin'],
      cachePaths: [],
      rootPackages: ['python3', 'libfoo-dev', 'g++'],
      userInstall: {
        runtime: 'uv',
        runtime_version: '3.12',
        npm_globals: [],
        cargo_tools: [],
        uv_tools: ['ruff', 'pytest==8.3.0'],
      },
    });
    expect(hasUserInstall(m)).toBe(true);
  });

  it('keeps env values with quotes, dollars and backslashes as written', async () => {
    const file = join(FIXTURES, 'layers', 'alpha', 'layer.toml');
    const m = await parseLayerManifest(file, readFileSync(file, 'utf8'), 'alpha');
    expect(m.env.GREETING).toBe('hello $USER "quoted" back\\slash');
    expect(Object.keys(m.env)).toEqual(['ALPHA_HOME', 'SHARED', 'GREETING']);
    expect(hasUserInstall(m)).toBe(false);
  });

  it.each(['typescript', 'python', 'rust'])('accepts the built-in %s layer', async (name) => {
    const file = join(BUILTIN_DIR, name, 'layer.toml');
    const m = await parseLayerManifest(file, readFileSync(file, 'utf8'), name);
    expect(m.name).toBe(name);
    // Caches point at /cache, as in mino 1.6's layers.
    expect(Object.values(m.env).some((v) => v.startsWith('/cache/'))).toBe(true);
  });

  it('rejects a manifest larger than 64 KiB', async () => {
    const text = `[layer]\nname = "x"\ndescription = "${'d'.repeat(70_000)}"\nversion = "1"\n`;
    await expect(parseLayerManifest('/l/x/layer.toml', text, 'x')).rejects.toThrow(/larger than 64 KiB/);
  });
});

describe('hostile layer.toml files are rejected, naming the file and the key', () => {
  const dir = join(FIXTURES, 'hostile');
  const cases = readdirSync(dir)
    .filter((f) => f.endsWith('.toml'))
    .sort();

  it('has the hostile fixtures', () => {
    expect(cases.length).toBeGreaterThan(20);
  });

  it.each(cases)('%s', async (name) => {
    const file = join(dir, name);
    const text = readFileSync(file, 'utf8');
    const expected = /^# expect: (.*)$/m.exec(text)?.[1];
    expect(expected).toBeDefined();
    const err = await parseLayerManifest(file, text, 'x').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MinoError);
    const message = (err as MinoError).message;
    expect(message).toContain(file);
    expect(message).toContain(expected!);
    // The message is one line: nothing from the file smuggles a newline into the terminal.
    expect(message).not.toContain('\n');
    expect((err as MinoError).hint).toMatch(/layer\.toml/);
  });
});
