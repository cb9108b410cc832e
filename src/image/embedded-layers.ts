import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { embeddedAsset } from '../common/embedded-assets.js';
import { MinoError } from '../common/errors.js';

/**
 * The built-in layers inside the single executable: scripts/package-sea.mjs embeds the checkout's
 * `layers/` tree as two assets, and the first command that needs the tree writes it out under the
 * user's data directory, in a directory named after the tree's content, so every later start (and
 * every other copy of the same binary) finds it ready.
 */

/** Asset holding the tree: `{"format":1,"files":[{"path","mode","data"(base64)}]}`. */
export const LAYERS_ASSET = 'layers.json';
/** Asset holding the SHA-256 (hex) of the {@link LAYERS_ASSET} bytes: the directory name. */
export const LAYERS_ID_ASSET = 'layers.sha256';

/** One file of the embedded tree. */
export interface EmbeddedFile {
  /** `/`-separated path relative to `layers/`. */
  path: string;
  /** Permission bits (0o644 or 0o755). */
  mode: number;
  /** The file's bytes, base64. */
  data: string;
}

// Relative, `/`-separated, no empty, `.` or `..` segment.
const SEGMENT = String.raw`(?!\.\.?(?:/|$))[A-Za-z0-9_.][A-Za-z0-9_.-]*`;
const SAFE_PATH = new RegExp(`^(?:${SEGMENT}/)*${SEGMENT}$`);

/** Parses and checks the embedded tree (relative paths without `..`, sane modes). */
export function parseLayersAsset(bytes: Uint8Array): EmbeddedFile[] {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new MinoError('The built-in layers embedded in this mino binary are damaged', {
      cause: err,
      hint: 'Rebuild or reinstall mino (npm run package)',
    });
  }
  const files = (doc as { format?: unknown; files?: unknown })?.files;
  if ((doc as { format?: unknown })?.format !== 1 || !Array.isArray(files)) {
    throw new MinoError('The built-in layers embedded in this mino binary have an unknown format', {
      hint: 'Rebuild or reinstall mino (npm run package)',
    });
  }
  return files.map((f: Partial<EmbeddedFile>) => {
    if (
      typeof f?.path !== 'string' ||
      !SAFE_PATH.test(f.path) ||
      typeof f.data !== 'string' ||
      (f.mode !== 0o644 && f.mode !== 0o755)
    ) {
      throw new MinoError(
        `The built-in layers embedded in this mino binary hold an invalid entry (${JSON.stringify(f?.path)})`,
        { hint: 'Rebuild or reinstall mino (npm run package)' },
      );
    }
    return { path: f.path, mode: f.mode, data: f.data };
  });
}

/** Writes the files into `dir` (which exists and is empty). */
function writeTree(dir: string, files: readonly EmbeddedFile[]): void {
  for (const f of files) {
    const target = join(dir, ...f.path.split('/'));
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    writeFileSync(target, Buffer.from(f.data, 'base64'), { mode: f.mode, flag: 'wx' });
    chmodSync(target, f.mode); // the umask may have removed bits
  }
}

/** Whether `dir` exists; throws when it exists but is not a private directory of this user. */
function checkExisting(dir: string): boolean {
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const mine = typeof process.getuid !== 'function' || st.uid === process.getuid();
  if (!st.isDirectory() || !mine || (st.mode & 0o022) !== 0 || !existsSync(join(dir, 'base', 'Containerfile'))) {
    throw new MinoError(`${dir} is not an intact private copy of mino's built-in layers`, {
      hint: `Remove it (rm -rf ${dir}); mino writes it again when it is next needed`,
    });
  }
  return true;
}

/**
 * The directory of the embedded built-in layers under `dataDir` (`<dataDir>/builtin-layers/<sha256>`),
 * extracted on first use: into a private temporary directory next to it, then renamed into place
 * (atomic; a concurrent mino that wins the race is fine). Undefined when the running executable
 * embeds no layers.
 */
export function embeddedLayersDir(dataDir: string): string | undefined {
  const idBytes = embeddedAsset(LAYERS_ID_ASSET);
  if (idBytes === undefined) return undefined;
  const id = Buffer.from(idBytes).toString('utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(id)) {
    throw new MinoError('The built-in layers embedded in this mino binary have an invalid id', {
      hint: 'Rebuild or reinstall mino (npm run package)',
    });
  }
  const parent = join(dataDir, 'builtin-layers');
  const target = join(parent, id);
  if (checkExisting(target)) return target;
  const bytes = embeddedAsset(LAYERS_ASSET);
  if (bytes === undefined)
    throw new MinoError('The built-in layers are missing from this mino binary', {
      hint: 'Rebuild or reinstall mino (npm run package)',
    });
  const files = parseLayersAsset(bytes);
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(parent, `.${id.slice(0, 12)}-`));
  try {
    writeTree(tmp, files);
    chmodSync(tmp, 0o700);
    try {
      renameSync(tmp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another mino extracted the same tree first: use theirs.
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  checkExisting(target);
  return target;
}
