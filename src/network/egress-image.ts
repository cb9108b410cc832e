import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MinoError } from '../common/errors.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';

/**
 * The image of a remote session's egress proxy (network/remote-egress.ts), made on the engine
 * from this machine's own files, with no registry and no base image: `FROM scratch` with the
 * Node that runs this mino (the single executable itself when mino is one), the shared libraries
 * it loads (from `ldd`), and mino's bundle. podman sends that context through the engine's
 * tunnel once; the tag is a hash of the files (path, size, time), so an engine keeps one image
 * per mino build and the next runs only ask whether it is there; a new build removes the older
 * builds' images that no container uses.
 */

/** Label of the proxy images (`mino cache` lists them: cache/cache-inventory.ts). */
export const LABEL_EGRESS_IMAGE = 'io.mino.egress-image';

/** Where the files go in the image. */
const APP_DIR = '/opt/mino';

/** The files of the image: `[path here, path in the image]`, and the proxy's command there. */
interface EgressImageFiles {
  files: [string, string][];
  command: string[];
}

/** The shared libraries `ldd` names for `binary` (none for a static one). */
function sharedLibraries(binary: string): string[] {
  const r = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  const libs: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

/** Where this mino's bundle is, undefined for the single executable (or when not run from the bundle). */
function bundlePath(): string | undefined {
  return typeof __filename === 'string' && __filename.endsWith('.cjs') ? __filename : undefined;
}

/** True when this mino is the single executable. */
function isSea(): boolean {
  return process.getBuiltinModule('node:sea').isSea();
}

/**
 * The proxy's command in its image: what the proxy container runs, and what `podman exec` runs
 * there for a control request (with `--control`). The same for every build of one kind.
 */
export function egressProxyCommand(sea = isSea()): string[] {
  return sea
    ? [`${APP_DIR}/mino`, '_egress-proxy-remote']
    : [`${APP_DIR}/node`, `${APP_DIR}/mino.cjs`, '_egress-proxy-remote'];
}

/** The proxy's command in an image of the other kind (the single executable's, or the bundle's). */
export function otherEgressProxyCommand(): string[] {
  return egressProxyCommand(!isSea());
}

/** The files of this mino's proxy image. */
function egressImageFiles(): EgressImageFiles {
  const node = process.execPath;
  const files: [string, string][] = sharedLibraries(node).map((lib) => [lib, lib]);
  if (isSea()) {
    files.push([node, `${APP_DIR}/mino`]);
    return { files, command: egressProxyCommand() };
  }
  const bundle = bundlePath();
  if (bundle === undefined) {
    throw new MinoError("The egress proxy of a remote engine needs mino's built bundle (dist/mino.cjs)", {
      hint: 'Run mino from its build (npm run build; bin/mino), or use --network none or bridge there',
    });
  }
  files.push([node, `${APP_DIR}/node`], [bundle, `${APP_DIR}/mino.cjs`]);
  return { files, command: egressProxyCommand() };
}

/** The image's tag: a hash of mino's version and of each file's path, size and time. */
function egressImageTag(files: EgressImageFiles, version: string): string {
  const hash = createHash('sha256').update(version);
  for (const [from, to] of files.files) {
    const st = statSync(from);
    hash.update(`\0${from}\0${to}\0${st.size}\0${st.mtimeMs}`);
  }
  return `localhost/mino-egress:${hash.digest('hex').slice(0, 16)}`;
}

/** Makes sure the engine has the proxy image; returns its tag and the proxy's command. */
export async function ensureEgressImage(
  runtime: ContainerRuntime,
  version: string,
  say?: (line: string) => void,
): Promise<{ tag: string; command: string[] }> {
  const files = egressImageFiles();
  const tag = egressImageTag(files, version);
  if (await runtime.imageExists(tag)) return { tag, command: files.command };
  say?.('Building the egress proxy image on the engine (once per mino build)');
  const context = mkdtempSync(join(tmpdir(), 'mino-egress-image-'));
  try {
    for (const [from, to] of files.files) {
      const target = join(context, 'rootfs', to);
      mkdirSync(dirname(target), { recursive: true });
      if (!existsSync(target)) copyFileSync(from, target);
    }
    writeFileSync(join(context, 'Containerfile'), 'FROM scratch\nCOPY rootfs/ /\n');
    // Built under a tag of its own, then named: podman 4.3 breaks on two builds of one tag at
    // once (two users' mino on one engine).
    const own = `${tag}-${randomBytes(4).toString('hex')}`;
    await runtime.buildImage(context, own, { file: 'Containerfile', labels: { [LABEL_EGRESS_IMAGE]: '1' } });
    await runtime.imageTag(own, tag);
    await runtime.imageRemove(own).catch(() => undefined);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  await removeOlderImages(runtime, tag);
  return { tag, command: files.command };
}

/** The proxy images of earlier mino builds on the engine that no container uses (best effort). */
async function removeOlderImages(runtime: ContainerRuntime, keep: string): Promise<void> {
  try {
    for (const image of await runtime.imageList()) {
      if (image.containers > 0 || image.labels[LABEL_EGRESS_IMAGE] !== '1') continue;
      // Not this build's own, nor another mino's build of it under way (its tag of its own).
      for (const name of image.names) if (!name.startsWith(keep)) await runtime.imageRemove(name);
    }
  } catch {
    // one in use meanwhile: it goes next time
  }
}
