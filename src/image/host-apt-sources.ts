import type { Host } from '../host/host.js';
import { parseAptSourcesFile, pickDebianMirror, type AptSource } from './apt-sources.js';

/** Reads the apt sources of the podman host (`/etc/apt/sources.list` and `sources.list.d/*`). */
async function readHostAptSources(host: Host): Promise<AptSource[]> {
  const files = ['/etc/apt/sources.list'];
  const listing = await host.run(['ls', '-1', '/etc/apt/sources.list.d']);
  if (listing.exitCode === 0) {
    for (const name of listing.stdout
      .split('\n')
      .map((n) => n.trim())
      .sort()) {
      if (/^[A-Za-z0-9_.-]+\.(list|sources)$/.test(name)) files.push(`/etc/apt/sources.list.d/${name}`);
    }
  }
  const sources: AptSource[] = [];
  for (const file of files) {
    const result = await host.run(['cat', '--', file]);
    if (result.exitCode === 0) sources.push(...parseAptSourcesFile(file, result.stdout));
  }
  return sources;
}

/** The Debian mirror configured on the podman host, or undefined when it has none. */
export async function hostDebianMirror(host: Host): Promise<string | undefined> {
  return pickDebianMirror(await readHostAptSources(host));
}
