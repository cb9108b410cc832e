import {
  mkdirSync,
  writeFileSync,
  readFileSync,
  symlinkSync,
  chmodSync,
  rmSync,
  existsSync,
  readdirSync,
} from 'node:fs';
import { expect, it } from 'vitest';
import { remoteRuntime } from '../../../src/runtime/select-runtime.js';
import { shipProject } from '../../../src/sync/ship-project.js';
import { bringBack } from '../../../src/sync/bring-back.js';

it('scratch', async () => {
  const runtime = remoteRuntime({
    url: 'ssh://mino-eng-try@127.0.0.1:2222/run/user/1790/podman/podman.sock',
    identity: '/tmp/rig-try/client_key',
  });
  const dir = '/tmp/scratch-proj';
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(`${dir}/a/b`, { recursive: true });
  writeFileSync(`${dir}/a/b/x.txt`, 'hello');
  writeFileSync(`${dir}/run.sh`, '#!/bin/sh\necho hi\n');
  chmodSync(`${dir}/run.sh`, 0o755);
  symlinkSync('a/b/x.txt', `${dir}/link`);
  symlinkSync('/etc/passwd', `${dir}/out`);
  const target = {
    runtime,
    engine: 'try',
    volume: 'mino-project-scratch',
    image: 'localhost/mino-test-busybox:latest',
    labels: {},
  };
  let t = Date.now();
  const s1 = await shipProject({ target, projectDir: dir, exclude: ['node_modules'], previous: undefined });
  console.log('ship1', Date.now() - t, s1.sent, Object.keys(s1.state.remote));
  // agent edits remotely
  t = Date.now();
  const r = await runtime.runCaptured({
    image: target.image,
    command: [
      'sh',
      '-c',
      'cd /p && echo agent >> a/b/x.txt && echo new > new.txt && rm run.sh && mkdir -p node_modules/z && echo big > node_modules/z/f && ln -s new.txt l2 && ls -la',
    ],
    mounts: [{ source: target.volume, target: '/p' }],
    autoRemove: true,
    network: 'none',
  });
  console.log('agent', Date.now() - t, r.stdout, r.stderr);
  writeFileSync(`${dir}/local.txt`, 'local only');
  t = Date.now();
  const b = await bringBack({
    target,
    projectDir: dir,
    exclude: ['node_modules'],
    state: s1.state,
    stagingDir: '/tmp/scratch-staging',
    isProtected: (p) => p.startsWith('.git/'),
  });
  console.log('back', Date.now() - t, b.applied, b.conflicts, b.refused);
  console.log(readdirSync(dir), readFileSync(`${dir}/a/b/x.txt`, 'utf8'));
  t = Date.now();
  const b2 = await bringBack({
    target,
    projectDir: dir,
    exclude: ['node_modules'],
    state: b.state,
    stagingDir: '/tmp/scratch-staging',
    isProtected: () => false,
  });
  console.log('back2', Date.now() - t, b2.applied, b2.conflicts);
  const s2 = await shipProject({ target, projectDir: dir, exclude: ['node_modules'], previous: b2.state });
  console.log('ship2', s2.sent, s2.unchanged, s2.deleted);
  expect(existsSync(`${dir}/new.txt`)).toBe(true);
}, 60000);
