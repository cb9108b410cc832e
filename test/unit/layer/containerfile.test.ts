import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerfileQuote, generateContainerfile, rootInstallScript } from '../../../src/layer/containerfile.js';
import type { ResolvedLayer } from '../../../src/layer/resolve-layers.js';
import { BASE_ID, FIXTURES, builtinLayer, changed, fixtureLayer } from './fixtures.js';

const GOLDEN = join(FIXTURES, 'containerfile');

/** Compares with a golden file; UPDATE_GOLDEN=1 rewrites it (review the diff). */
function expectGolden(name: string, text: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

describe('generated Containerfile', () => {
  it('matches the golden file for alpha,beta,gamma (script, root packages, user-install only)', async () => {
    const layers = [await fixtureLayer('alpha'), await fixtureLayer('beta'), await fixtureLayer('gamma')];
    expectGolden(
      'alpha-beta-gamma.Containerfile',
      generateContainerfile({ baseImageRef: 'localhost/mino-base:test', baseImageId: BASE_ID, layers }),
    );
  });

  it('matches the golden file for the built-in layers', async () => {
    const layers = [await builtinLayer('rust'), await builtinLayer('typescript'), await builtinLayer('python')];
    expectGolden(
      'builtins.Containerfile',
      generateContainerfile({ baseImageRef: 'localhost/mino-base:test', baseImageId: `sha256:${BASE_ID}`, layers }),
    );
  });

  it('installs scripts in --layers order and merges env last-wins', async () => {
    const ab = generateContainerfile({
      baseImageRef: 'b:1',
      baseImageId: BASE_ID,
      layers: [await fixtureLayer('alpha'), await fixtureLayer('beta')],
    });
    const ba = generateContainerfile({
      baseImageRef: 'b:1',
      baseImageId: BASE_ID,
      layers: [await fixtureLayer('beta'), await fixtureLayer('alpha')],
    });
    expect(ab).toContain('ENV SHARED=from-beta');
    expect(ba).toContain('ENV SHARED=from-alpha');
    // PATH keeps the first occurrence of each directory, layers ordered by name (same set, same PATH).
    expect(ab).toContain('ENV PATH="/opt/alpha/bin:/cache/shared/bin:/home/developer/.beta/bin:${PATH}"');
    expect(ba).toContain('ENV PATH="/opt/alpha/bin:/cache/shared/bin:/home/developer/.beta/bin:${PATH}"');
    // Scripts run in --layers order.
    const scripted = changed(await fixtureLayer('beta'), (l) => {
      l.script = '#!/bin/sh\necho beta\n';
    });
    const alpha = await fixtureLayer('alpha');
    const first = (layers: ResolvedLayer[]): number => {
      const text = generateContainerfile({ baseImageRef: 'b:1', baseImageId: BASE_ID, layers });
      return Math.sign(text.indexOf('# Layer: alpha') - text.indexOf('# Layer: beta'));
    };
    expect(first([alpha, scripted])).toBe(-1);
    expect(first([scripted, alpha])).toBe(1);
  });

  it('skips layers without a script and leaves FROM as the image ID', async () => {
    const text = generateContainerfile({
      baseImageRef: 'localhost/mino-base:x',
      baseImageId: BASE_ID,
      layers: [await fixtureLayer('gamma')],
    });
    expect(text).not.toContain('# Layer: gamma');
    expect(text).toMatch(new RegExp(`^FROM ${BASE_ID}$`, 'm'));
  });
});

describe('containerfileQuote', () => {
  it.each([
    ['/cache/cargo', '/cache/cargo'],
    ['development', 'development'],
    ['', '""'],
    ['a b', '"a b"'],
    ['$HOME/x', '"\\$HOME/x"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ["it's", '"it\'s"'],
  ])('%j → %s', (value, quoted) => {
    expect(containerfileQuote(value)).toBe(quoted);
  });
});

describe('root package install snippet', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mino-rootinstall-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the snippet with only the given fake package managers on PATH; returns their calls. */
  function run(managers: string[], packages: string[]): { calls: string; code: number } {
    const bin = mkdtempSync(join(dir, 'bin-'));
    const log = join(bin, 'calls.log');
    symlinkSync('/bin/rm', join(bin, 'rm'));
    for (const m of managers) {
      writeFileSync(join(bin, m), `#!/bin/sh\necho "${m} $*" >> ${log}\n`);
      chmodSync(join(bin, m), 0o755);
    }
    // The snippet as the builder runs it: backslash-newline joined into one `sh -c` line.
    const script = rootInstallScript(packages).replace(/\\\n/g, '');
    let code = 0;
    try {
      execFileSync('/bin/sh', ['-c', script], { env: { PATH: bin }, stdio: 'pipe' });
    } catch (err) {
      code = (err as { status: number }).status;
    }
    let calls = '';
    try {
      calls = readFileSync(log, 'utf8');
    } catch {
      calls = '';
    }
    return { calls, code };
  }

  it('uses apt-get when the image has it', () => {
    const r = run(['apt-get', 'dnf'], ['python3', 'g++']);
    expect(r.code).toBe(0);
    expect(r.calls).toBe('apt-get update\napt-get install -y --no-install-recommends python3 g++\n');
  });

  it('uses dnf when there is no apt-get', () => {
    const r = run(['dnf'], ['python3']);
    expect(r.calls).toBe('dnf install -y --setopt=install_weak_deps=False python3\ndnf clean all\n');
  });

  it('uses apk on Alpine', () => {
    expect(run(['apk'], ['python3']).calls).toBe('apk add --no-cache python3\n');
  });

  it('fails clearly without a package manager', () => {
    const r = run([], ['python3']);
    expect(r.code).toBe(1);
    expect(r.calls).toBe('');
  });
});
