import { podmanError } from './podman-error.js';
import { MinoError } from '../../common/errors.js';
import type { ContainerSpec, LaunchVerb, MountSpec } from '../container-runtime.js';
import {
  validateEnvKey,
  validateEnvValue,
  validateImageRef,
  validateLabel,
  validateMountPath,
  validateObjectName,
  validateUser,
} from '../validate.js';

/**
 * Pure functions that turn plain data into podman argument arrays. Nothing here runs a process,
 * so the exact command line can be unit-tested, printed by `--dry-run`, and hashed.
 */

function mountArg(m: MountSpec): string {
  const source = m.source.startsWith('/')
    ? validateMountPath('source', m.source)
    : validateObjectName('volume', m.source);
  validateMountPath('target', m.target);
  const options = [...(m.readOnly ? ['ro'] : []), ...(m.chown ? ['U'] : [])];
  return `${source}:${m.target}${options.length > 0 ? `:${options.join(',')}` : ''}`;
}

/**
 * Builds `podman run|create` arguments (without the leading `podman`) in mino's fixed order:
 * global options (`--hooks-dir`), verb flags, identity (name, labels, init, userns), `-w`,
 * `--network`, `--cap-drop` before `--cap-add`, security options, `--pids-limit`, `--read-only`
 * and tmpfs, mounts (the private /dev last), env, image, command.
 */
export function buildContainerArgs(verb: LaunchVerb, spec: ContainerSpec): string[] {
  const args: string[] = [];
  for (const dir of spec.hooksDirs ?? []) args.push('--hooks-dir', validateMountPath('source', dir));
  args.push(verb === 'create' ? 'create' : 'run');
  if (verb === 'run-detached') args.push('-d');
  if (spec.interactive) args.push('-i');
  if (spec.tty) args.push('-t');
  if (spec.autoRemove) args.push('--rm');
  if (spec.pullNever) args.push('--pull=never');
  if (spec.name !== undefined) args.push('--name', validateObjectName('container', spec.name));
  for (const [key, value] of Object.entries(spec.labels ?? {})) {
    validateLabel(key, value);
    args.push('--label', `${key}=${value}`);
  }
  if (spec.init) args.push('--init');
  if (spec.userns !== undefined) args.push(`--userns=${spec.userns}`);
  for (const m of spec.uidMap ?? []) args.push('--uidmap', validateIdMap(m));
  for (const m of spec.gidMap ?? []) args.push('--gidmap', validateIdMap(m));
  if (spec.user !== undefined) args.push('--user', validateUser(spec.user));
  for (const g of spec.groupAdd ?? []) args.push('--group-add', validateUser(g));
  if (spec.hostname !== undefined) args.push('--hostname', validateObjectName('host', spec.hostname));
  if (spec.stopTimeout !== undefined) args.push('--stop-timeout', String(spec.stopTimeout));
  if (spec.cidFile !== undefined) args.push('--cidfile', validateMountPath('source', spec.cidFile));
  if (spec.workdir !== undefined) args.push('-w', validateMountPath('target', spec.workdir));
  if (spec.network !== undefined) args.push('--network', validateObjectName('network', spec.network));
  for (const net of spec.extraNetworks ?? []) args.push('--network', validateObjectName('network', net));
  for (const sysctl of spec.sysctls ?? []) {
    if (!/^net\.[a-z0-9_.]+=[a-z0-9]+$/.test(sysctl))
      throw new MinoError(`Invalid sysctl '${sysctl}'`, { hint: 'Use net.KEY=VALUE' });
    args.push('--sysctl', sysctl);
  }
  for (const cap of spec.capDrop ?? []) args.push('--cap-drop', cap);
  for (const cap of spec.capAdd ?? []) args.push('--cap-add', cap);
  for (const opt of spec.securityOpt ?? []) args.push('--security-opt', opt);
  if (spec.pidsLimit) args.push('--pids-limit', String(spec.pidsLimit));
  for (const u of spec.ulimits ?? []) {
    if (!/^[a-z]+=-?\d+(?::-?\d+)?$/.test(u))
      throw new MinoError(`Invalid ulimit '${u}'`, { hint: 'Use NAME=SOFT:HARD, e.g. nofile=1024:1024' });
    args.push('--ulimit', u);
  }
  if (spec.readOnly) args.push('--read-only');
  for (const path of spec.tmpfs ?? []) args.push('--tmpfs', validateMountPath('target', path));
  for (const m of spec.mounts ?? []) args.push('-v', mountArg(m));
  if (spec.devDir !== undefined) {
    args.push(
      '-v',
      `${validateMountPath('source', spec.devDir)}:/dev:ro`,
      '--mount',
      'type=devpts,destination=/dev/pts,gid=5,mode=620',
    );
  }
  for (const file of spec.envFiles ?? []) args.push('--env-file', validateMountPath('source', file));
  for (const s of spec.secretEnv ?? []) {
    args.push('--secret', `${validateObjectName('secret', s.secret)},type=env,target=${validateEnvKey(s.target)}`);
  }
  for (const s of spec.secretFiles ?? []) {
    const owner = s.uid === undefined ? '' : `,uid=${s.uid},gid=${s.uid}`;
    const target = s.target.startsWith('/')
      ? validateMountPath('target', s.target)
      : validateObjectName('secret target', s.target);
    args.push(
      '--secret',
      `${validateObjectName('secret', s.secret)},type=mount,target=${target},mode=${s.public ? '0444' : '0400'}${owner}`,
    );
  }
  for (const [key, value] of Object.entries(spec.env ?? {})) {
    args.push('-e', `${validateEnvKey(key)}=${validateEnvValue(key, value)}`);
  }
  args.push(validateImageRef(spec.image));
  args.push(...spec.command);
  return args;
}

/** `podman <filter args>` for containers or volumes carrying every label given. */
export function labelFilterArgs(labels: Record<string, string>): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(labels)) {
    validateLabel(key, value);
    args.push('--filter', value === '' ? `label=${key}` : `label=${key}=${value}`);
  }
  return args;
}

/** `--label k=v` pairs for volume, secret and build commands. */
export function labelArgs(labels: Record<string, string>): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(labels)) {
    validateLabel(key, value);
    args.push('--label', `${key}=${value}`);
  }
  return args;
}

/** A `CONTAINER:HOST:SIZE` id mapping of non-negative integers. */
function validateIdMap(map: string): string {
  if (!/^[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}$/.test(map)) throw podmanError(['run'], 125, `invalid id mapping ${map}`);
  return map;
}
