import type { ContainerRuntime, RemoteEndpoint, RunOutput, StoreLocation, VolumeInfo } from '../container-runtime.js';
import { NotSupportedError } from '../runtime-errors.js';
import { join } from 'node:path';
import { findProgram } from '../../common/find-program.js';
import { CommandHost } from '../../host/host.js';
import { openSharedTunnel, openTunnel, sshTargetOf } from './ssh-tunnel.js';
import { validateImageRef } from '../validate.js';
import { PodmanCli } from './podman-cli.js';
import { podmanError } from './podman-error.js';
import { PodmanRuntime } from './podman-runtime.js';

/**
 * The connection step of an ssh engine: one ssh tunnel for the whole process, or shared by the
 * processes of a minute when the endpoint has a tunnel directory (ssh-tunnel.ts), so podman
 * calls skip the ssh handshake each. Without an ssh client here, podman's own ssh is used.
 */
function sshTunnelFor(endpoint: RemoteEndpoint): ((cli: PodmanCli) => Promise<void>) | undefined {
  const knownHosts = endpoint.sshHome === undefined ? undefined : join(endpoint.sshHome, '.ssh', 'known_hosts');
  const target = sshTargetOf(endpoint.url, endpoint.identity, knownHosts);
  if (!target || process.env.MINO_ENGINE_TUNNEL === '0' || !findProgram('ssh', process.env.PATH)) return undefined;
  return async (cli) => {
    const tunnel =
      endpoint.tunnelDir === undefined ? await openTunnel(target) : await openSharedTunnel(target, endpoint.tunnelDir);
    cli.useEndpoint({ url: tunnel.url });
  };
}

/**
 * Podman on another machine (or as another user), driven by podman's remote client on this one:
 * every call is `podman --remote --url URL [--identity KEY] …`. Containers, images, volumes and
 * secrets live there; bind mounts name paths there, never here. What needs the engine's own
 * files (its store's paths, `unshare`, a store reset, `du` of volume directories) is not
 * available and says so.
 */
export class RemotePodmanRuntime extends PodmanRuntime {
  /**
   * @param endpoint where the engine is
   * @param localStore this machine's store images are shipped from (undefined: podman's default)
   */
  constructor(
    readonly endpoint: RemoteEndpoint,
    private readonly localStore?: StoreLocation,
    name = 'Podman (remote)',
  ) {
    super({
      remote: endpoint,
      name,
      prepare: sshTunnelFor(endpoint),
      ...(endpoint.sshHome === undefined
        ? {}
        : { host: new CommandHost({ env: { ...process.env, HOME: endpoint.sshHome } }) }),
    });
  }

  private unsupported(what: string): NotSupportedError {
    return new NotSupportedError(`${what} is not available on a remote engine (${this.endpoint.url})`, {
      engineExitCode: 1,
      stderr: '',
      hint: 'Run it on the engine machine itself',
    });
  }

  /** The engine's version (the server's, not this client's). */
  override async version(): Promise<string> {
    return (await this.podman.ok(['version', '--format', '{{.Server.Version}}'])).trim();
  }

  override withStore(_store: StoreLocation): ContainerRuntime {
    throw this.unsupported('Another image store');
  }

  override unshare(_argv: readonly string[]): Promise<RunOutput> {
    return Promise.reject(this.unsupported("Running a program in the engine's user namespace"));
  }

  override systemReset(): Promise<void> {
    return Promise.reject(this.unsupported('Resetting the store'));
  }

  override systemMigrate(): Promise<void> {
    return Promise.reject(this.unsupported('podman system migrate'));
  }

  override imageStoreIndexPath(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  /**
   * Ships `image` from this machine's engine to the remote one: `podman save` here piped into
   * `podman --remote load` (no registry needed; the archive streams, nothing is written to disk).
   */
  override async copyImageFromDefaultStore(image: string): Promise<void> {
    const ref = validateImageRef(image);
    const save = new PodmanCli(new CommandHost(), this.localStore).hostArgv(['save', '--format', 'oci-archive', ref]);
    const args = ['load'];
    const { source, target } = await this.podman.pipeFrom(save, args);
    if (source.exitCode !== 0) throw podmanError(['save', ref], source.exitCode, source.stderr);
    if (target.exitCode !== 0) throw podmanError(args, target.exitCode, target.stderr);
  }

  /** Sizes are not measured on a remote engine (its volume directories are not here): empty. */
  override volumeDiskUsage(_prefix: string, _listed?: readonly VolumeInfo[]): Promise<Map<string, number>> {
    return Promise.resolve(new Map());
  }
}
