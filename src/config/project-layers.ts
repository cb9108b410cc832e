import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { MinoError } from '../common/errors.js';
import { minoPaths } from '../common/xdg-paths.js';
import { readProjectFile, refusalWords } from '../common/project-file.js';
import { printable } from '../common/printable.js';

/**
 * A project's `.mino/layers/` as the trust gate sees it. The tree is read once into memory
 * (regular files and directories only; symlinks and other file types are refused, so nothing
 * outside the project can be pulled in), hashed, and, once trusted, written to a private
 * content-addressed snapshot under `$XDG_DATA_HOME/mino/project-layers/<sha256>/`. The layer
 * resolver reads the snapshot, never the project again: the bytes used are the bytes trusted.
 */

/** One file of the tree. */
export interface LayerTreeFile {
  /** Path relative to `.mino/layers`, with `/` separators. */
  rel: string;
  bytes: Buffer;
  executable: boolean;
}

/** A project's `.mino/layers/` tree read into memory. */
export interface LayerTree {
  /** `<project>/.mino/layers`. */
  dir: string;
  files: LayerTreeFile[];
  /** SHA-256 over every path, mode bit, length and content, in path order. */
  sha256: string;
}

/** Limits on what a project may ship in `.mino/layers/`. */
const LAYER_TREE_LIMITS = { files: 512, bytes: 8 * 1024 * 1024, depth: 8 };

/** Hash of a tree's files (order-independent input, sorted here). */
export function hashLayerTree(files: readonly LayerTreeFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))) {
    h.update(`${f.rel}\0${f.executable ? 'x' : '-'}\0${f.bytes.length}\0`);
    h.update(f.bytes);
  }
  return h.digest('hex');
}

/** What lstat says of a path: a directory, something else, or nothing. */
function kindOf(path: string): 'dir' | 'symlink' | 'other' | 'missing' {
  try {
    const st = lstatSync(path);
    return st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  } catch {
    return 'missing';
  }
}

/**
 * Reads `<projectDir>/.mino/layers` (undefined when absent or empty). `.mino` and `.mino/layers`
 * must be real directories: a symbolic link there (planted to pull files in from outside the
 * project) is refused, as is any link, FIFO or device inside.
 */
export function readLayerTree(projectDir: string): LayerTree | undefined {
  const dir = join(projectDir, '.mino', 'layers');
  const refuse = (rel: string, why: string): MinoError =>
    new MinoError(`Project layer file .mino/layers/${printable(rel)} ${why}`, {
      hint: 'Project layers may only contain plain files and directories; fix .mino/layers or run with --no-local',
    });
  for (const [path, name] of [
    [join(projectDir, '.mino'), '.mino'],
    [dir, '.mino/layers'],
  ] as const) {
    const kind = kindOf(path);
    if (kind === 'missing' || kind === 'other') return undefined;
    if (kind === 'symlink') {
      throw new MinoError(
        `Project directory ${printable(name)} in ${printable(projectDir)} is a symbolic link; mino reads only real directories and regular files in a project`,
        {
          hint: 'Replace the link with a directory (a copy) or remove it, or run with --no-local',
        },
      );
    }
  }
  const files: LayerTreeFile[] = [];
  let total = 0;
  const walk = (abs: string, rel: string, depth: number): void => {
    if (depth > LAYER_TREE_LIMITS.depth)
      throw refuse(rel, `is nested more than ${LAYER_TREE_LIMITS.depth} levels deep`);
    for (const entry of readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      const childAbs = join(abs, entry.name);
      if (entry.isDirectory()) {
        walk(childAbs, childRel, depth + 1);
      } else if (entry.isFile()) {
        if (files.length >= LAYER_TREE_LIMITS.files)
          throw refuse(childRel, `is one file too many (at most ${LAYER_TREE_LIMITS.files})`);
        const budget = LAYER_TREE_LIMITS.bytes - total;
        const r = readProjectFile(childAbs, { maxBytes: budget, root: projectDir });
        if (r.kind === 'missing') continue;
        if (r.kind === 'refused') {
          throw refuse(
            childRel,
            r.reason === 'too-large'
              ? `takes the tree over ${LAYER_TREE_LIMITS.bytes / 1024 / 1024} MiB`
              : refusalWords(r.reason, budget),
          );
        }
        total += r.bytes.length;
        files.push({ rel: childRel, bytes: r.bytes, executable: (r.mode & 0o111) !== 0 });
      } else {
        throw refuse(childRel, entry.isSymbolicLink() ? 'is a symbolic link' : 'is not a regular file');
      }
    }
  };
  walk(dir, '', 0);
  if (files.length === 0) return undefined;
  return { dir, files, sha256: hashLayerTree(files) };
}

/** Names of the layers (first-level directories) in a tree. */
export function layerNamesOf(tree: LayerTree): string[] {
  return [...new Set(tree.files.filter((f) => f.rel.includes('/')).map((f) => f.rel.split('/')[0]!))];
}

/**
 * Writes the trusted tree to `$XDG_DATA_HOME/mino/project-layers/<sha256>/.mino/layers/` (once per
 * content) and returns the snapshot's root: pass it as the layer resolver's `projectDir`.
 */
export function snapshotLayerTree(tree: LayerTree, env: NodeJS.ProcessEnv = process.env): string {
  const base = join(minoPaths(env).dataDir, 'project-layers');
  const root = join(base, tree.sha256);
  if (existsSync(join(root, '.mino', 'layers'))) return root;
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const tmp = join(base, `.${tree.sha256.slice(0, 12)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    for (const f of tree.files) {
      const target = join(tmp, '.mino', 'layers', ...f.rel.split(posix.sep));
      mkdirSync(join(target, '..'), { recursive: true, mode: 0o700 });
      writeFileSync(target, f.bytes, { mode: f.executable ? 0o755 : 0o644, flag: 'wx' });
    }
    renameSync(tmp, root);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Another mino wrote the same snapshot first.
    if (existsSync(join(root, '.mino', 'layers'))) return root;
    throw new MinoError(`Cannot store the trusted project layers under ${base}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return root;
}
