import { describe, expect, it } from 'vitest';
import { MinoError } from '../../../../src/common/errors.js';
import { isNotFound, podmanError, volumeInUseError } from '../../../../src/runtime/podman/podman-error.js';
import {
  ConflictError,
  EngineError,
  EngineUnreachableError,
  InUseError,
  NotFoundError,
  NotSupportedError,
  StaleEngineStateError,
} from '../../../../src/runtime/runtime-errors.js';

const HYBRID = 'crun cannot run on this cgroup v1 hybrid host. Run: mino setup (switches to runc)';
const ULIMITS = "The host cannot grant podman's default ulimits. Run: mino setup (sets default_ulimits)";
const TUN = 'Rootless networking cannot open /dev/net/tun. Run: mino setup';
const SUBIDS = 'Rootless Podman is not configured (uid ranges). Run: mino setup';
const RUNTIME_DIR = 'Set XDG_RUNTIME_DIR to a directory you own (mode 0700), or log in through a proper session';
const GONE = 'The container no longer exists. Run: mino list -a';
const IMAGE = 'The image is not available locally. Run: mino setup, or build/pull it first';
const SERVICE = 'The podman service is not reachable. Run: mino status';
const DISK = 'The disk is full. Free space with: mino cache gc';

/** What podman's mapping recognises in an error output (the hint of a known failure). */
const hintForPodmanError = (stderr: string): string | undefined => podmanError(['run'], 125, stderr).diagnosis;

describe('the diagnosis of a podman failure', () => {
  it.each([
    [
      'Error: OCI runtime error: crun: cgroups in hybrid mode not supported, drop all controllers from cgroupv2',
      HYBRID,
    ],
    [
      'Error: OCI runtime error: crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted: OCI permission denied',
      ULIMITS,
    ],
    [
      'Error: OCI runtime error: runc: runc create failed: unable to start container process: error during container init: error setting rlimit type 7: operation not permitted',
      ULIMITS,
    ],
    [
      'Error: slirp4netns failed: "open(\\"/dev/net/tun\\"): Permission denied\\nWARN: failed to open /dev/net/tun"',
      TUN,
    ],
    ['Error: cannot set up namespace using "/usr/bin/newuidmap": exit status 1', SUBIDS],
    ['newgidmap: gid range [1-65537) -> [100000-165537) not allowed', SUBIDS],
    [
      'ERRO[0000] cannot find UID/GID for user mino: no subuid ranges found for user "mino" in /etc/subuid - check rootless mode in man pages.',
      SUBIDS,
    ],
    [
      'Error: writing blob: adding layer with blob "sha256:abc": processing tar file(potentially insufficient UIDs or GIDs available in user namespace (requested 0:42 for /etc/shadow): Check /etc/subuid and /etc/subgid if configured locally',
      SUBIDS,
    ],
    ['Error: XDG_RUNTIME_DIR directory "/run/user/1000" is not owned by the current user', RUNTIME_DIR],
    ['Error: no container with name or id "mino-demo-1a2b" found: no such container', GONE],
    ['Error: localhost/mino-base:latest: image not known', IMAGE],
    [
      'Error: initializing source docker://localhost/nope:latest: reading manifest latest in localhost/nope: manifest unknown',
      IMAGE,
    ],
    [
      'Cannot connect to Podman. Please verify your connection to the Linux system using `podman system connection list`, or try `podman machine init` and `podman machine start` to manage a new Linux VM\nError: unable to connect to Podman socket: Get "http://d/v4.3.1/libpod/_ping": dial unix /run/user/1000/podman/podman.sock: connect: no such file or directory',
      SERVICE,
    ],
    [
      'Error: writing blob: storing blob to file "/var/tmp/storage1/1": write /var/tmp/storage1/1: no space left on device',
      DISK,
    ],
  ])('%s', (stderr, hint) => {
    expect(hintForPodmanError(stderr)).toBe(hint);
  });

  it('has no hint for an error it does not know', () => {
    expect(hintForPodmanError('Error: short-name "foo" did not resolve to an alias')).toBeUndefined();
    expect(hintForPodmanError('')).toBeUndefined();
  });

  it('prefers the cgroup hint when crun fails on a hybrid host with rlimit noise', () => {
    const stderr =
      'WARN[0000] error setting rlimit type 7\nError: OCI runtime error: crun: cgroups in hybrid mode not supported';
    expect(hintForPodmanError(stderr)).toBe(HYBRID);
  });
});

