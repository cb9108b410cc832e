import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RunAs } from '../../helpers/run-mino.js';
import { podmanAs } from '../../helpers/sandbox.js';
import { rootlessPrefix } from '../../helpers/test-env.js';

/**
 * A small test image with the host's curl and git (and the libraries they load) on BusyBox, for
 * the HTTPS-rules cases that need a real TLS client and git (GIT-FETCH, domain fronting) where
 * mino-base is not built: the rootless test user's storage. Imported like the busybox test image
 * (no registry here), once; it stays for later runs (label io.mino.test.gitcurl=1).
 */

/** The image's name. */
const GIT_CURL_IMAGE = 'localhost/mino-test-gitcurl:latest';

/** Host programs copied in, with their shared libraries. */
const PROGRAMS = ['/usr/bin/curl', '/usr/bin/git', '/usr/lib/git-core/git-remote-http'];

function run(argv: string[], input?: Buffer): Buffer {
  const r = spawnSync(argv[0]!, argv.slice(1), { input, maxBuffer: 512 * 1024 * 1024, cwd: '/' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** The shared libraries `program` loads (ldd), the dynamic loader included. */
function libraries(program: string): string[] {
  return run(['ldd', program])
    .toString()
    .split('\n')
    .map((l) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
}

function copyIn(root: string, path: string): void {
  const to = join(root, path);
  mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
  if (!existsSync(to)) copyFileSync(path, to);
  chmodSync(to, 0o755);
}

/** Builds the image for `as` unless it is there; returns its name. */
export function ensureGitCurlImage(as: RunAs): string {
  if (podmanAs(as, ['image', 'exists', GIT_CURL_IMAGE]).status === 0) return GIT_CURL_IMAGE;
  for (const p of [...PROGRAMS, '/bin/busybox'])
    if (!existsSync(p)) throw new Error(`${p} is missing: the HTTPS-rules tests need git, curl and busybox-static`);
  const root = mkdtempSync(join(tmpdir(), 'mino-test-gitcurl-'));
  try {
    chmodSync(root, 0o755);
    for (const d of ['bin', 'etc', 'tmp', 'root', 'home/developer', 'workspace'])
      mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
    chmodSync(join(root, 'tmp'), 0o1777);
    copyIn(root, '/bin/busybox');
    for (const applet of run(['/bin/busybox', '--list']).toString().split('\n'))
      if (applet && applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
    for (const program of PROGRAMS) {
      copyIn(root, program);
      for (const lib of libraries(program)) copyIn(root, lib);
    }
    // git runs its helpers from its exec path; https is http's other name.
    symlinkSync('../../bin/git', join(root, 'usr/lib/git-core/git'));
    symlinkSync('git-remote-http', join(root, 'usr/lib/git-core/git-remote-https'));
    writeFileSync(
      join(root, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\ndeveloper:x:1000:1000:developer:/home/developer:/bin/sh\n',
    );
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\ndeveloper:x:1000:\n');
    const tar = run(['tar', '-C', root, '-c', '-f', '-', '.']);
    const prefix = as === 'rootless' ? rootlessPrefix() : [];
    run(
      [
        ...prefix,
        'podman',
        'import',
        '-q',
        '--change',
        'CMD ["/bin/sh"]',
        '--change',
        'LABEL io.mino.test.gitcurl=1',
        '-',
        GIT_CURL_IMAGE,
      ],
      tar,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return GIT_CURL_IMAGE;
}
