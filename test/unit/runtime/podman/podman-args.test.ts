import { describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../../../../src/runtime/container-runtime.js';
import { buildContainerArgs, labelArgs, labelFilterArgs } from '../../../../src/runtime/podman/podman-args.js';
import { minoErrorOf as errorOf } from '../../../helpers/thrown.js';

const IMAGE = 'localhost/mino-base:latest';

/** The MinoError thrown by `fn` (fails the test when nothing or something else is thrown). */
function spec(extra: Partial<ContainerSpec>): ContainerSpec {
  return { image: IMAGE, command: [], ...extra };
}

describe('buildContainerArgs', () => {
  it('mounts a private device directory read-only as /dev, after the other mounts, with a devpts', () => {
    expect(
      buildContainerArgs(
        'run',
        spec({ mounts: [{ source: '/p', target: '/p', readOnly: false }], devDir: '/var/lib/mino/dev' }),
      ),
    ).toEqual([
      'run',
      '-v',
      '/p:/p',
      '-v',
      '/var/lib/mino/dev:/dev:ro',
      '--mount',
      'type=devpts,destination=/dev/pts,gid=5,mode=620',
      IMAGE,
    ]);
    expect(errorOf(() => buildContainerArgs('run', spec({ devDir: 'relative/dev' }))).message).toMatch(/relative\/dev/);
  });

  it('runs the image default command when nothing else is set', () => {
    expect(buildContainerArgs('run', { image: 'alpine', command: [] })).toEqual(['run', 'alpine']);
  });

  it('starts with run, run -d or create depending on how the container is launched', () => {
    expect(buildContainerArgs('run', spec({}))).toEqual(['run', IMAGE]);
    expect(buildContainerArgs('run-detached', spec({}))).toEqual(['run', '-d', IMAGE]);
    expect(buildContainerArgs('create', spec({}))).toEqual(['create', IMAGE]);
  });

  it("prints every option of a full agent session in mino's fixed order", () => {
    const full: ContainerSpec = {
      image: IMAGE,
      command: ['claude', '--dangerously-skip-permissions'],
      interactive: true,
      tty: true,
      autoRemove: true,
      pullNever: true,
      name: 'mino-demo-1a2b',
      labels: { 'io.mino.session': '1a2b', 'io.mino.project': 'demo' },
      init: true,
      userns: 'keep-id:uid=1000,gid=1000',
      user: '1000:1000',
      hostname: 'mino-demo',
      stopTimeout: 5,
      workdir: '/workspace',
      network: 'slirp4netns',
      capDrop: ['ALL'],
      capAdd: ['CHOWN', 'SETUID'],
      securityOpt: ['no-new-privileges', 'label=disable'],
      pidsLimit: 512,
      ulimits: ['nofile=1024:1024', 'nproc=-1'],
      readOnly: true,
      tmpfs: ['/tmp', '/run'],
      mounts: [
        { source: '/home/user/projects/demo', target: '/workspace' },
        { source: 'mino-cache-demo', target: '/home/developer/.cache', readOnly: false },
        { source: '/home/user/.gitconfig', target: '/home/developer/.gitconfig', readOnly: true },
      ],
      envFiles: ['/run/user/1000/mino/env-1a2b'],
      secretEnv: [{ secret: 'mino-anthropic-key', target: 'ANTHROPIC_API_KEY' }],
      secretFiles: [
        { secret: 'mino-gh-token', target: 'gh_token', uid: 1000 },
        { secret: 'mino-npmrc', target: 'npmrc' },
      ],
      env: { TERM: 'xterm-256color', LANG: 'C.UTF-8' },
    };
    expect(buildContainerArgs('run', full)).toEqual([
      'run',
      '-i',
      '-t',
      '--rm',
      '--pull=never',
      '--name',
      'mino-demo-1a2b',
      '--label',
      'io.mino.session=1a2b',
      '--label',
      'io.mino.project=demo',
      '--init',
      '--userns=keep-id:uid=1000,gid=1000',
      '--user',
      '1000:1000',
      '--hostname',
      'mino-demo',
      '--stop-timeout',
      '5',
      '-w',
      '/workspace',
      '--network',
      'slirp4netns',
      '--cap-drop',
      'ALL',
      '--cap-add',
      'CHOWN',
      '--cap-add',
      'SETUID',
      '--security-opt',
      'no-new-privileges',
      '--security-opt',
      'label=disable',
      '--pids-limit',
      '512',
      '--ulimit',
      'nofile=1024:1024',
      '--ulimit',
      'nproc=-1',
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--tmpfs',
      '/run',
      '-v',
      '/home/user/projects/demo:/workspace',
      '-v',
      'mino-cache-demo:/home/developer/.cache',
      '-v',
      '/home/user/.gitconfig:/home/developer/.gitconfig:ro',
      '--env-file',
      '/run/user/1000/mino/env-1a2b',
      '--secret',
      'mino-anthropic-key,type=env,target=ANTHROPIC_API_KEY',
      '--secret',
      'mino-gh-token,type=mount,target=gh_token,mode=0400,uid=1000,gid=1000',
      '--secret',
      'mino-npmrc,type=mount,target=npmrc,mode=0400',
      '-e',
      'TERM=xterm-256color',
      '-e',
      'LANG=C.UTF-8',
      IMAGE,
      'claude',
      '--dangerously-skip-permissions',
    ]);
  });

  it('puts the command after the image, even arguments that look like podman options', () => {
    expect(buildContainerArgs('run', spec({ command: ['sh', '-c', '--privileged'] }))).toEqual([
      'run',
      IMAGE,
      'sh',
      '-c',
      '--privileged',
    ]);
  });

  it('drops every capability before adding any back', () => {
    const args = buildContainerArgs('run', spec({ capAdd: ['NET_BIND_SERVICE'], capDrop: ['ALL'] }));
    expect(args).toEqual(['run', '--cap-drop', 'ALL', '--cap-add', 'NET_BIND_SERVICE', IMAGE]);
  });

  it("adds podman's U option (chown to the container user) to a mount that asks for it", () => {
    const args = buildContainerArgs('run', {
      image: 'localhost/x:1',
      command: [],
      mounts: [
        { source: 'mino-logins-abc', target: '/opt/mino/logins', chown: true },
        { source: 'v', target: '/v', readOnly: true, chown: true },
      ],
    });
    expect(args).toContain('mino-logins-abc:/opt/mino/logins:U');
    expect(args).toContain('v:/v:ro,U');
  });

  it('leaves the pids limit to podman when it is 0', () => {
    expect(buildContainerArgs('run', spec({ pidsLimit: 0 }))).toEqual(['run', IMAGE]);
  });

  it('passes an environment value with newlines and an = sign through unchanged', () => {
    expect(buildContainerArgs('run', spec({ env: { PROMPT: 'a=b\nc' } }))).toEqual([
      'run',
      '-e',
      'PROMPT=a=b\nc',
      IMAGE,
    ]);
  });

  describe('refuses values that would change the meaning of the command line', () => {
    it('an image that starts with a dash', () => {
      const err = errorOf(() => buildContainerArgs('run', spec({ image: '--privileged' })));
      expect(err.message).toBe("Invalid image reference '--privileged'");
      expect(err.hint).toBe(
        'Use a reference such as localhost/mino-base:latest or docker.io/library/debian:bookworm-slim',
      );
      expect(errorOf(() => buildContainerArgs('run', spec({ image: '-v/:/host' }))).message).toBe(
        "Invalid image reference '-v/:/host'",
      );
    });

    it('an image with an embedded newline, shown escaped', () => {
      expect(errorOf(() => buildContainerArgs('run', spec({ image: 'alpine\n--privileged' }))).message).toBe(
        "Invalid image reference 'alpine\\x0a--privileged'",
      );
    });

    it('a mount source containing a colon (would add mount options)', () => {
      const err = errorOf(() =>
        buildContainerArgs('run', spec({ mounts: [{ source: '/home/u/a:/etc', target: '/workspace' }] })),
      );
      expect(err.message).toBe("Mount source '/home/u/a:/etc' contains ':', ',' or a control character");
      expect(err.hint).toBe('Rename the directory or mount a parent directory without those characters');
    });

    it('a mount target containing a comma', () => {
      expect(
        errorOf(() => buildContainerArgs('run', spec({ mounts: [{ source: '/src', target: '/work,space' }] }))).message,
      ).toBe("Mount target '/work,space' contains ':', ',' or a control character");
    });

    it('a mount source containing a newline', () => {
      expect(
        errorOf(() => buildContainerArgs('run', spec({ mounts: [{ source: '/tmp/a\nb', target: '/w' }] }))).message,
      ).toBe("Mount source '/tmp/a\\x0ab' contains ':', ',' or a control character");
    });

    it('a relative mount target', () => {
      expect(
        errorOf(() => buildContainerArgs('run', spec({ mounts: [{ source: '/src', target: 'workspace' }] }))).message,
      ).toBe("Mount target 'workspace' is not an absolute path");
    });

    it('a relative mount source, which is neither a path nor a volume name', () => {
      expect(
        errorOf(() => buildContainerArgs('run', spec({ mounts: [{ source: './project', target: '/w' }] }))).message,
      ).toBe("Invalid volume name './project'");
      expect(
        errorOf(() => buildContainerArgs('run', spec({ mounts: [{ source: '../etc', target: '/w' }] }))).message,
      ).toBe("Invalid volume name '../etc'");
    });

    it('a relative working directory, tmpfs path or env file', () => {
      expect(errorOf(() => buildContainerArgs('run', spec({ workdir: 'workspace' }))).message).toBe(
        "Mount target 'workspace' is not an absolute path",
      );
      expect(errorOf(() => buildContainerArgs('run', spec({ tmpfs: ['tmp'] }))).message).toBe(
        "Mount target 'tmp' is not an absolute path",
      );
      expect(errorOf(() => buildContainerArgs('run', spec({ envFiles: ['env.list'] }))).message).toBe(
        "Mount source 'env.list' is not an absolute path",
      );
    });

    it('environment variable names that are not shell names', () => {
      for (const key of ['BAD-KEY', '1ABC', 'A=B', '', '-e']) {
        expect(errorOf(() => buildContainerArgs('run', spec({ env: { [key]: 'x' } }))).message).toBe(
          `Invalid environment variable name '${key}'`,
        );
      }
    });

    it('an environment value with a NUL byte', () => {
      expect(errorOf(() => buildContainerArgs('run', spec({ env: { FOO: 'a\0b' } }))).message).toBe(
        'Environment variable FOO contains a NUL byte',
      );
    });

    it('a secret name starting with a dash or a secret variable with a bad name', () => {
      expect(
        errorOf(() => buildContainerArgs('run', spec({ secretEnv: [{ secret: '-x', target: 'TOKEN' }] }))).message,
      ).toBe("Invalid secret name '-x'");
      expect(
        errorOf(() => buildContainerArgs('run', spec({ secretEnv: [{ secret: 's', target: 'TOKEN,type=mount' }] })))
          .message,
      ).toBe("Invalid environment variable name 'TOKEN,type=mount'");
    });

    it('a secret file target that escapes /run/secrets', () => {
      expect(
        errorOf(() => buildContainerArgs('run', spec({ secretFiles: [{ secret: 's', target: '../../etc/passwd' }] })))
          .message,
      ).toBe("Invalid secret target name '../../etc/passwd'");
    });

    it('label keys that are options or contain =, and label values with newlines', () => {
      expect(errorOf(() => buildContainerArgs('run', spec({ labels: { '--privileged': 'x' } }))).message).toBe(
        "Invalid label key '--privileged'",
      );
      expect(errorOf(() => buildContainerArgs('run', spec({ labels: { 'a=b': 'x' } }))).message).toBe(
        "Invalid label key 'a=b'",
      );
      expect(errorOf(() => buildContainerArgs('run', spec({ labels: { 'io.mino.x': 'a\nb' } }))).message).toBe(
        'Label io.mino.x has an invalid value',
      );
    });

    it('container, network and host names that are not plain names', () => {
      expect(errorOf(() => buildContainerArgs('run', spec({ name: '-d' }))).message).toBe(
        "Invalid container name '-d'",
      );
      expect(errorOf(() => buildContainerArgs('run', spec({ network: '--privileged' }))).message).toBe(
        "Invalid network name '--privileged'",
      );
      expect(errorOf(() => buildContainerArgs('run', spec({ hostname: 'a b' }))).message).toBe(
        "Invalid host name 'a b'",
      );
    });

    it('a user with a space or option', () => {
      const err = errorOf(() => buildContainerArgs('run', spec({ user: 'root --privileged' })));
      expect(err.message).toBe("Invalid user 'root --privileged'");
      expect(err.hint).toBe('Use NAME, UID or UID:GID');
    });

    it('a ulimit that is not NAME=SOFT[:HARD]', () => {
      for (const u of ['nofile=1024:1024 --privileged', 'nofile', 'NOFILE=1', 'nofile=a:b', '--ulimit=x']) {
        const err = errorOf(() => buildContainerArgs('run', spec({ ulimits: [u] })));
        expect(err.message).toBe(`Invalid ulimit '${u}'`);
        expect(err.hint).toBe('Use NAME=SOFT:HARD, e.g. nofile=1024:1024');
      }
    });
  });
});

describe('labelFilterArgs', () => {
  it('filters on key=value, or on the key alone when the value is empty', () => {
    expect(labelFilterArgs({ 'io.mino.project': 'demo', 'io.mino.managed': '' })).toEqual([
      '--filter',
      'label=io.mino.project=demo',
      '--filter',
      'label=io.mino.managed',
    ]);
  });

  it('adds no filter when no label is given', () => {
    expect(labelFilterArgs({})).toEqual([]);
  });

  it('refuses a label key that is an option', () => {
    expect(errorOf(() => labelFilterArgs({ '-a': 'x' })).message).toBe("Invalid label key '-a'");
  });
});

describe('labelArgs', () => {
  it('writes one --label key=value pair per label, keeping empty values', () => {
    expect(labelArgs({ 'io.mino.project': 'demo', 'io.mino.empty': '' })).toEqual([
      '--label',
      'io.mino.project=demo',
      '--label',
      'io.mino.empty=',
    ]);
  });

  it('refuses a label value with a NUL byte', () => {
    expect(errorOf(() => labelArgs({ 'io.mino.x': 'a\0' })).message).toBe('Label io.mino.x has an invalid value');
  });
});

describe('buildContainerArgs: hook directories', () => {
  it('puts --hooks-dir (a global option) before the verb, in order', async () => {
    const { buildContainerArgs } = await import('../../../../src/runtime/podman/podman-args.js');
    expect(
      buildContainerArgs('run', {
        image: 'img',
        command: [],
        hooksDirs: ['/usr/share/containers/oci/hooks.d', '/run/x/hooks.d'],
      }).slice(0, 5),
    ).toEqual(['--hooks-dir', '/usr/share/containers/oci/hooks.d', '--hooks-dir', '/run/x/hooks.d', 'run']);
    expect(() => buildContainerArgs('run', { image: 'img', command: [], hooksDirs: ['relative'] })).toThrow(
      /not an absolute path/,
    );
  });
});
