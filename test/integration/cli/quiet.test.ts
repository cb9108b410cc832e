import { chownSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { isolatedXdg, runMino } from '../../helpers/run-mino.js';
import { IS_ROOT, TEST_IMAGE } from '../../helpers/test-env.js';

requirePrerequisites();

/** `-q/--quiet`: mino's notices go, warnings and errors stay, the command's output is untouched. */
describe.runIf(IS_ROOT)('quiet mode [rootful]', () => {
  const xdg = isolatedXdg();
  const project = join(xdg.root, 'quiet-project');
  mkdirSync(project);
  // Owned by a normal user: container root is that user (as a developer's checkout on a server).
  chownSync(project, 1500, 1500);
  const env = {
    XDG_CONFIG_HOME: xdg.XDG_CONFIG_HOME,
    XDG_STATE_HOME: xdg.XDG_STATE_HOME,
    XDG_DATA_HOME: xdg.XDG_DATA_HOME,
    MINO_IMAGE: TEST_IMAGE,
  };
  const mino = (args: string[]): ReturnType<typeof runMino> => runMino(args, { env, cwd: project });
  afterAll(async () => {
    await mino(['stop', '-f', 'quiet-a']).catch(() => undefined);
    await mino(['stop', '-f', 'quiet-b']).catch(() => undefined);
    await mino(['gc']);
    rmSync(xdg.root, { recursive: true, force: true });
  });

  it('detached start and stop print nothing with -q (after the subcommand), the usual notices without', async () => {
    const start = await mino([
      'run',
      '-q',
      '-d',
      '-n',
      'quiet-a',
      '--network',
      'none',
      '--no-home',
      '--',
      'sleep',
      '60',
    ]);
    expect(start.exitCode).toBe(0);
    expect(start.stderr).toBe('');
    const stop = await mino(['stop', '-q', 'quiet-a']);
    expect(stop.exitCode).toBe(0);
    expect(stop.stderr).toBe('');

    const loud = await mino(['run', '-d', '-n', 'quiet-b', '--network', 'none', '--no-home', '--', 'sleep', '60']);
    expect(loud.stderr).toContain('Session quiet-b started');
    const loudStop = await mino(['stop', 'quiet-b']);
    expect(loudStop.stderr).toMatch(/Session quiet-b stopped/);
  });

  it('keeps warnings and the command output with -q (before the subcommand)', async () => {
    const r = await mino(['-q', 'run', '--network', 'none', '--no-home', '-e', 'API_TOKEN=x', '--', 'echo', 'out']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toMatch(/^Warning: API_TOKEN looks like a secret/);
  });
});