describe('podmanError', () => {
  it('names the podman subcommand and shows the last lines of its error output', () => {
    const err = podmanError(
      ['volume', 'rm', 'mino-cache-x'],
      2,
      'Error: volume mino-cache-x is being used by the following container(s): abc: volume is being used\n',
    );
    expect(err).toBeInstanceOf(MinoError);
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toBe(
      'podman volume rm failed: Error: volume mino-cache-x is being used by the following container(s): abc: volume is being used',
    );
    expect(err.hint).toBe('Run with -vv to see the full podman command');
    expect(err.exitCode).toBe(1);
    expect(err.engineExitCode).toBe(2);
    expect(err.stderr).toBe(
      'Error: volume mino-cache-x is being used by the following container(s): abc: volume is being used\n',
    );
  });

  it('keeps only the last 8 non-empty lines of long output', () => {
    const stderr = `${Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).join('\n\n')}\n`;
    const err = podmanError(['build', '-t'], 1, stderr);
    expect(err.message).toBe(
      `podman build -t failed: ${Array.from({ length: 8 }, (_, i) => `line ${i + 5}`).join('\n')}`,
    );
  });

  it('shows the exit code when podman printed nothing', () => {
    expect(podmanError(['run', '--rm'], 125, '  \n').message).toBe('podman run --rm failed: exit code 125');
  });

  it('hints at mino setup for a known failure, or uses the hint given; the diagnosis is the known one either way', () => {
    const stderr =
      'Error: OCI runtime error: crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted: OCI permission denied';
    expect(podmanError(['run', '--rm'], 126, stderr).hint).toBe(ULIMITS);
    expect(podmanError(['run', '--rm'], 126, stderr, 'Try again').hint).toBe('Try again');
    expect(podmanError(['run', '--rm'], 126, stderr, 'Try again').diagnosis).toBe(ULIMITS);
    expect(podmanError(['run', '--rm'], 126, 'Error: boom').diagnosis).toBeUndefined();
  });

  it('never shows a secret-looking KEY=value argument', () => {
    expect(podmanError(['exec', 'GH_TOKEN=ghp_secret', 'x'], 1, 'boom').message).toBe(
      'podman exec GH_TOKEN=*** failed: boom',
    );
  });
});

describe("podmanError maps podman's failures to the engine-neutral errors", () => {
  const ID = 'a'.repeat(64);
  it.each([
    [
      'a rootless engine whose state outlived a restart',
      ['info'],
      125,
      'Error: invalid internal status, try resetting the pause process with "podman system migrate": could not find any running process: no such process',
      StaleEngineStateError,
    ],
    [
      'a missing container',
      ['logs'],
      125,
      'Error: no container with name or ID "mino-x" found: no such container',
      NotFoundError,
    ],
    ['a missing image', ['tag'], 125, 'Error: localhost/nope:1: image not known', NotFoundError],
    [
      'a missing volume',
      ['volume', 'inspect'],
      125,
      'Error: no volume with name "mino-cache-x" found: no such volume',
      NotFoundError,
    ],
    [
      'a missing secret',
      ['secret', 'rm'],
      125,
      'Error: no secret with name or id "mino-token": no such secret',
      NotFoundError,
    ],
    [
      'a container name taken',
      ['rename'],
      125,
      'Error: error renaming container abc: the container name "mino-x" is already in use',
      ConflictError,
    ],
    [
      'a volume that exists',
      ['volume', 'create'],
      125,
      'Error: volume with name mino-x already exists: volume already exists',
      ConflictError,
    ],
    ['an image in use', ['rmi'], 2, `Error: image used by ${ID}: image is in use by a container`, InUseError],
    [
      'a volume in use',
      ['volume', 'rm'],
      2,
      `Error: volume is being used by the following container(s): ${ID}: volume is being used`,
      InUseError,
    ],
    [
      'an engine that does not answer',
      ['info'],
      125,
      'Cannot connect to Podman. Please verify your connection to the Linux system\nError: unable to connect to Podman socket: dial unix /run/user/1000/podman/podman.sock: connect: no such file or directory',
      EngineUnreachableError,
    ],
    [
      'pause on cgroup v1',
      ['pause'],
      125,
      'Error: can not pause containers on rootless containers with cgroup V1: this container does not have a cgroup',
      NotSupportedError,
    ],
    [
      'crun on a hybrid host',
      ['run'],
      126,
      'Error: OCI runtime error: crun: cgroups in hybrid mode not supported',
      NotSupportedError,
    ],
    ['any other failure', ['run'], 125, 'Error: short-name "foo" did not resolve to an alias', EngineError],
    ['a failure without output', ['run'], 125, '', EngineError],
  ] as const)('%s', (_what, args, code, stderr, kind) => {
    const err = podmanError(args, code, stderr);
    expect(err).toBeInstanceOf(kind);
    expect(err).toBeInstanceOf(EngineError);
    expect(err.name).toBe(kind.name);
    expect(err.engineExitCode).toBe(code);
    expect(err.stderr).toBe(stderr);
  });

  it('a registry that refuses a pull is an engine failure, not an unreachable engine', () => {
    const err = podmanError(
      ['pull', '-q'],
      125,
      'Error: initializing source docker://example.test/x:1: pinging container registry example.test: Get "https://example.test/v2/": dial tcp 10.0.0.1:443: connect: connection refused',
    );
    expect(err).toBeInstanceOf(EngineError);
    expect(err).not.toBeInstanceOf(EngineUnreachableError);
  });

  it('an engine failure is none of the specific kinds', () => {
    const err = podmanError(['run'], 125, 'Error: default OCI runtime "crun" not found: invalid argument');
    for (const kind of [
      NotFoundError,
      ConflictError,
      InUseError,
      EngineUnreachableError,
      NotSupportedError,
      StaleEngineStateError,
    ])
      expect(err).not.toBeInstanceOf(kind);
  });

  it('names the containers an in-use object is used by', () => {
    const err = podmanError(['rmi'], 2, `Error: image used by ${ID}: image is in use by a container`);
    expect(err).toBeInstanceOf(InUseError);
    expect((err as InUseError).containerIds).toEqual(['aaaaaaaaaaaa']);
  });
});

