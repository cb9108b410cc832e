import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readProjectFile, refusalWords } from '../common/project-file.js';

/**
 * Lockfile detection: only the project root is looked at, ecosystems in
 * a fixed order, and per ecosystem the first lockfile that exists wins. The cache key is the
 * first 12 hex digits of the SHA-256 of the lockfile's bytes, so a changed lockfile gets a fresh
 * cache and an unchanged one reuses the old.
 */

/** The package ecosystems mino keeps dependency caches for, in detection order. */
export const ECOSYSTEMS = ['npm', 'yarn', 'pnpm', 'cargo', 'pip', 'poetry', 'uv', 'go'] as const;

/** One ecosystem name. */
export type Ecosystem = (typeof ECOSYSTEMS)[number];

/** Lockfile names per ecosystem, in the order they are tried (mino 1.6's table). */
export const LOCKFILES: Readonly<Record<Ecosystem, readonly string[]>> = {
  npm: ['package-lock.json', 'npm-shrinkwrap.json'],
  yarn: ['yarn.lock'],
  pnpm: ['pnpm-lock.yaml'],
  cargo: ['Cargo.lock'],
  pip: ['requirements.txt', 'Pipfile.lock'],
  poetry: ['poetry.lock'],
  uv: ['uv.lock'],
  go: ['go.sum'],
};

/** A lockfile found in a project. */
export interface DetectedLockfile {
  ecosystem: Ecosystem;
  /** File name in the project root, e.g. `package-lock.json`. */
  file: string;
  /** First 12 hex digits of sha256(file bytes). */
  hash: string;
}

/** True for a known ecosystem name. */
export function isEcosystem(value: string): value is Ecosystem {
  return (ECOSYSTEMS as readonly string[]).includes(value);
}

/** The cache key of a lockfile's content: first 12 hex digits of its SHA-256. */
export function cacheKeyOf(content: Uint8Array | string): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 12);
}

/** Largest lockfile mino hashes (bytes): a bigger one gets no cache (warned once per run). */
export const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;

/** What reading a lockfile candidate gave: its bytes, nothing (absent), or why it was skipped. */
type LockfileRead = Uint8Array | undefined | { skipped: string };

/** Reads a lockfile candidate. */
export type ReadFile = (path: string) => LockfileRead;

/**
 * Reads a lockfile as a project file (common/project-file.ts): a symbolic link, a FIFO, a device
 * or a file over {@link MAX_LOCKFILE_BYTES} is skipped with the reason; an unreadable one is absent.
 */
function readIfFile(path: string): LockfileRead {
  try {
    const r = readProjectFile(path, { maxBytes: MAX_LOCKFILE_BYTES });
    if (r.kind === 'file') return r.bytes;
    if (r.kind === 'missing') return undefined;
    return { skipped: refusalWords(r.reason, MAX_LOCKFILE_BYTES) };
  } catch {
    return undefined;
  }
}

/** A lockfile candidate that exists but was not used, and why (for one warning). */
export interface SkippedLockfile {
  ecosystem: Ecosystem;
  file: string;
  /** e.g. `is a symbolic link`. */
  why: string;
}

/**
 * The lockfiles in `projectDir` (its root only), one per ecosystem, in {@link ECOSYSTEMS} order.
 * Costs one failed `open` per absent candidate (11 for a project without any) and no podman call.
 * A candidate that is not a regular file of bounded size gives its ecosystem no cache key; it is
 * listed in `skipped` when given.
 */
export function detectLockfiles(
  projectDir: string,
  read: ReadFile = readIfFile,
  skipped?: SkippedLockfile[],
): DetectedLockfile[] {
  const found: DetectedLockfile[] = [];
  for (const ecosystem of ECOSYSTEMS) {
    for (const file of LOCKFILES[ecosystem]) {
      const content = read(join(projectDir, file));
      if (content === undefined) continue;
      if ('skipped' in content) {
        skipped?.push({ ecosystem, file, why: content.skipped });
        break;
      }
      found.push({ ecosystem, file, hash: cacheKeyOf(content) });
      break;
    }
  }
  return found;
}
