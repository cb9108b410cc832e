import { validateImageRef } from '../runtime/validate.js';
import { normalizeImageId } from './compose-hash.js';
import { mergeLayerEnv } from './layer-env.js';
import type { ResolvedLayer } from './resolve-layers.js';

/**
 * The Containerfile of a composed image: `FROM` the base, one
 * `COPY`+`RUN` per layer with an install script (in `--layers` order, as root), `USER developer`,
 * sorted `ENV` lines, `WORKDIR /workspace`, `CMD ["/bin/zsh"]` (ENTRYPOINT inherited).
 * Differences from mino 1.6:
 * - `FROM <image ID>`: exactly the image the tag was hashed over, even if the base tag moves
 *   meanwhile (the reference is kept in a comment);
 * - root packages go through whichever of apt-get, dnf or apk the base has, and are installed
 *   before the layer scripts so a script can use them (mino ran dnf after the scripts, which made
 *   its python layer install python3 twice);
 * - ENV values are always literal: `$`, `"` and `\` are escaped, so a layer value is never
 *   expanded at build time (only the generated PATH line uses `${PATH}`).
 */

/** Name of a layer's script in the build context and under /tmp in the image. */
export function scriptFileName(layerName: string): string {
  return `install-${layerName}.sh`;
}

/**
 * Quotes a value for a Containerfile `ENV` line: bare when it is plainly safe, otherwise in
 * double quotes with `\`, `"` and `$` escaped (read back literally by the builder).
 */
export function containerfileQuote(value: string): string {
  if (/^[A-Za-z0-9_./:@%+,=-]+$/.test(value)) return value;
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/**
 * The shell of the root-package `RUN` line: picks apt-get, dnf or apk, whichever the base image
 * has. Package names were validated (no leading '-', no shell metacharacters) and are passed as
 * positional parameters.
 */
export function rootInstallScript(packages: readonly string[]): string {
  return [
    `set -eu; set -- ${packages.join(' ')}`,
    'if command -v apt-get >/dev/null 2>&1; then',
    '    export DEBIAN_FRONTEND=noninteractive',
    '    apt-get update',
    '    apt-get install -y --no-install-recommends "$@"',
    '    rm -rf /var/lib/apt/lists/*',
    'elif command -v dnf >/dev/null 2>&1; then',
    '    dnf install -y --setopt=install_weak_deps=False "$@"',
    '    dnf clean all',
    'elif command -v apk >/dev/null 2>&1; then',
    '    apk add --no-cache "$@"',
    'else',
    '    echo "mino: the base image has no apt-get, dnf or apk to install: $*" >&2',
    '    exit 1',
    'fi',
  ]
    .join('; \\\n    ')
    .replace(/(then|else|do); \\/g, '$1 \\');
}

/** Everything the Containerfile depends on. */
export interface ContainerfileInput {
  /** The base image as the user knows it (comment only). */
  baseImageRef: string;
  /** The base image ID the composition was hashed over (`FROM`). */
  baseImageId: string;
  /** Layers in install order. */
  layers: readonly ResolvedLayer[];
}

/** Generates the Containerfile text (ends with a newline). */
export function generateContainerfile(input: ContainerfileInput): string {
  const { layers } = input;
  const id = normalizeImageId(input.baseImageId);
  const lines: string[] = [
    `# Composed by mino from layers: ${layers.map((l) => l.manifest.name).join(', ')}`,
    `# Base: ${validateImageRef(input.baseImageRef)} (image ${id.slice(0, 12)})`,
    `FROM ${id}`,
    '',
  ];

  const packages: string[] = [];
  const withPackages: string[] = [];
  for (const layer of layers) {
    if (layer.manifest.rootPackages.length > 0) withPackages.push(layer.manifest.name);
    for (const p of layer.manifest.rootPackages) if (!packages.includes(p)) packages.push(p);
  }
  if (packages.length > 0) {
    lines.push(
      `# Root-level packages from layer manifests: ${withPackages.join(', ')}`,
      'USER root',
      `RUN ${rootInstallScript(packages)}`,
      '',
    );
  }

  for (const layer of layers) {
    if (layer.script === undefined) continue;
    const name = layer.manifest.name;
    const script = scriptFileName(name);
    lines.push(
      `# Layer: ${name}`,
      'USER root',
      `COPY ${script} /tmp/${script}`,
      // 2>&1: the script's errors stay in order with its output (the builder copies a step's two
      // streams separately, so a failure's last message could land far above its last lines).
      `RUN chmod +x /tmp/${script} && /tmp/${script} 2>&1 && rm /tmp/${script}`,
      '',
    );
  }

  lines.push('USER developer');
  const env = mergeLayerEnv(layers, 'containerfile');
  for (const key of Object.keys(env).sort()) {
    const value = env[key]!;
    // The generated PATH line is the one place where the builder must expand a variable.
    lines.push(key === 'PATH' ? `ENV PATH="${value}"` : `ENV ${key}=${containerfileQuote(value)}`);
  }
  lines.push('', 'WORKDIR /workspace', 'CMD ["/bin/zsh"]', '');
  return lines.join('\n');
}
