import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';

/**
 * Layer names and the aliases of the built-in layers. A layer name becomes a directory name,
 * a file name in the build context (`install-<name>.sh`) and part of image labels, so it is
 * checked before any of that happens.
 */

const LAYER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Names of the layers that ship with mino (directories under the built-in `layers/`). */
export const BUILTIN_LAYER_NAMES: readonly string[] = ['typescript', 'python', 'rust'];

/** Short names accepted for the built-in layers, as in mino 1.6. */
export const LAYER_ALIASES: Readonly<Record<string, string>> = {
  ts: 'typescript',
  node: 'typescript',
  py: 'python',
  cargo: 'rust',
};

/** True when `name` is a well-formed layer name (letters, digits, `_`, `-`; at most 64). */
export function isValidLayerName(name: string): boolean {
  return LAYER_NAME.test(name);
}

/** Returns `name` when it is a well-formed layer name; throws a usage error otherwise. */
export function validateLayerName(name: string): string {
  if (!isValidLayerName(name)) {
    throw new UsageError(
      `Invalid layer name '${printable(name)}'`,
      "Layer names use letters, digits, '_' and '-' (at most 64 characters), e.g. --layers typescript,python",
    );
  }
  return name;
}

/** The layer an alias stands for (`ts` → `typescript`), or undefined for a non-alias. */
export function aliasTarget(name: string): string | undefined {
  return Object.hasOwn(LAYER_ALIASES, name) ? LAYER_ALIASES[name] : undefined;
}

/** Splits a comma-separated layer list (`--layers`, `MINO_LAYERS`), trimming and dropping empties. */
export function splitLayerList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
