import { readFileSync } from 'node:fs';
import type { ContainerRuntime, ContainerSummary, VolumeInfo } from '../../../src/runtime/container-runtime.js';
import { PodmanError, VolumeInUseError } from '../../../src/runtime/podman/podman-error.js';

/** The podman image list fixture (mino-base tags, composed images, the test image). */
export const IMAGES_JSON = readFileSync(new URL('../../fixtures/podman/images-mino.json', import.meta.url), 'utf8');

/**
 * A fake engine for the volume and cache use cases: volumes, containers and images in memory,
 * every call recorded. A volume named in a container's `uses` label (comma-separated) is in use: podman
 * refuses to remove it without force.
 */
export class FakeEngine {
  volumes = new Map<string, VolumeInfo>();
  containers: ContainerSummary[] = [];
  usage = new Map<string, number>();
  imagesJson = IMAGES_JSON;
  removedImages: string[] = [];
  busyImages = new Set<string>();
  calls: string[] = [];

  runtime(): ContainerRuntime {
    const impl: Partial<ContainerRuntime> = {
      volumeList: async (prefix) => {
        this.calls.push(`volumeList ${prefix}`);
        return [...this.volumes.values()].filter((v) => v.name.startsWith(prefix));
      },
      volumeInspect: async (name) => {
        this.calls.push(`volumeInspect ${name}`);
        return this.volumes.get(name);
      },
      volumeCreate: async (name, labels) => {
        this.calls.push(`volumeCreate ${name}`);
        if (!this.volumes.has(name)) this.volumes.set(name, { name, labels, mountpoint: `/vol/${name}` });
      },
      volumeRemove: async (name, options) => {
        this.calls.push(`volumeRemove ${name} force=${options?.force ?? true}`);
        const users = this.containers.filter((c) => (c.labels['uses'] ?? '').split(',').includes(name));
        if (users.length > 0 && options?.force === false) throw new VolumeInUseError(name, `${'a'.repeat(64)}: volume is being used`);
        this.volumes.delete(name);
      },
      volumeDiskUsage: async (prefix, listed) => {
        this.calls.push(`volumeDiskUsage ${prefix}${listed ? ' (listed)' : ''}`);
        return new Map([...this.usage].filter(([k]) => k.startsWith(prefix)));
      },
      listContainers: async () => {
        this.calls.push('listContainers');
        return this.containers;
      },
      logs: async (id) => {
        this.calls.push(`logs ${id}`);
        return { stdout: `output of ${id}\n`, stderr: '' };
      },
      remove: async (id) => {
        this.calls.push(`remove ${id}`);
        this.containers = this.containers.filter((c) => c.id !== id);
      },
      imageRemove: async (ref) => {
        this.calls.push(`imageRemove ${ref}`);
        if (this.busyImages.has(ref)) throw new PodmanError(['rmi'], 2, `image used by ${'b'.repeat(64)}: image is in use by a container`);
        this.removedImages.push(ref);
      },
      hostExec: async (argv) => {
        this.calls.push(`hostExec ${argv.join(' ')}`);
        if (argv.join(' ') === 'podman images --format json') return { exitCode: 0, stdout: this.imagesJson, stderr: '', signal: null };
        throw new Error(`unexpected host command ${argv.join(' ')}`);
      },
    };
    return new Proxy(impl as ContainerRuntime, {
      get: (target, prop: string) => (prop in target ? target[prop as keyof ContainerRuntime] : () => {
        throw new Error(`unexpected runtime call ${prop}`);
      }),
    });
  }
}

/** A container summary. */
export function container(name: string, state: ContainerSummary['state'], labels: Record<string, string>, exitCode?: number): ContainerSummary {
  return { id: `${name}-id`, name, image: 'localhost/x:1', state, labels, exitCode, createdAt: 0 };
}
