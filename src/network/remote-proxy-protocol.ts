import type { EgressSecrets, ProxiedCredential } from './egress-secrets.js';
import type { NetworkRecord } from './network-record.js';
import type { PolicyText } from './policy.js';

/**
 * What mino here and a session's proxy container on a remote engine say to each other: the
 * launch (the container's `MINO_EGRESS_LAUNCH` variable: policy and where to listen, nothing
 * secret); the proxy's stdout lines, read back through the engine's logs: `ready ADDR:PORT`
 * once it listens, `record JSON` whenever its network record changed (the last one counts),
 * `denied JSON` for each denial (audited here when the session ends, one event each, as the
 * local proxy audits them);
 * and control requests (the session CA and credentials once, live policy changes): one JSON
 * line on the stdin of `podman exec PROXY … --control` (network/remote-control.ts), which passes
 * it to the proxy's control socket inside its own container and prints the answer.
 */

/** The proxy's control socket, inside its container (the `--read-only` container's /tmp tmpfs). */
export const REMOTE_CONTROL_SOCKET = '/tmp/mino-egress-control.sock';

/** A control request to a remote proxy. */
export type RemoteControlRequest =
  | { op: 'status' }
  | { op: 'allow' | 'deny'; rules: string[] }
  /**
   * A run claimed the warm container this warm proxy serves (pool/remote-warm-egress.ts): from
   * now on it is that session's proxy, with its policy (the key keeps only the mode).
   */
  | {
      op: 'claim';
      session: string;
      policy: PolicyText;
      presets: string[];
      /** A terminating pool's claim: the run's credentials, real values (secret). */
      credentials?: ProxiedCredential[];
    }
  /** The session CA with its key, the credentials and the upstream CAs (secret; once, at start). */
  | { op: 'secrets'; secrets: EgressSecrets };

/** Its answer. */
export type RemoteControlResponse =
  | { ok: true; policy: PolicyText; record: NetworkRecord }
  | { ok: false; error: string };

/** Prefix of the proxy's line saying it listens, with its address. */
export const REMOTE_PROXY_READY = 'ready';
/** Prefix of the proxy's lines carrying its network record. */
export const REMOTE_PROXY_RECORD = 'record';
/**
 * Prefix of a warm proxy's line naming its internal network (its launch's `network`): a claimed
 * proxy is renamed to its session's name, its network keeps the warm one, and whoever ends the
 * session finds it here.
 */
export const REMOTE_PROXY_NETWORK = 'network';
/** Prefix of the proxy's lines carrying one denial each (for the audit log here; at most 1,000). */
export const REMOTE_PROXY_DENIED = 'denied';

/** One denial as the proxy prints it. */
export interface RemoteDenial {
  destination: string;
  host: string;
  port: number;
  reason: string;
  detail: string;
  protocol: string;
}

/** The launch of a remote proxy. */
export interface RemoteProxyLaunch {
  session: string;
  policy: PolicyText;
  presets: string[];
  /** The session's internal network (IPv4 CIDR): the proxy listens on its address there. */
  subnet: string;
  port: number;
  /**
   * The proxy waits for its secrets (a `secrets` control request) before it listens: the
   * session terminates TLS (credentials kept at the proxy, or HTTPS rules on method and path).
   */
  secrets?: boolean;
  /**
   * A warm proxy (pool/remote-warm-egress.ts): allows nothing and keeps no session until a
   * `claim`; its internal network's name, which it prints ({@link REMOTE_PROXY_NETWORK}).
   */
  warm?: { network: string; ttlSeconds?: number };
}

/** Names of the internal networks of remote sessions' proxies (network/remote-egress.ts). */
const REMOTE_EGRESS_NETWORK = /^mino-egress-net-[0-9a-f]{16}$/;

/** Parses and checks a launch; throws with a clear message. */
export function parseRemoteProxyLaunch(text: string): RemoteProxyLaunch {
  const launch = JSON.parse(text) as RemoteProxyLaunch;
  if (
    typeof launch?.session !== 'string' ||
    !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(String(launch.subnet)) ||
    !Number.isInteger(launch.port) ||
    (launch.policy?.mode !== 'allowlist' && launch.policy?.mode !== 'learn') ||
    (launch.secrets !== undefined && typeof launch.secrets !== 'boolean') ||
    (launch.warm !== undefined && !REMOTE_EGRESS_NETWORK.test(String(launch.warm?.network)))
  )
    throw new Error('MINO_EGRESS_LAUNCH is not a remote egress launch of this mino version');
  return launch;
}

/** The proxy's listening address (`10.89.3.2:3128`) in its output, undefined before it is ready. */
export function readyAddress(output: string): string | undefined {
  const m = new RegExp(`^${REMOTE_PROXY_READY} (\\d+\\.\\d+\\.\\d+\\.\\d+:\\d+)$`, 'm').exec(output);
  return m?.[1];
}

/** The warm network a claimed proxy's output names (validated), undefined for a cold session's proxy. */
export function warmNetworkOf(output: string): string | undefined {
  const m = new RegExp(`^${REMOTE_PROXY_NETWORK} (\\S+)$`, 'm').exec(output);
  return m?.[1] !== undefined && REMOTE_EGRESS_NETWORK.test(m[1]) ? m[1] : undefined;
}

/** The last network record in the proxy's output, undefined when there is none. */
export function lastRecord(output: string): NetworkRecord | undefined {
  const lines = output.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.startsWith(`${REMOTE_PROXY_RECORD} `)) continue;
    try {
      const record = JSON.parse(line.slice(REMOTE_PROXY_RECORD.length + 1)) as NetworkRecord;
      if (record?.version === 1 && Array.isArray(record.destinations)) return record;
    } catch {
      // a line cut short: an earlier one
    }
  }
  return undefined;
}

/** The denials in the proxy's output, in order (lines cut short are skipped). */
export function deniedLines(output: string): RemoteDenial[] {
  const out: RemoteDenial[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith(`${REMOTE_PROXY_DENIED} `)) continue;
    try {
      const d = JSON.parse(line.slice(REMOTE_PROXY_DENIED.length + 1)) as RemoteDenial;
      if (typeof d?.destination === 'string' && typeof d.reason === 'string') out.push(d);
    } catch {
      // cut short
    }
  }
  return out;
}
