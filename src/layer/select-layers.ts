import { UsageError } from '../common/errors.js';
import { BUILTIN_LAYER_NAMES, aliasTarget, splitLayerList, validateLayerName } from './layer-name.js';

/**
 * Which layers (or which single image) a run uses, by mino 1.6's precedence, first match wins:
 * `--layers` > `--image` > `MINO_LAYERS` > config `layers` > image alias (`--image ts` or a
 * configured image `python` means that built-in layer). Pure: the caller passes the values.
 */

/** The values selection looks at; all optional. */
export interface LayerSelectionInput {
  /** `--layers` values as given (each may itself be comma-separated). */
  cliLayers?: readonly string[];
  /** `--image`. */
  cliImage?: string;
  /** The `MINO_LAYERS` environment variable (comma-separated). */
  envLayers?: string;
  /** Config `layers`. */
  configLayers?: readonly string[];
  /** Config `image`. */
  configImage?: string;
}

/** Where a selection came from. */
type SelectionOrigin = 'cli' | 'env' | 'config' | 'image-alias';

/** The result of selection. */
export type LayerSelection =
  /** Compose these layers (names as requested, validated, duplicates removed). */
  | { kind: 'layers'; names: string[]; from: SelectionOrigin }
  /** Run this image as is. */
  | { kind: 'image'; image: string; from: 'cli' | 'config' }
  /** Nothing chosen: the caller's default (base image, or a prompt). */
  | { kind: 'default' };

function names(values: readonly string[], what: string): string[] {
  const out: string[] = [];
  for (const v of values.flatMap(splitLayerList)) {
    validateLayerName(v);
    if (!out.includes(v)) out.push(v);
  }
  if (out.length === 0)
    throw new UsageError(`${what} names no layer`, 'List layers separated by commas, e.g. --layers typescript,python');
  return out;
}

/** Applies the precedence; throws a usage error (exit 2) for `--layers` with `--image`. */
export function selectLayers(input: LayerSelectionInput): LayerSelection {
  const cliLayers = input.cliLayers ?? [];
  if (cliLayers.length > 0 && input.cliImage !== undefined) {
    throw new UsageError(
      '--layers and --image cannot be used together',
      'Use --layers to compose layers on the mino base image, or --image to run one image as is',
    );
  }
  if (cliLayers.length > 0) return { kind: 'layers', names: names(cliLayers, '--layers'), from: 'cli' };
  if (input.cliImage !== undefined) {
    const target = aliasTarget(input.cliImage) ?? (isBuiltinName(input.cliImage) ? input.cliImage : undefined);
    return target
      ? { kind: 'layers', names: [target], from: 'image-alias' }
      : { kind: 'image', image: input.cliImage, from: 'cli' };
  }
  const env = splitLayerList(input.envLayers ?? '');
  if (env.length > 0) return { kind: 'layers', names: names(env, 'MINO_LAYERS'), from: 'env' };
  if (input.configLayers && input.configLayers.length > 0) {
    return { kind: 'layers', names: names(input.configLayers, 'Config layers'), from: 'config' };
  }
  if (input.configImage !== undefined) {
    const target = aliasTarget(input.configImage) ?? (isBuiltinName(input.configImage) ? input.configImage : undefined);
    return target
      ? { kind: 'layers', names: [target], from: 'image-alias' }
      : { kind: 'image', image: input.configImage, from: 'config' };
  }
  return { kind: 'default' };
}

/** mino 1.6's image aliases that mean a layer: the built-in names themselves and their aliases. */
function isBuiltinName(image: string): boolean {
  return BUILTIN_LAYER_NAMES.includes(image);
}
