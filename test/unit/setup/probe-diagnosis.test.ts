import { describe, expect, it } from 'vitest';
import { diagnoseProbe } from '../../../src/setup/probe-diagnosis.js';

describe('diagnoseProbe', () => {
  it.each([
    [
      'Error: OCI runtime error: crun: cgroups in hybrid mode not supported, drop all controllers from cgroupv2',
      'crun-cgroup-hybrid',
    ],
    [
      'Error: OCI runtime error: crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted: OCI permission denied',
      'ulimits',
    ],
    ['crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted: OCI permission denied', 'ulimits'],
    [
      'Error: OCI runtime error: runc: runc create failed: unable to start container process: error during container init: error setting rlimit type 7: operation not permitted',
      'ulimits',
    ],
    ['error setting rlimit type 7', 'ulimits'],
    [
      'Error: slirp4netns failed: "open(\\"/dev/net/tun\\"): Permission denied\\nWARN: failed to open /dev/net/tun"',
      'dev-net-tun',
    ],
    ['open("/dev/net/tun"): No such file or directory', 'dev-net-tun'],
    ['Error: cannot set up namespace using "/usr/bin/newuidmap": exit status 1', 'subids'],
    [
      'Error: cannot set up namespace using "/usr/bin/newuidmap": should have setuid or have filecaps setuid: fork/exec /usr/bin/newuidmap: operation not permitted',
      'subids',
    ],
    ['newuidmap: write to uid_map failed: Operation not permitted', 'subids'],
    ['newgidmap: gid range [1-65537) -> [100000-165537) not allowed', 'subids'],
    ['ERRO[0000] cannot find UID/GID for user mino: no subuid ranges found for user "mino" in /etc/subuid', 'subids'],
    ['potentially insufficient UIDs or GIDs available in user namespace (requested 0:42 for /etc/shadow)', 'subids'],
    [
      'Error: container-init binary not found on the host: stat /usr/libexec/podman/catatonit: no such file or directory',
      'init-missing',
    ],
    ['Error: XDG_RUNTIME_DIR directory "/run/user/1000" is not owned by the current user', 'runtime-dir'],
    ['Error: mkdir /run/user/1000/libpod: permission denied', 'runtime-dir'],
  ] as const)('%s -> %s', (stderr, problem) => {
    expect(diagnoseProbe(stderr)).toBe(problem);
  });

  it('reports unknown for errors it cannot classify', () => {
    expect(diagnoseProbe('Error: short-name "x" did not resolve to an alias')).toBe('unknown');
    expect(diagnoseProbe('')).toBe('unknown');
  });

  it('blames the cgroup setup first when both it and rlimits appear', () => {
    const stderr =
      'WARN[0000] error setting rlimit type 7\nError: OCI runtime error: crun: cgroups in hybrid mode not supported';
    expect(diagnoseProbe(stderr)).toBe('crun-cgroup-hybrid');
  });

  it('blames ulimits before /dev/net/tun and sub-ids', () => {
    const stderr =
      'open("/dev/net/tun"): ok\nnewuidmap: ok\nError: OCI runtime error: crun: setrlimit `RLIMIT_NPROC`: Operation not permitted';
    expect(diagnoseProbe(stderr)).toBe('ulimits');
  });
});
