import { join } from 'node:path';
import { jsonObject, readJsonCache, writeJsonCache } from '../common/json-cache-file.js';
import type { SessionContext } from '../context/session-context.js';
import { terminatingBundleText, upstreamTrustText } from '../credentials/host-ca-bundle.js';
import {
  caBundleDigest,
  caBundleSecretName,
  ensureCaBundleSecret,
  repairCaBundleSecret,
} from '../engine/engine-ca-secrets.js';
import type { EgressSecrets } from '../network/egress-secrets.js';
import { poolRoot, validatePoolKey, type PoolRecord } from './pool-index.js';

/**
 * The TLS side of a remote pool whose proxies terminate TLS (credentials kept at the proxy, HTTPS
 * rules on method and path): as a local pool's warm container (warm-tls.ts), each warm container
 * trusts a CA whose key only its proxy holds; on a remote engine it is ONE CA per pool, the POOL
 * CA, whose public bundle (the host's trust store and its certificate) is the engine's
 * content-addressed bundle secret (engine/engine-ca-secrets.ts), mounted where a session's
 * bundle goes. Its key lives here, in the pool's private directory (0600 in a 0700 directory,
 * removed with the pool by drain), and goes to each warm proxy on the stdin of `podman exec -i`
 * before it listens (never an argument, a variable, a file or a podman secret on the engine); the
 * claim hands the proxy the run's credentials with its policy in one request, and the command
 * gets their placeholders. A pool CA older than {@link POOL_CA_DAYS} days is replaced (its
 * certificate is valid for 30).
 */

/** Days a pool CA is used for new warm containers. */
const POOL_CA_DAYS = 7;

/** What the pool keeps of its CA: the key (secret), and the bundle secrets made with it. */
interface StoredPoolCa {
  certPem: string;
  keyPem: string;
  created_at: number;
  /** Bundle secrets of this CA on the pool's engine (drain removes them). */
  secrets: string[];
}

function caPath(stateDir: string, key: string): string {
  return join(poolRoot(stateDir), validatePoolKey(key), 'remote-ca.json');
}

function readPoolCa(stateDir: string, key: string): StoredPoolCa | undefined {
  return readJsonCache(caPath(stateDir, key), (v) => {
    const o = jsonObject(v);
    return o &&
      typeof o.certPem === 'string' &&
      typeof o.keyPem === 'string' &&
      typeof o.created_at === 'number' &&
      Array.isArray(o.secrets)
      ? (o as unknown as StoredPoolCa)
      : undefined;
  });
}

/** The bundle secrets the pool CA of `key` was made into (for drain), none when it has none. */
export function poolCaSecrets(stateDir: string, key: string): string[] {
  return readPoolCa(stateDir, key)?.secrets.filter((s) => typeof s === 'string') ?? [];
}

/** A warm container's CA bundle secret on the engine, and its proxy's secrets (the CA, no credential). */
export interface RemoteWarmTls {
  secret: string;
  secrets: EgressSecrets;
  /** After a failed start: true when the bundle secret was missing and is made again. */
  repair(): Promise<boolean>;
}

/**
 * The pool CA of remote pool `record` (made, or replaced when old) with its bundle secret on the
 * engine (made when the memo does not know it).
 */
export async function remoteWarmTls(
  ctx: SessionContext,
  record: PoolRecord & { engine: string },
  env: NodeJS.ProcessEnv,
  now = Date.now(),
): Promise<RemoteWarmTls> {
  let stored = readPoolCa(ctx.stateDir, record.key);
  if (!stored || now - stored.created_at > POOL_CA_DAYS * 86_400_000) {
    const { createSessionCa } = await import('../network/proxy/tls-ca.js');
    const ca = createSessionCa(`pool ${record.key.slice(0, 12)}`, new Date(now));
    stored = { certPem: ca.certPem, keyPem: ca.keyPem, created_at: now, secrets: stored?.secrets ?? [] };
  }
  const trust = upstreamTrustText(env);
  const text = terminatingBundleText(trust, stored.certPem);
  const secret = caBundleSecretName(ctx.stateKey, caBundleDigest(text));
  if (!stored.secrets.includes(secret)) stored.secrets = [...stored.secrets, secret];
  // Kept before the secret is made, so drain always knows what to remove.
  if (!writeJsonCache(caPath(ctx.stateDir, record.key), stored, 0o700))
    throw new Error("could not keep the pool's CA in its private directory");
  const target = { runtime: ctx.runtime, engine: record.engine, stateDir: ctx.stateDir, stateKey: ctx.stateKey };
  await ensureCaBundleSecret(target, secret, () => text);
  return {
    secret,
    repair: () => repairCaBundleSecret(target, secret, () => text).catch(() => false),
    secrets: {
      version: 1,
      ca: { certPem: stored.certPem, keyPem: stored.keyPem },
      credentials: [],
      upstreamCa: [trust, ...(record.egress?.upstreamCa ?? [])],
    },
  };
}
