import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import type { KubeRendering } from './kube-objects.js';
import { toYamlStream } from './yaml-emit.js';

/** The output formats of `mino kube render`. */
const KUBE_FORMATS = ['yaml', 'json'] as const;

/** One of {@link KUBE_FORMATS}. */
export type KubeFormat = (typeof KUBE_FORMATS)[number];

/** Checks an `--output` value: exit 2 for anything but yaml or json. */
export function parseKubeFormat(value: string): KubeFormat {
  if ((KUBE_FORMATS as readonly string[]).includes(value)) return value as KubeFormat;
  throw new UsageError(`Invalid output format '${printable(value)}'`, 'Use --output yaml (the default) or json');
}

/**
 * The rendering as text: YAML documents after `#` comments (how to apply them), or one JSON `List`
 * (`kubectl apply -f` takes both). Newline-terminated.
 */
export function formatKube(rendering: KubeRendering, format: KubeFormat): string {
  if (format === 'yaml') return toYamlStream(rendering.objects, rendering.comments);
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rendering.objects }, null, 2)}\n`;
}
