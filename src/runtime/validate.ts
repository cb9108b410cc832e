import { MinoError } from '../common/errors.js';
import { printable } from '../common/printable.js';

/**
 * Checks on values that become podman arguments. Each returns the value or throws a MinoError,
 * so nothing user-controlled can turn into an option (`-x`), a second mount, or a broken argv.
 */

const IMAGE_REF =
  /^(?:[a-zA-Z0-9][a-zA-Z0-9._-]*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const IMAGE_ID = /^(?:sha256:)?[a-f0-9]{12,64}$/;
const OBJECT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY = /^[a-zA-Z0-9][a-zA-Z0-9_.\-/]{0,252}$/;

/** An image reference (`name[:tag][@digest]`, optionally with a registry) or an image ID. */
export function validateImageRef(image: string): string {
  if (!IMAGE_REF.test(image) && !IMAGE_ID.test(image)) {
    throw new MinoError(`Invalid image reference '${printable(image)}'`, {
      hint: 'Use a reference such as localhost/mino-base:latest or docker.io/library/debian:bookworm-slim',
    });
  }
  return image;
}

/** A container, volume, network or secret name as podman accepts it. */
export function validateObjectName(kind: string, name: string): string {
  if (!OBJECT_NAME.test(name)) {
    throw new MinoError(`Invalid ${kind} name '${printable(name)}'`, {
      hint: `A ${kind} name starts with a letter or digit and uses only letters, digits, '_', '.' and '-'`,
    });
  }
  return name;
}

/** An environment variable name. */
export function validateEnvKey(key: string): string {
  if (!ENV_KEY.test(key)) {
    throw new MinoError(`Invalid environment variable name '${printable(key)}'`, {
      hint: 'Names use letters, digits and underscores and do not start with a digit',
    });
  }
  return key;
}

/** An environment variable value (no NUL bytes; podman cannot pass them). */
export function validateEnvValue(key: string, value: string): string {
  if (value.includes('\0')) throw new MinoError(`Environment variable ${key} contains a NUL byte`);
  return value;
}

/** A label key and value. */
export function validateLabel(key: string, value: string): void {
  if (!LABEL_KEY.test(key)) throw new MinoError(`Invalid label key '${printable(key)}'`);
  if (value.includes('\0') || value.includes('\n')) throw new MinoError(`Label ${key} has an invalid value`);
}

/**
 * A path used on either side of `-v a:b`: absolute, no NUL, no ':' or ',' (podman would split
 * the mount specification there).
 */
export function validateMountPath(side: 'source' | 'target', path: string): string {
  if (!path.startsWith('/')) throw new MinoError(`Mount ${side} '${printable(path)}' is not an absolute path`);
  if (/[\0:,\n]/.test(path)) {
    throw new MinoError(`Mount ${side} '${printable(path)}' contains ':', ',' or a control character`, {
      hint: 'Rename the directory or mount a parent directory without those characters',
    });
  }
  return path;
}

/** A `--user` value: `name`, `uid`, `uid:gid` or `name:group`. */
export function validateUser(user: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/.test(user)) {
    throw new MinoError(`Invalid user '${printable(user)}'`, { hint: 'Use NAME, UID or UID:GID' });
  }
  return user;
}

/**
 * The bytes of a detach key sequence in podman's (and docker's) syntax: keys separated by commas,
 * each a single printable character other than `,` or `ctrl-<c>` with `<c>` one of `a`–`z`, `@`,
 * `[`, `\\`, `]`, `^`, `_`. `''` means no detach keys. Undefined when the text does not parse.
 */
export function parseDetachKeys(keys: string): number[] | undefined {
  if (keys === '') return [];
  const bytes: number[] = [];
  for (const key of keys.split(',')) {
    if (key.length === 1 && key >= ' ' && key <= '~') {
      bytes.push(key.charCodeAt(0));
    } else if (/^ctrl-[a-z@[\\\]^_]$/.test(key)) {
      const c = key.charCodeAt(5);
      bytes.push(c >= 0x61 ? c - 0x60 : c - 0x40);
    } else {
      return undefined;
    }
  }
  return bytes;
}

/** Detach keys that podman accepts (see {@link parseDetachKeys}); throws a MinoError otherwise. */
export function validateDetachKeys(keys: string): string {
  if (parseDetachKeys(keys) === undefined)
    throw new MinoError(`Invalid detach keys '${printable(keys)}'`, { hint: 'Use e.g. ctrl-p,ctrl-q' });
  return keys;
}