describe('volumeInUseError', () => {
  it('says which containers use the volume, with the hint of volume rm', () => {
    const ids = ['1'.repeat(64), '2'.repeat(64)];
    const err = volumeInUseError(
      'mino-cache-x',
      2,
      `Error: volume is being used by the following container(s): ${ids.join(' ')}: volume is being used`,
    );
    expect(err).toBeInstanceOf(InUseError);
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toBe('Volume mino-cache-x is used by container(s) 111111111111, 222222222222');
    expect(err.hint).toBe('Remove those containers first, or force the removal (which removes them too)');
    expect(err.containerIds).toEqual(['111111111111', '222222222222']);
    expect(err.engineExitCode).toBe(2);
  });

  it('says (unknown) when podman named no container', () => {
    expect(volumeInUseError('v', 2, 'Error: volume is being used').message).toBe(
      'Volume v is used by container(s) (unknown)',
    );
  });
});

describe('isNotFound', () => {
  it.each([
    'Error: no container with name or id "mino-x" found: no such container',
    'Error: no volume with name "mino-cache-x" found: no such volume',
    'Error: localhost/mino-base:latest: image not known',
    'Error: no secret with name or id "mino-token": no such secret',
    'Error: inspecting object: no such object: "mino-x"',
  ])('is true for %s', (stderr) => {
    expect(isNotFound(stderr)).toBe(true);
  });

  it.each([
    'Error: OCI runtime error: crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted: OCI permission denied',
    'Error: volume mino-cache-x is being used by the following container(s): abc: volume is being used',
    'Error: cannot remove container abc as it is running - running or paused containers cannot be removed without force: container state improper',
    '',
  ])('is false for %j', (stderr) => {
    expect(isNotFound(stderr)).toBe(false);
  });
});

describe('isNotFound does not mistake engine failures for missing objects', () => {
  it.each([
    'Error: default OCI runtime "crun" not found: invalid argument',
    'Error: runc: exec failed: executable file not found in $PATH',
  ])('%s', (stderr) => {
    expect(isNotFound(stderr)).toBe(false);
  });

  it.each([
    'Error: inspecting object: no such volume nosuchvol',
    'Error: no secret with name or id "nosuch": no such secret',
    'Error: no container with name or ID "nosuch" found: no such container',
  ])('recognises %s', (stderr) => {
    expect(isNotFound(stderr)).toBe(true);
  });
});
