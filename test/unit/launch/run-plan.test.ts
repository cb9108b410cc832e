import { describe, expect, it } from 'vitest';
import { MinoError, UsageError } from '../../../src/common/errors.js';
import { formatPlan } from '../../../src/launch/plan-format.js';
import { buildRunPlan, runModeFor } from '../../../src/launch/run-plan.js';
import { typicalInput } from './plan-input.js';
import { thrown } from '../../helpers/thrown.js';

describe('buildRunPlan: golden argv', () => {
  it('a typical rootless command run', () => {
    const plan = buildRunPlan(
      typicalInput({
        configEnv: { LOG_LEVEL: 'info', EDITOR: 'nano' },
        cliEnv: ['EDITOR=vim', 'LOG_LEVEL=debug'],
        cliVolumes: ['/home/alice/data:/data:ro'],
        configVolumes: ['/opt/shared:/shared'],
      }),
    );
    expect(formatPlan(plan)).toEqual([
      'podman',
      'run',
      '-i',
      '-t',
      '--rm',
      '--pull=never',
      '--name',
      'mino-demo',
      '--label',
      'io.mino.session=demo',
      '--label',
      'io.mino.owner-pid=4242',
      '--label',
      'io.mino.project=/home/alice/src/webapp',
      '--label',
      'io.mino.version=0.1.0',
      '--label',
      'io.mino.mode=command',
      '--init',
      '--userns=keep-id:uid=1000,gid=1000',
      '-w',
      '/webapp',
      '--network',
      'bridge',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--pids-limit',
      '4096',
      '-v',
      '/home/alice/src/webapp:/webapp',
      '-v',
      '/home/alice/data:/data:ro',
      '-v',
      '/opt/shared:/shared',
      '-e',
      'LOG_LEVEL=debug',
      '-e',
      'EDITOR=vim',
      '-e',
      'MINO_QUIET_BOOTSTRAP=1',
      'localhost/mino-base:latest',
      'claude',
      '--resume',
    ]);
  });

  it('a detached read-only rootful run without a terminal', () => {
    const plan = buildRunPlan(
      typicalInput({
        sessionName: 'bg',
        detach: true,
        readOnly: true,
        rootless: false,
        stdinIsTty: false,
        network: 'none',
        command: ['npm', 'test'],
        projectDir: '/srv/etc',
        homeDir: '/root',
        hostUid: 0,
        hostGid: 0,
        projectOwner: { uid: 1500, gid: 1500 },
      }),
    );
    expect(formatPlan(plan)).toEqual([
      'podman',
      'run',
      '-d',
      '--pull=never',
      '--name',
      'mino-bg',
      '--label',
      'io.mino.session=bg',
      '--label',
      'io.mino.owner-pid=4242',
      '--label',
      'io.mino.project=/srv/etc',
      '--label',
      'io.mino.version=0.1.0',
      '--label',
      'io.mino.mode=detached',
      '--init',
      // The image user (uid 1000) is the project's owner (1500); every other id, root included, an unprivileged one.
      '--uidmap',
      '0:1879048192:1000',
      '--uidmap',
      '1000:1500:1',
      '--uidmap',
      '1001:1879049193:64535',
      '--gidmap',
      '0:1879048192:1000',
      '--gidmap',
      '1000:1500:1',
      '--gidmap',
      '1001:1879049193:64535',
      '-w',
      '/workspace',
      '--network',
      'none',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--pids-limit',
      '4096',
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--tmpfs',
      '/run',
      '--tmpfs',
      '/root',
      '--tmpfs',
      '/home/developer',
      '-v',
      '/srv/etc:/workspace',
      '-e',
      'MINO_QUIET_BOOTSTRAP=1',
      'localhost/mino-base:latest',
      'npm',
      'test',
    ]);
  });
});

