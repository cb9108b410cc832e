/**
 * Files embedded in the running executable. The single executable (dist/mino) carries assets
 * (the built-in layers); its entry point registers a reader for them at start-up. The Node bundle
 * started by bin/mino registers none and reads the checkout's files instead.
 */

/** Returns the bytes of one embedded asset, or undefined when there is no such asset. */
export type AssetReader = (name: string) => Uint8Array | undefined;

let reader: AssetReader | undefined;

/** Registers the running executable's asset reader (called once by the single executable's entry). */
export function useEmbeddedAssets(read: AssetReader | undefined): void {
  reader = read;
}

/** True when this process runs an executable with embedded assets. */
export function hasEmbeddedAssets(): boolean {
  return reader !== undefined;
}

/** The bytes of an embedded asset; undefined when there are no assets or no such asset. */
export function embeddedAsset(name: string): Uint8Array | undefined {
  return reader?.(name);
}
