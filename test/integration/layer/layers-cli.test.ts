import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedXdg, runMino } from '../../helpers/run-mino.js';
import { REPO_ROOT } from '../../helpers/test-env.js';

/** `mino layers list` from the built CLI (no podman needed). */

let project: string;
let xdg: ReturnType<typeof isolatedXdg>;

function layer(root: string, name: string, description: string, body = ''): void {
  mkdirSync(join(root, name), { recursive: true });
  writeFileSync(
    join(root, name, 'layer.toml'),
    `[layer]\nname = "${name}"\ndescription = "${description}"\nversion = "7"\n${body}`,
  );
  writeFileSync(join(root, name, 'install.sh'), '#!/bin/sh\ntrue\n');
}

describe('mino layers list', () => {
  beforeAll(() => {
    project = realpathSync(mkdtempSync(join(tmpdir(), 'mino-layers-cli-')));
    xdg = isolatedXdg();
    layer(join(project, '.mino', 'layers'), 'typescript', 'project typescript');
    layer(join(xdg.XDG_CONFIG_HOME, 'mino', 'layers'), 'mytools', 'my tools');
    layer(join(project, '.mino', 'layers'), 'broken', 'x', '[env]\nBAD = "a\\nb"\n');
  });

  afterAll(() => {
    rmSync(project, { recursive: true, force: true });
    rmSync(xdg.root, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => ({
    XDG_CONFIG_HOME: xdg.XDG_CONFIG_HOME,
    XDG_DATA_HOME: xdg.XDG_DATA_HOME,
    XDG_STATE_HOME: xdg.XDG_STATE_HOME,
  });

  it('prints a table of project, user and built-in layers, marking shadowed and broken ones', async () => {
    const r = await runMino(['layers', 'list'], { cwd: project, env: env() });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const rows = r.stdout.split('\n');
    expect(rows[0]).toMatch(/^NAME\s+VERSION\s+SOURCE\s+DESCRIPTION\s+DIRECTORY$/);
    expect(rows.find((l) => l.startsWith('broken'))).toContain('error: env.BAD: must not contain newlines');
    expect(rows.find((l) => l.startsWith('mytools'))).toMatch(/^mytools\s+7\s+user\s+my tools/);
    expect(rows.find((l) => /^typescript .*built-in/.test(l))).toContain('built-in (shadowed by project)');
    expect(rows.find((l) => /^typescript .*project/.test(l))).toContain(join(project, '.mino', 'layers', 'typescript'));
    expect(r.stdout).toContain('Aliases: ts → typescript');
  });

  it('prints JSON with -f json, also as `mino layers` from another directory with -p', async () => {
    const r = await runMino(['layers', '-f', 'json', '-p', project], { cwd: '/', env: env() });
    expect(r.exitCode).toBe(0);
    const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(list.map((l) => `${String(l.name)}:${String(l.source)}:${String(l.shadowed)}`)).toEqual([
      'broken:project:false',
      'typescript:project:false',
      'mytools:user:false',
      'python:built-in:false',
      'rust:built-in:false',
      'typescript:built-in:true',
    ]);
    expect(list[5]).toMatchObject({
      directory: join(REPO_ROOT, 'layers', 'typescript'),
      shadowed_by: 'project',
      version: '1',
      error: null,
    });
  });

  it('rejects an unknown format with exit code 2', async () => {
    const r = await runMino(['layers', 'list', '-f', 'yaml'], { cwd: project, env: env() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe("Error: Invalid format 'yaml'\nHint: Use --format table or json\n");
  });
});