describe('buildRunPlan: rootful, root-owned project', () => {
  const rootful = (imageUser: number | undefined, owner: number) =>
    buildRunPlan(
      typicalInput({
        rootless: false,
        stdinIsTty: false,
        network: 'none',
        hostUid: 0,
        hostGid: 0,
        homeDir: '/root',
        image: 'localhost/python:3',
        imageUser,
        projectOwner: { uid: owner, gid: owner },
        projectDir: '/root/proj',
      }),
    );

  it('a root image is the owner (host root) and gets a read-only /dev of its own with a devpts', () => {
    const plan = rootful(0, 0);
    expect(plan.warnings).toEqual([]);
    expect(plan.spec.uidMap).toEqual(['0:0:1', '1:1879048193:65535']);
    expect(plan.spec.devDir).toBe('/var/lib/mino/dev');
    const args = formatPlan(plan);
    expect(args.join(' ')).toContain(
      '-v /var/lib/mino/dev:/dev:ro --mount type=devpts,destination=/dev/pts,gid=5,mode=620',
    );
  });

  it('warns that --network host lets host services see root', () => {
    const plan = buildRunPlan(typicalInput({ rootless: false, network: 'host', projectOwner: { uid: 0, gid: 0 } }));
    expect(plan.warnings).toEqual([
      expect.stringMatching(/image's user is host root in this session; with --network host/),
    ]);
    expect(
      buildRunPlan(typicalInput({ rootless: false, network: 'host', projectOwner: { uid: 1500, gid: 1500 } })).warnings,
    ).toEqual([]);
  });

  it('a custom device directory is used as given', () => {
    const plan = buildRunPlan(
      typicalInput({ rootless: false, projectOwner: { uid: 0, gid: 0 }, rootfulDeviceDir: '/srv/mino-dev' }),
    );
    expect(plan.spec.devDir).toBe('/srv/mino-dev');
  });

  it("a project of a normal user gets the engine's /dev as before", () => {
    expect(rootful(0, 1500).spec.devDir).toBeUndefined();
    expect(rootful(1000, 1500).spec.devDir).toBeUndefined();
    expect(buildRunPlan(typicalInput()).spec.devDir).toBeUndefined();
  });
});

describe('buildRunPlan: modes', () => {
  it('runModeFor', () => {
    expect(runModeFor(true, [])).toBe('detached');
    expect(runModeFor(true, ['x'])).toBe('detached');
    expect(runModeFor(false, ['x'])).toBe('command');
    expect(runModeFor(false, [])).toBe('shell');
  });

  it('command mode: one attached podman run --rm -i, -t only with a terminal', () => {
    const plan = buildRunPlan(typicalInput({ stdinIsTty: false }));
    expect(plan.mode).toBe('command');
    expect(plan.launchVerb).toBe('run');
    expect(plan.attached).toBe(true);
    expect(plan.spec).toMatchObject({ autoRemove: true, interactive: true });
    expect(plan.spec.tty).toBeUndefined();
    expect(buildRunPlan(typicalInput({ stdinIsTty: true })).spec.tty).toBe(true);
  });

  it('shell mode: the default shell, attached with --rm, no quiet bootstrap', () => {
    const plan = buildRunPlan(typicalInput({ command: [], shell: ['/bin/zsh'] }));
    expect(plan.mode).toBe('shell');
    expect(plan.command).toEqual(['/bin/zsh']);
    expect(plan.spec.command).toEqual(['/bin/zsh']);
    expect(plan.spec).toMatchObject({ autoRemove: true, interactive: true, tty: true });
    expect(plan.spec.env).toEqual({});
    expect(plan.labels['io.mino.mode']).toBe('shell');
  });

  it('detached mode (scripted, stdin not a terminal): run -d without --rm and without -t', () => {
    const plan = buildRunPlan(typicalInput({ detach: true, stdinIsTty: false }));
    expect(plan.mode).toBe('detached');
    expect(plan.launchVerb).toBe('run-detached');
    expect(plan.attached).toBe(false);
    expect(plan.spec.autoRemove).toBeUndefined();
    expect(plan.spec.tty).toBeUndefined();
    expect(plan.spec.interactive).toBeUndefined();
    expect(plan.spec.env).toEqual({ MINO_QUIET_BOOTSTRAP: '1' });
  });

  it('detached from a terminal gets -i -t, for mino attach', () => {
    const plan = buildRunPlan(typicalInput({ detach: true, stdinIsTty: true }));
    expect(plan.spec).toMatchObject({ interactive: true, tty: true });
    expect(plan.spec.autoRemove).toBeUndefined();
  });

  it('detached without a command keeps the shell alive with -i', () => {
    const plan = buildRunPlan(typicalInput({ detach: true, command: [], stdinIsTty: false }));
    expect(plan.command).toEqual(['/bin/bash']);
    expect(plan.spec.interactive).toBe(true);
    expect(plan.spec.tty).toBeUndefined();
    expect(plan.spec.env).toEqual({ MINO_QUIET_BOOTSTRAP: '1' });
  });

  it('always runs --init, named and labelled', () => {
    for (const overrides of [{}, { detach: true }, { command: [] }]) {
      const plan = buildRunPlan(typicalInput(overrides));
      expect(plan.spec.init).toBe(true);
      expect(plan.spec.name).toBe('mino-demo');
      expect(plan.containerName).toBe('mino-demo');
      expect(plan.spec.labels).toEqual(plan.labels);
    }
  });

  it('pullNever can be turned off', () => {
    expect(buildRunPlan(typicalInput({ pullNever: false })).spec.pullNever).toBeUndefined();
    expect(buildRunPlan(typicalInput()).spec.pullNever).toBe(true);
  });
});

describe('buildRunPlan: rules', () => {
  it('rootless keep-id follows the image user; rootful passes none', () => {
    expect(buildRunPlan(typicalInput({ imageUser: 1000 })).spec.userns).toBe('keep-id:uid=1000,gid=1000');
    expect(buildRunPlan(typicalInput({ imageUser: 1000, imageGid: 1000 })).identity.userns).toBe(
      'keep-id:uid=1000,gid=1000',
    );
    expect(buildRunPlan(typicalInput({ imageUser: undefined })).spec.userns).toBe('keep-id');
    expect(buildRunPlan(typicalInput({ imageUser: 0 })).spec.userns).toBeUndefined();
    expect(buildRunPlan(typicalInput({ rootless: false })).spec.userns).toBeUndefined();
  });

  it('records the identity', () => {
    expect(buildRunPlan(typicalInput()).identity).toEqual({
      rootless: true,
      hostUid: 1001,
      hostGid: 1001,
      imageUser: 1000,
      imageGid: 1000,
      userns: 'keep-id:uid=1000,gid=1000',
      uidMap: [],
      gidMap: [],
    });
  });

  it('derives the workdir and honours container.workdir', () => {
    expect(buildRunPlan(typicalInput()).workdir).toBe('/webapp');
    expect(buildRunPlan(typicalInput({ projectDir: '/home/alice/tmp' })).workdir).toBe('/workspace');
    const plan = buildRunPlan(typicalInput({ workdir: '/src/app' }));
    expect(plan.workdir).toBe('/src/app');
    expect(plan.spec.workdir).toBe('/src/app');
    expect(plan.mounts[0]).toEqual({
      source: '/home/alice/src/webapp',
      target: '/src/app',
      readOnly: false,
      origin: 'project',
    });
  });

  it('mounts the project first, then CLI, then config volumes', () => {
    const plan = buildRunPlan(typicalInput({ cliVolumes: ['/c:/c'], configVolumes: ['/f:/f:ro'] }));
    expect(plan.spec.mounts).toEqual([
      { source: '/home/alice/src/webapp', target: '/webapp', readOnly: false },
      { source: '/c', target: '/c', readOnly: false },
      { source: '/f', target: '/f', readOnly: true },
    ]);
    expect(plan.mounts.map((m) => m.origin)).toEqual(['project', 'cli', 'config']);
  });

  it('refuses duplicate mount targets', () => {
    expect(thrown(() => buildRunPlan(typicalInput({ cliVolumes: ['/a:/x'], configVolumes: ['/b:/x'] }))).message).toBe(
      'Two mounts use the container path /x: /a (--volume) and /b (config container.volumes)',
    );
  });

  it('read-only: a user volume at /tmp replaces the tmpfs', () => {
    const plan = buildRunPlan(typicalInput({ readOnly: true, cliVolumes: ['/scratch:/tmp'] }));
    expect(plan.spec.readOnly).toBe(true);
    expect(plan.spec.tmpfs).toEqual(['/run', '/root', '/home/developer']);
    expect(buildRunPlan(typicalInput()).spec.readOnly).toBeUndefined();
    expect(buildRunPlan(typicalInput()).spec.tmpfs).toBeUndefined();
  });

  it('env precedence: config < CLI, then MINO_QUIET_BOOTSTRAP forced', () => {
    const plan = buildRunPlan(
      typicalInput({ configEnv: { A: 'c', B: 'c' }, cliEnv: ['A=1', 'A=2', 'MINO_QUIET_BOOTSTRAP=0'] }),
    );
    expect(plan.spec.env).toEqual({ A: '2', B: 'c', MINO_QUIET_BOOTSTRAP: '1' });
  });

  it('hardening on every run', () => {
    const plan = buildRunPlan(typicalInput());
    expect(plan.spec).toMatchObject({ capDrop: ['ALL'], securityOpt: ['no-new-privileges'], pidsLimit: 4096 });
  });

  it('does not share mutable arrays with HARDENING', () => {
    buildRunPlan(typicalInput()).spec.capDrop?.push('X');
    expect(buildRunPlan(typicalInput()).spec.capDrop).toEqual(['ALL']);
  });

  it('validates and applies the network', () => {
    expect(buildRunPlan(typicalInput({ network: 'host' })).spec.network).toBe('host');
    expect(buildRunPlan(typicalInput()).network).toEqual({ mode: 'bridge' });
    const err = thrown(() => buildRunPlan(typicalInput({ network: 'pasta' })));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe("Invalid network mode 'pasta'");
  });

  it('refuses the home directory unless allowHome', () => {
    const err = thrown(() => buildRunPlan(typicalInput({ projectDir: '/home/alice' })));
    expect(err).toBeInstanceOf(MinoError);
    expect(err.hint).toContain('--allow-home');
    const plan = buildRunPlan(typicalInput({ projectDir: '/home/alice', allowHome: true }));
    expect(plan.workdir).toBe('/alice');
  });

  it('passes secret variables in the session env file, never as plain env', () => {
    const plan = buildRunPlan(
      typicalInput({
        configEnv: { GH_TOKEN: 'plain' },
        credentials: {
          envFile: {
            hostPath: '/run/user/1001/mino/k/session-env/demo.env',
            variables: ['GH_TOKEN', 'AWS_SECRET_ACCESS_KEY'],
          },
        },
      }),
    );
    expect(plan.spec.env).toEqual({ MINO_QUIET_BOOTSTRAP: '1' });
    expect(plan.spec.mounts).toContainEqual({
      source: '/run/user/1001/mino/k/session-env/demo.env',
      target: '/run/secrets/mino-env',
      readOnly: true,
    });
    expect(plan.credentials).toEqual({
      secretVariables: ['GH_TOKEN', 'AWS_SECRET_ACCESS_KEY'],
      prelude: true,
      preludeParts: { env: true, logins: false, settings: false },
      proxy: [],
      sessionCa: false,
      upstreamCa: [],
    });
    expect(plan.spec.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(plan.spec.command.slice(3)).toEqual(['mino-prelude', 'claude', '--resume']);
    expect(plan.command).toEqual(['claude', '--resume']);
    expect(plan.warnings).toEqual([]);
    expect(buildRunPlan(typicalInput()).spec.command).toEqual(['claude', '--resume']);
  });

  it('warns about secret-looking plain variables', () => {
    const plan = buildRunPlan(typicalInput({ configEnv: { OPENAI_API_KEY: 'sk' }, cliEnv: ['EDITOR=vim'] }));
    expect(plan.warnings).toEqual([
      "OPENAI_API_KEY looks like a secret but is passed as a plain variable: its value is visible in 'podman inspect' and the host's process list (pass it with -e OPENAI_API_KEY instead: mino then takes its value from its own environment and keeps it out of both)",
    ]);
    expect(buildRunPlan(typicalInput({ cliEnv: ['EDITOR=vim'] })).warnings).toEqual([]);
  });

  it('copies the command (later changes to the input do not leak in)', () => {
    const command = ['echo', 'hi'];
    const plan = buildRunPlan(typicalInput({ command }));
    command.push('x');
    expect(plan.command).toEqual(['echo', 'hi']);
    expect(plan.spec.command).toEqual(['echo', 'hi']);
  });
});

describe('buildRunPlan: errors', () => {
  it.each([
    ['bad session name', { sessionName: 'a b' }, "Invalid session name 'a b'"],
    ['bad image', { image: 'UPPER/Case' }, "Invalid image reference 'UPPER/Case'"],
    [
      'NUL in command',
      { command: ['echo', 'a\0b'] },
      "Invalid command argument 'a\\x00b': NUL bytes cannot be passed to a program",
    ],
    ['empty default shell', { command: [], shell: [] }, 'No default shell configured'],
    ['negative host uid', { hostUid: -1 }, 'Invalid host uid -1'],
    ['fractional host gid', { hostGid: 1.5 }, 'Invalid host gid 1.5'],
    ['bad owner pid', { ownerPid: 0 }, 'Invalid owner PID 0'],
    ['bad env', { cliEnv: ['NOPE'] }, "Invalid --env 'NOPE': expected KEY=VALUE"],
    ['bad volume', { cliVolumes: ['rel/x:/x'] }, "Invalid --volume 'rel/x:/x': host path 'rel/x' is not absolute"],
    ['project is /', { projectDir: '/' }, 'Refusing to use / as the project directory'],
    ['bad workdir', { workdir: '/etc' }, "Invalid container.workdir '/etc'"],
  ] as const)('%s', (_label, overrides, message) => {
    const err = thrown(() => buildRunPlan(typicalInput(overrides)));
    expect(err).toBeInstanceOf(MinoError);
    expect(err.message).toContain(message);
  });
});
