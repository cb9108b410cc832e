import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { MODES, Sandbox, buildMinoLikeImage, modeLabel } from '../../helpers/sandbox.js';
import { TEST_IMAGE } from '../../helpers/test-env.js';

requirePrerequisites();

/**
 * A command that cannot run exits like a shell (127 not found, 126 not executable) with mino's
 * `Error:` line, in images with mino-base's entrypoint (mino-base and every composed image; here a
 * busybox image with that entrypoint): the init process alone would say "failed to exec pid1" and
 * exit 1.
 */
for (const as of MODES) {
  describe(`commands that cannot run [${modeLabel(as)}]`, () => {
    const sandbox = new Sandbox(as);
    let image = '';
    let project = '';
    beforeAll(() => {
      image = buildMinoLikeImage(as, { entrypoint: true });
      project = sandbox.project('proj');
    });
    afterAll(() => sandbox.cleanup());

    const run = (args: string[]) =>
      sandbox.mino(['run', '-p', project, '--network', 'none', '--no-home', '--image', image, ...args]);

    it('a missing command exits 127 with "command not found in the image"', async () => {
      const r = await run(['--', 'nonexistent-cmd', '--flag']);
      expect(r.exitCode).toBe(127);
      expect(r.stderr).toMatch(/^Error: command not found in the image: nonexistent-cmd\nHint: /m);
      expect(r.stderr).not.toMatch(/failed to exec pid1/);
    });

    it('a missing path exits 127, a file that is not executable 126', async () => {
      const missing = await run(['--', '/no/such/tool']);
      expect(missing.exitCode).toBe(127);
      expect(missing.stderr).toMatch(/^Error: command not found in the image: \/no\/such\/tool$/m);
      const notExec = await run(['--', '/etc/passwd']);
      expect(notExec.exitCode).toBe(126);
      expect(notExec.stderr).toMatch(/^Error: command is not executable in the image: \/etc\/passwd$/m);
    });

    it('a command that runs keeps its own exit code, 127 and 126 included', async () => {
      expect(await run(['--', 'sh', '-c', 'echo fine; exit 5'])).toMatchObject({ exitCode: 5, stdout: 'fine\n' });
      const own = await run(['--', 'sh', '-c', 'exit 127']);
      expect(own.exitCode).toBe(127);
      expect(own.stderr).not.toMatch(/Error:/);
    });
  });
}

/**
 * The same for an image without mino's entrypoint (the busybox test image), cold: podman's --init
 * (catatonit) ended with 1 when it could not execute the command; a pooled run (the pool's exec
 * wrapper) said 127/126. mino reads catatonit's line and answers as a shell would.
 */
for (const as of MODES) {
  describe(`commands that cannot run, image without mino's entrypoint [${modeLabel(as)}]`, () => {
    const sandbox = new Sandbox(as);
    let project = '';
    beforeAll(() => {
      project = sandbox.project('proj');
    });
    afterAll(() => sandbox.cleanup());

    const run = (args: string[]) =>
      sandbox.mino(['run', '--fresh', '-p', project, '--network', 'none', '--no-home', '--image', TEST_IMAGE, ...args]);

    it("a missing command exits 127, a path that cannot be executed 126, with mino's messages instead of catatonit's", async () => {
      const missing = await run(['--', 'nonexistent-cmd']);
      expect(missing.exitCode).toBe(127);
      expect(missing.stderr).toMatch(/^Error: command not found in the image: nonexistent-cmd\nHint: /m);
      expect(missing.stderr).not.toMatch(/catatonit/);
      const missingPath = await run(['--', '/no/such/tool']);
      expect(missingPath.exitCode).toBe(127);
      const notExec = await run(['--', '/etc/passwd']);
      expect(notExec.exitCode).toBe(126);
      expect(notExec.stderr).toMatch(/^Error: command is not executable in the image: \/etc\/passwd$/m);
    });

    it("a command's own exit 1 and its stderr are its own", async () => {
      const r = await run(['--', 'sh', '-c', 'echo to-err >&2; exit 1']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/^to-err$/m);
      expect(r.stderr).not.toMatch(/^Error:/m);
    });
  });
}
