import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MinoError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { hasUserInstall, parseLayerManifest, type LayerManifest } from './layer-manifest.js';
import { aliasTarget, isValidLayerName, validateLayerName } from './layer-name.js';
import { isErrno } from '../common/errno.js';

/**
 * Finding layers on disk. A name resolves to the first directory that has it:
 * `<project>/.mino/layers/<name>/` > `$XDG_CONFIG_HOME/mino/layers/<name>/` > built-in
 * `layers/<name>/`. Aliases of the built-in layers (`ts`, `node`, `py`, `cargo`) are tried after
 * the name itself, so a project layer can override `typescript` for `--layers ts` too.
 */

/** Where a layer comes from. */
export type LayerSource = 'project' | 'user' | 'built-in';

/** The directories layers are searched in. */
export interface LayerDirs {
  /** The project directory (its `.mino/layers/` is searched first); omit outside a project. */
  projectDir?: string;
  /** mino's configuration directory (`$XDG_CONFIG_HOME/mino`); its `layers/` is searched second. */
  configDir: string;
  /** The built-in layers directory (see builtinLayersDir in src/image/layers-dir.ts). */
  builtinDir: string;
}

/** A layer found on disk and validated. */
export interface ResolvedLayer {
  manifest: LayerManifest;
  /** `install.sh` content; undefined when absent or only comments and blank lines. */
  script: string | undefined;
  source: LayerSource;
  /** The layer's directory. */
  dir: string;
}

/** Largest install.sh accepted (bytes). */
const MAX_SCRIPT_BYTES = 1024 * 1024;

/** The layer roots in precedence order. */
function layerRoots(dirs: LayerDirs): Array<{ source: LayerSource; root: string }> {
  const roots: Array<{ source: LayerSource; root: string }> = [];
  if (dirs.projectDir !== undefined) roots.push({ source: 'project', root: join(dirs.projectDir, '.mino', 'layers') });
  roots.push({ source: 'user', root: join(dirs.configDir, 'layers') });
  roots.push({ source: 'built-in', root: dirs.builtinDir });
  return roots;
}

/** True when a script does something (has a line that is neither blank nor a comment). */
export function scriptHasContent(script: string): boolean {
  return script.split('\n').some((l) => {
    const t = l.trim();
    return t.length > 0 && !t.startsWith('#');
  });
}

async function kind(path: string): Promise<'dir' | 'file' | 'other' | undefined> {
  try {
    const st = await stat(path);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
    throw err;
  }
}

async function readLimited(path: string, max: number, what: string): Promise<string> {
  const st = await stat(path);
  if (!st.isFile()) throw new MinoError(`${path} is not a regular file`, { hint: `Make ${what} a plain file` });
  if (st.size > max)
    throw new MinoError(`${path} is larger than ${Math.round(max / 1024)} KiB`, { hint: `Keep ${what} small` });
  return readFile(path, 'utf8');
}

/**
 * Loads the layer in `dir` (named `name`, from `source`): validates layer.toml and reads
 * install.sh, which is required unless the layer has `[user_install]` or `[root_install]`.
 */
export async function loadLayer(dir: string, name: string, source: LayerSource): Promise<ResolvedLayer> {
  const manifestPath = join(dir, 'layer.toml');
  if ((await kind(manifestPath)) !== 'file') {
    throw new MinoError(`Layer directory ${dir} has no layer.toml`, {
      hint: `Add ${manifestPath} with a [layer] table (name = "${name}", description, version)`,
    });
  }
  const manifest = await parseLayerManifest(
    manifestPath,
    await readLimited(manifestPath, 64 * 1024, 'layer.toml'),
    name,
  );
  const scriptPath = join(dir, 'install.sh');
  const scriptKind = await kind(scriptPath);
  let script: string | undefined;
  if (scriptKind !== undefined) {
    const text = await readLimited(scriptPath, MAX_SCRIPT_BYTES, 'install.sh');
    script = scriptHasContent(text) ? text : undefined;
  } else if (!hasUserInstall(manifest) && manifest.rootPackages.length === 0) {
    throw new MinoError(`Layer '${name}' (${dir}) has no install.sh`, {
      hint: `Add ${scriptPath} (run as root at image build time), or a [root_install] or [user_install] table to layer.toml`,
    });
  }
  return { manifest, script, source, dir };
}

