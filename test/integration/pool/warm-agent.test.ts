import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { runMino } from '../../helpers/run-mino.js';
import { IS_ROOT, TEST_IMAGE } from '../../helpers/test-env.js';
import { MODES, Sandbox, buildContext, buildTestImage, hex, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import { runMinoArgv } from '../../helpers/terminal.js';
import { minoPid, sandboxContainers, waitForPool, writePoolConfig } from './pool-helpers.js';
import { writeFileSync } from 'node:fs';

requirePrerequisites();

/**
 * Warm runs through the in-container agent (no podman call), rootful and rootless. The image is
 * the busybox test image with a `node` that starts this machine's Node binary, mounted read-only
 * with its libraries (an image with Node of its own, as mino-base, is the real case; this one
 * builds in a second).
 */
const NODE_SHIM =
  '#!/bin/sh\nexec /opt/host/lib/ld-linux-x86-64.so.2 --library-path /opt/host/lib /opt/host/node "$@"\n';

function buildNodeImage(as: 'self' | 'rootless'): string {
  const dir = buildContext();
  writeFileSync(join(dir, 'node'), NODE_SHIM, { mode: 0o755 });
  return buildTestImage(as, dir, `localhost/mino-composed-7e57${hex(8)}:latest`, [
    `FROM ${TEST_IMAGE}`,
    'COPY node /usr/local/bin/node',
    'RUN chmod 0755 /usr/local/bin/node && chown -R 1000:1000 /home/developer',
    'USER developer',
  ]);
}

/** Trace lines of programs mino started. */
function started(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /^mino-trace .* (exec|exec attached) {2}podman /.test(l));
}

for (const as of MODES) {
  describe(`warm run through the agent [${modeLabel(as)}]`, () => {
    const sandbox = new Sandbox(as);
    let image = '';
    let project = '';
    beforeAll(() => {
      image = buildNodeImage(as);
      project = sandbox.project('proj');
      writePoolConfig(sandbox, { warm_ttl: 300 });
    });
    afterAll(async () => {
      await sandbox.mino(['pool', 'drain']);
      sandbox.cleanup();
    });

    const flags = (): string[] => [
      '-p',
      project,
      '--network',
      'none',
      '--no-home',
      '--image',
      image,
      '--allow-system-paths',
      '--volume',
      '/usr/lib/x86_64-linux-gnu:/opt/host/lib:ro',
      '--volume',
      `${process.execPath}:/opt/host/node:ro`,
    ];
    /** Warms the pool to one container and waits until its agent listens (the dry run says so). */
    const warmOne = async (): Promise<void> => {
      const warm = await sandbox.mino(['pool', 'warm', '-n', '1', ...flags()]);
      expect(warm.exitCode, warm.stderr).toBe(0);
      await waitForPool(sandbox, (s) => s.warm_total === 1);
      for (let i = 0; ; i++) {
        const dry = await sandbox.mino(['run', '--dry-run', ...flags(), '--', 'true']);
        if (/through its agent \(no podman call\)/.test(dry.stdout)) return;
        if (i > 40) throw new Error(`the agent did not start: ${dry.stdout.split('\n').pop()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };

    it('runs the command with no podman call: stdin, stdout, stderr, exit code; 127 as cold', async () => {
      await warmOne();
      const r = await runMino(
        ['run', '--trace', ...flags(), '--', 'sh', '-c', 'read l; echo "got:$l"; echo err >&2; exit 5'],
        {
          as,
          env: sandbox.env,
          input: 'hello\n',
        },
      );
      expect(r.exitCode, r.stderr).toBe(5);
      expect(r.stdout).toBe('got:hello\n');
      expect(r.stderr).toMatch(/^err$/m);
      expect(r.stderr).toMatch(/agent exit {2}code 5/);
      expect(started(r.stderr).filter((l) => / podman (run|exec) /.test(l))).toEqual([]);

      await warmOne();
      const missing = await runMino(['run', '--trace', ...flags(), '--', 'no-such-tool'], { as, env: sandbox.env });
      expect(missing.exitCode).toBe(127);
      expect(missing.stderr).toMatch(/^Error: command not found in the image: no-such-tool\nHint: /m);
      expect(missing.stderr).toMatch(/agent exit {2}code 127/);
    });

    it('mino exec goes through the session agent; a SIGINT to mino reaches the command: 130', async () => {
      await warmOne();
      const argv = runMinoArgv(sandbox, [
        'run',
        '--trace',
        '-n',
        'agent-exec',
        ...flags(),
        '--',
        'sh',
        '-c',
        'echo ready; exec sleep 300',
      ]);
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      await new Promise<void>((resolve) =>
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('ready')) resolve();
        }),
      );
      const exec = await runMino(['exec', '--trace', 'agent-exec', '--', 'sh', '-c', 'echo "in $(hostname)"; exit 3'], {
        as,
        env: sandbox.env,
      });
      expect(exec.exitCode, exec.stderr).toBe(3);
      expect(exec.stdout).toMatch(/^in [0-9a-f]{12}\n$/);
      expect(exec.stderr).toMatch(/agent exit {2}code 3/);
      expect(started(exec.stderr)).toEqual([]);
      process.kill(as === 'rootless' && IS_ROOT ? minoPid(child.pid!) : child.pid!, 'SIGINT');
      const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
      expect({ code, out }).toEqual({ code: 130, out: 'ready\n' });
      expect(err).toMatch(/agent signal {2}SIGINT/);
    });

    it('a stale socket (the agent is gone) falls back: the command runs once, cold', async () => {
      await warmOne();
      const warm = sandboxContainers(sandbox).find((c) => c.name.startsWith('mino.warm.'))!;
      // The agent dies without removing its socket; the container goes with it (--rm).
      expect(podmanAs(as, ['kill', '-s', 'KILL', warm.id]).status).toBe(0);
      const r = await runMino(['run', '--trace', ...flags(), '--', 'sh', '-c', 'echo ran >> ran.txt; exit 6'], {
        as,
        env: sandbox.env,
      });
      expect(r.exitCode, r.stderr).toBe(6);
      expect(readFileSync(join(project, 'ran.txt'), 'utf8')).toBe('ran\n');
      expect(r.stderr).toMatch(/warm run through the agent done .*unavailable/);
      expect(r.stderr).toMatch(/exec attached {2}podman run /);
    });
  });
}
