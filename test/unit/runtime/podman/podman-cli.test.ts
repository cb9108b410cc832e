import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../../../../src/common/exec.js';
import type { Host, HostCommand } from '../../../../src/host/host.js';
import { PodmanCli, storeArgs } from '../../../../src/runtime/podman/podman-cli.js';

/** A host that runs `sh`/`printf` locally, so the command lines PodmanCli builds can be seen. */
class EchoHost implements Host {
  readonly name = 'echo';
  seen: string[][] = [];
  command(argv: readonly string[]): HostCommand {
    this.seen.push([...argv]);
    // Print the argv instead of running podman.
    return { argv: ['printf', '%s\\n', ...argv], env: undefined };
  }
  run(): Promise<ExecResult> {
    throw new Error('not used');
  }
}

describe('storeArgs', () => {
  it('selects another store with the global flags, or none for the default store', () => {
    expect(storeArgs(undefined)).toEqual([]);
    expect(storeArgs({ graphRoot: '/s/root', runRoot: '/run/user/1000/s', driver: 'overlay' })).toEqual([
      '--root',
      '/s/root',
      '--runroot',
      '/run/user/1000/s',
      '--storage-driver',
      'overlay',
    ]);
  });

  it("gives a store with a tmpDir libpod's own tmp dir (--tmpdir)", () => {
    expect(
      storeArgs({
        graphRoot: '/s/root',
        runRoot: '/run/user/1000/m/storage',
        tmpDir: '/run/user/1000/m/libpod',
        driver: 'overlay',
      }),
    ).toEqual([
      '--root',
      '/s/root',
      '--runroot',
      '/run/user/1000/m/storage',
      '--tmpdir',
      '/run/user/1000/m/libpod',
      '--storage-driver',
      'overlay',
    ]);
    expect(() => storeArgs({ graphRoot: '/g', runRoot: '/r', tmpDir: 'tmp', driver: 'overlay' })).toThrow(
      /not an absolute path/,
    );
  });

  it('refuses relative paths, option-like drivers and paths podman would split', () => {
    expect(() => storeArgs({ graphRoot: 'rel', runRoot: '/r', driver: 'vfs' })).toThrow(/not an absolute path/);
    expect(() => storeArgs({ graphRoot: '/g', runRoot: '/r', driver: '--help' })).toThrow(/invalid storage driver/);
    expect(() => storeArgs({ graphRoot: '/g:x', runRoot: '/r', driver: 'vfs' })).toThrow(/contains ':'/);
  });
});

describe('PodmanCli', () => {
  it('puts the store flags before the subcommand of every podman call', async () => {
    const host = new EchoHost();
    const cli = new PodmanCli(host, { graphRoot: '/g', runRoot: '/r', driver: 'vfs' });
    expect(await cli.ok(['images', '--format', 'json'])).toBe(
      'podman\n--root\n/g\n--runroot\n/r\n--storage-driver\nvfs\nimages\n--format\njson\n',
    );
    expect(cli.hostArgv(['unshare', 'du'])).toEqual([
      'podman',
      '--root',
      '/g',
      '--runroot',
      '/r',
      '--storage-driver',
      'vfs',
      'unshare',
      'du',
    ]);
  });

  it('limits a call with `timeout` on the podman host', async () => {
    const host = new EchoHost();
    const cli = new PodmanCli(host, undefined);
    const result = await cli.captureWithin(['pull', '-q', 'x'], 1500);
    expect(host.seen).toEqual([['timeout', '2', 'podman', 'pull', '-q', 'x']]);
    expect(result.timedOut).toBe(false);
  });

  it('hands input to podman through a fixed pipe adapter, never in an argv', async () => {
    const host = new EchoHost();
    const cli = new PodmanCli(host, undefined);
    await cli.withPipedInput(['secret', 'create', 'name', '-'], 's3cr3t');
    expect(host.seen).toEqual([['sh', '-c', 'cat | exec "$@"', 'sh', 'podman', 'secret', 'create', 'name', '-']]);
    expect(host.seen.flat().join(' ')).not.toContain('s3cr3t');
  });

  it('streams a build in the order podman wrote it: stderr merged into stdout through a fixed adapter', async () => {
    // Stands in for podman: 80 lines on stdout, then the error on stderr.
    const fake = [
      'sh',
      '-c',
      'i=1; while [ $i -le 80 ]; do echo "out-$i"; i=$((i+1)); done; echo failed >&2; exit 3',
      'podman',
    ];
    const seen: string[][] = [];
    const host: Host = {
      name: 'local',
      command: (argv) => {
        seen.push([...argv]);
        return { argv: argv.flatMap((a) => (a === 'podman' ? fake : [a])), env: undefined };
      },
      run: () => Promise.reject(new Error('not used')),
    };
    const cli = new PodmanCli(host, undefined);
    for (let i = 0; i < 5; i++) {
      const lines: string[] = [];
      const result = await cli.streaming(['build', '.'], (l) => lines.push(l), { mergeStderr: true }).done;
      expect(result.exitCode).toBe(3);
      expect(lines.at(-1)).toBe('failed');
      expect(lines).toHaveLength(81);
    }
    expect(seen[0]).toEqual(['sh', '-c', 'exec "$@" 2>&1', 'sh', 'podman', 'build', '.']);
  });
});