async function findIn(dirs: LayerDirs, name: string): Promise<ResolvedLayer | undefined> {
  for (const { source, root } of layerRoots(dirs)) {
    const dir = join(root, name);
    const k = await kind(dir);
    if (k !== 'dir') continue;
    // Built-in `layers/` also holds the base image definition, which is not a layer.
    if (source === 'built-in' && (await kind(join(dir, 'layer.toml'))) !== 'file') continue;
    return loadLayer(dir, name, source);
  }
  return undefined;
}

/** Resolves one layer name (or alias); throws a MinoError listing the available layers when not found. */
export async function resolveLayer(name: string, dirs: LayerDirs): Promise<ResolvedLayer> {
  validateLayerName(name);
  const found = await findIn(dirs, name);
  if (found) return found;
  const target = aliasTarget(name);
  const viaAlias = target === undefined ? undefined : await findIn(dirs, target);
  if (viaAlias) return viaAlias;
  const available = [...new Set((await listLayers(dirs)).map((l) => l.name))].sort();
  const roots = layerRoots(dirs)
    .filter((r) => r.source !== 'built-in')
    .map((r) => join(r.root, name));
  throw new MinoError(`Layer '${name}' not found`, {
    hint: `Available layers: ${available.join(', ') || 'none'}. To add one, create layer.toml and install.sh in ${roots.join(' or ')}`,
  });
}

/**
 * Resolves layer names in the given order. A layer requested twice (also through an alias,
 * `ts,typescript`) is kept once, at its first position.
 */
export async function resolveLayers(names: readonly string[], dirs: LayerDirs): Promise<ResolvedLayer[]> {
  const out: ResolvedLayer[] = [];
  for (const name of names) {
    const layer = await resolveLayer(name, dirs);
    if (!out.some((l) => l.manifest.name === layer.manifest.name && l.dir === layer.dir)) out.push(layer);
  }
  return out;
}

/** One layer directory seen by {@link listLayers}. */
export interface LayerListing {
  name: string;
  source: LayerSource;
  dir: string;
  description?: string;
  version?: string;
  /** The source of the layer that wins over this one, when this one is shadowed. */
  shadowedBy?: LayerSource;
  /** Why the layer cannot be used (invalid layer.toml, missing install.sh). */
  error?: string;
}

/**
 * Every layer directory in every root, in precedence order then by name. A layer also present in
 * a root of higher precedence is marked `shadowedBy`; broken layers are listed with `error`.
 */
export async function listLayers(dirs: LayerDirs): Promise<LayerListing[]> {
  const out: LayerListing[] = [];
  const winner = new Map<string, LayerSource>();
  for (const { source, root } of layerRoots(dirs)) {
    let entries: string[];
    try {
      entries = (await readdir(root, { withFileTypes: true }))
        .filter((e) => e.isDirectory() || e.isSymbolicLink())
        .map((e) => e.name)
        .sort();
    } catch {
      continue;
    }
    for (const name of entries) {
      const dir = join(root, name);
      if ((await kind(dir)) !== 'dir') continue;
      if (source === 'built-in' && (await kind(join(dir, 'layer.toml'))) !== 'file') continue;
      const entry: LayerListing = { name, source, dir };
      if (!isValidLayerName(name)) {
        entry.name = printable(name);
        entry.error = 'invalid layer name';
      } else {
        try {
          const layer = await loadLayer(dir, name, source);
          entry.description = layer.manifest.description;
          entry.version = layer.manifest.version;
        } catch (err) {
          entry.error = (err as Error).message;
        }
      }
      const first = winner.get(name);
      if (first !== undefined) entry.shadowedBy = first;
      else winner.set(name, source);
      out.push(entry);
    }
  }
  return out;
}
