import { readFileSync } from 'node:fs';

/**
 * The image ID that image reference `ref` names in an engine's image store index (the
 * containers/storage `images.json` that ContainerRuntime.imageStoreIndexPath gives), read without
 * the engine: a few milliseconds where `podman image inspect` costs 60–90. Undefined when the
 * file cannot be read or parsed, when no image, or more than one, carries exactly that name: the
 * caller then asks the engine.
 */
export function imageIdInStoreIndex(path: string, ref: string): string | undefined {
  let entries: unknown;
  try {
    entries = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(entries)) return undefined;
  let found: string | undefined;
  for (const entry of entries as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { id, names } = entry as { id?: unknown; names?: unknown };
    if (typeof id !== 'string' || !Array.isArray(names) || !names.includes(ref)) continue;
    if (found !== undefined) return undefined;
    found = id;
  }
  return found !== undefined && /^[0-9a-f]{64}$/.test(found) ? found : undefined;
}
